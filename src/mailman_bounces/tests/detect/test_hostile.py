"""Hostile mail: detect() stays fast and small whatever the message's shape.

Each input is one of issue 14's findings (or one found while fixing them),
at a size where the engine before the fix took from several seconds to
minutes.  Each runs in its own process, so that a regression fails by a
generous bound or by the process being killed, and never hangs the run.  The
bound is relative, so that a loaded machine slows both sides alike: ten times
what the same process takes for a benign notice of 200 KB (what the engine
reads of a text part), plus half a second.  The fixed engine takes about as
long for each hostile input as for that notice; before, from 20 to over
1,000 times as long.
Where the bound can be an operation count or a memory figure, it is.
(Speed itself is measured in ``bench/hostile_bench.py``.)
"""

from __future__ import annotations

import base64
import email
import json
import os
import subprocess
import sys
import tracemalloc
from email.message import Message

import pytest

from mailman_bounces.detect import Kind, detect
from mailman_bounces.detect import message as message_module
from mailman_bounces.detect.message import MAX_INPUT_BYTES

TIMES_BENIGN = 10   # a hostile input may take this many times a benign notice...
SLACK = 0.5         # ...plus this many seconds
KILL_AFTER = 120    # seconds: a runaway process is killed, the test fails
HEAD = ('From: MAILER-DAEMON@example.org\nTo: list-bounces@example.com\n'
        'Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n')


def _single(ctype: str, body: str, extra: str = '') -> str:
    return f'{HEAD}{extra}Content-Type: {ctype}\n\n{body}\n'


def _multipart(parts: list[str]) -> str:
    inner = ''.join(f'--B\n{part}\n' for part in parts)
    return f'{HEAD}Content-Type: multipart/mixed; boundary="B"\n\n{inner}--B--\n'


def _nested(depth: int) -> str:
    text = 'Content-Type: text/plain\n\nhello\n'
    for level in range(depth):
        text = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{text}\n--b{level}--\n'
    return HEAD + text


# name: (message text, way in: 'bytes' or 'message' as Mailman passes it)
CASES = {
    'html <br repeated, 200 KB': (lambda: _single('text/html', '<br' * 66_667), 'bytes'),
    'four such HTML parts': (lambda: _multipart(['Content-Type: text/html\n\n' + '<br' * 66_667] * 4), 'message'),
    'html <p  repeated, 200 KB': (lambda: _single('text/html', '<p ' * 66_667), 'bytes'),
    'html with unclosed tags, 1.6 MB': (lambda: _single('text/html', '<div class="x" title="y" ' * 64_000), 'bytes'),
    'Subject of RFC 2047 words, 2 MB': (
        lambda: _single('text/plain', 'hi').replace('Subject: Undelivered Mail Returned to Sender',
                                                    'Subject: ' + ' '.join(['=?utf-8?q?=C3=A9t=C3=A9?='] * 75_000)),
        'bytes'),
    'header line of 5 MB, as a Message': (lambda: _single('text/plain', 'hi', f'X-Long: {"a" * 5_000_000}\n'),
                                          'message'),
    '100k Content-Type parameters, as a Message': (
        lambda: f'{HEAD}Content-Type: text/plain' + ''.join(f'; p{n}=v' for n in range(100_000)) + '\n\nhi\n',
        'message'),
    '300k folded lines, as a Message': (lambda: _single('text/plain', 'hi', 'X-Folded: a\n' + ' b\n' * 300_000),
                                        'message'),
    'X-Failed-Recipients with 50k addresses': (
        lambda: _single('text/plain', 'Delivery failed.',
                        'X-Failed-Recipients: ' + ', '.join(f'u{n}@example.com' for n in range(50_000)) + '\n'),
        'bytes'),
    'quoted-printable soft breaks, 5 MB': (
        lambda: _single('text/plain', '=3D=\n' * 1_000_000, 'Content-Transfer-Encoding: quoted-printable\n'),
        'bytes'),
    'base64 part, 10 MB': (
        lambda: _single('text/plain', base64.encodebytes(b'Delivery failed: ' * 450_000).decode(),
                        'Content-Transfer-Encoding: base64\n'),
        'message'),
    'a body line of 5 MB without spaces': (lambda: _single('text/plain', 'x' * 5_000_000), 'bytes'),
    '70k small parts': (lambda: _multipart(['Content-Type: text/plain\n\nx'] * 70_000), 'bytes'),
    'multipart nested 250 deep': (lambda: _nested(250), 'bytes'),
}


def _child(name: str) -> None:
    """Run in the child process: print the seconds detect() took, and the kind."""
    import time

    build, way = CASES[name]
    data = build().encode('latin-1')
    subject = email.message_from_bytes(data) if way == 'message' else data
    benign = _single('text/plain', 'Delivery to the following recipient failed permanently:\n\n'
                     '  anne@example.org\n\n' + 'The quick brown fox jumps over the lazy dog.\n' * 4_500).encode()
    detect(benign)
    timings = []
    for item in (benign, subject):
        started = time.perf_counter()
        report = detect(item)
        timings.append(time.perf_counter() - started)
    print(json.dumps({'benign': timings[0], 'seconds': timings[1], 'kind': report.kind.value}))


@pytest.mark.parametrize('name', list(CASES))
def test_hostile_input_is_classified_within_the_budget(name) -> None:
    source_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [source_root,
                                                                             os.environ.get('PYTHONPATH')]))}
    code = f'from mailman_bounces.tests.detect.test_hostile import _child; _child({name!r})'
    try:
        result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                                timeout=KILL_AFTER, check=False, env=environment)
    except subprocess.TimeoutExpired:
        pytest.fail(f'{name}: detect() still running after {KILL_AFTER} s')
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    budget = SLACK + TIMES_BENIGN * outcome['benign']
    assert outcome['seconds'] < budget, f'{name}: {outcome["seconds"]:.2f} s, budget {budget:.2f} s'


def test_rfc2047_decoding_sees_a_bounded_prefix(monkeypatch) -> None:
    # The standard library's decode_header is quadratic in the number of
    # words: it must never be handed a whole 2 MB field.
    seen: list[int] = []
    real = message_module.decode_header
    monkeypatch.setattr(message_module, 'decode_header', lambda value: (seen.append(len(value)), real(value))[1])
    subject = ' '.join(['=?utf-8?q?=C3=A9t=C3=A9?='] * 80_000)
    decoded = message_module.decode_words(subject)
    assert decoded.startswith('étéété')   # RFC 2047: the space between words goes
    assert seen and max(seen) <= message_module.MAX_WORDS_CHARS < len(subject)


def test_a_message_is_never_refolded(monkeypatch) -> None:
    # detect(Message) reads the fields as parsed: the generator's refolding
    # (email.header.Header) took seconds on long or folded fields.
    import email.header

    calls: list[int] = []
    real = email.header.Header.encode
    monkeypatch.setattr(email.header.Header, 'encode', lambda self, *a, **k: (calls.append(1), real(self, *a, **k))[1])
    msg = email.message_from_string(_single('text/plain', 'hi', f'X-Long: {"a " * 5_000}\n'))
    detect(msg)
    assert calls == []


def test_a_50_mb_message_costs_a_few_times_what_the_engine_reads() -> None:
    body = 'The quick brown fox jumps over the lazy dog.\n' * (50_000_000 // 45)
    msg = email.message_from_string(_single('text/plain', body))
    del body
    detect(b'From: someone@example.org\n\nwarm up\n')
    tracemalloc.start()
    try:
        detect(msg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Before: the whole message serialised again, several times (476 MB RSS).
    assert peak < 8 * MAX_INPUT_BYTES, f'{peak / 2**20:.0f} MB'


def test_the_flattened_message_reads_as_the_bytes_do() -> None:
    # The bounded flattening of a Message gives the engine what the bytes
    # give it, on a real DSN with nested parts.
    from .conftest import corpus_file

    data = corpus_file('bsd/lhost-postfix-01.eml')
    from_bytes, from_message = detect(data), detect(email.message_from_bytes(data))
    assert from_bytes.kind is Kind.bounce
    assert from_message == from_bytes


def test_flattening_stops_at_the_input_cap() -> None:
    msg = email.message_from_string(_single('text/plain', 'x' * (3 * MAX_INPUT_BYTES)))
    flat = message_module.flatten_bounded(msg)
    assert len(flat) == MAX_INPUT_BYTES
    assert flat.startswith(b'From: MAILER-DAEMON@example.org\n')


def test_deep_nesting_as_a_message_is_flattened_without_recursion() -> None:
    # Built by hand: the email parser itself recurses on such nesting.
    root = inner = Message()
    for _ in range(3000):
        child = Message()
        inner['Content-Type'] = 'multipart/mixed; boundary="b"'
        inner.set_payload([child])
        inner = child
    inner['Content-Type'] = 'text/plain'
    inner.set_payload('hello')
    flat = message_module.flatten_bounded(root)
    assert flat.count(b'--b\n') == message_module.MAX_DEPTH + 1
    assert detect(root).kind is Kind.none
