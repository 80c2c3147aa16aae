#!/usr/bin/env python3
"""Detection time and memory on hostile mail, at growing sizes.

Generates adversarial messages of each kind below at several sizes and runs
``detect()`` on each, in a fresh process per measurement (so one case's
garbage or a runaway case cannot skew another; a case over ``--timeout`` is
killed and reported as such).  For each kind it reports the worst seconds per
message, seconds per MB, the peak memory ``detect()`` allocated (tracemalloc,
input excluded) and the child's peak RSS, and the growth exponent between the
smallest and the largest size (log time ratio / log size ratio: 1 is linear,
2 quadratic; under a few milliseconds it is mostly noise).

Two ways in: ``bytes`` (the raw message, what the bounce runner passes) and
``message`` (an :class:`email.message.Message`, what Mailman's API passes;
parsing it is not timed, that is Mailman's cost).

    python bench/hostile_bench.py                      # measure this tree
    python bench/hostile_bench.py --src OTHER/src --label before
    python bench/hostile_bench.py --update-docs        # tables into docs/benchmarks.rst
    python bench/hostile_bench.py --docs-only          # the saved results into the docs

Results: ``bench/results/hostile-LABEL.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, 'bench', 'results')
DOCS = os.path.join(ROOT, 'src', 'mailman_bounces', 'docs', 'benchmarks.rst')
BEGIN, END = '.. hostile-bench-begin', '.. hostile-bench-end'
MB = 1024 * 1024

HEAD = ('From: MAILER-DAEMON@example.org\nTo: list-bounces@example.com\n'
        'Subject: Undelivered Mail Returned to Sender\nMessage-ID: <h@example.org>\n'
        'MIME-Version: 1.0\n')


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _single(ctype: str, body: str, extra: str = '') -> str:
    return f'{HEAD}{extra}Content-Type: {ctype}\n\n{body}\n'


def _multipart(parts: list[str], subtype: str = 'mixed', extra: str = '') -> str:
    inner = ''.join(f'--B\n{part}\n' for part in parts)
    return f'{HEAD}{extra}Content-Type: multipart/{subtype}; boundary="B"\n\n{inner}--B--\n'


def html_br(size: int) -> str:
    return _single('text/html', _repeat('<br', size))


def html_four_parts(size: int) -> str:
    return _multipart([f'Content-Type: text/html\n\n{_repeat("<br", size // 4)}'] * 4)


def html_p_open(size: int) -> str:
    return _single('text/html', _repeat('<p ', size))


def html_unclosed(size: int) -> str:
    return _single('text/html', _repeat('<div class="x" title="y" ', size))


def html_nested_lt(size: int) -> str:
    return _single('text/html', _repeat('<a<b ', size))


def subject_rfc2047(size: int) -> str:
    word = '=?utf-8?q?=C3=A9t=C3=A9?='
    words = [word] * max(1, size // (len(word) + 2))
    return f'Subject: {" ".join(words)}\n' + _single('text/plain', 'hello').replace(
        'Subject: Undelivered Mail Returned to Sender\n', '')


def subject_rfc2047_folded(size: int) -> str:
    word = '=?iso-8859-1?b?6XTp?='
    words = [word] * max(1, size // (len(word) + 2))
    return f'Subject: {chr(10).join(" " + w for w in words).lstrip()}\n' + _single(
        'text/plain', 'hello').replace('Subject: Undelivered Mail Returned to Sender\n', '')


def header_line(size: int) -> str:
    return _single('text/plain', 'hello', extra=f'X-Long: {_repeat("a", size)}\n')


def ctype_params(size: int) -> str:
    params = ''.join(f'; p{n}=v' for n in range(max(1, size // 9)))
    return f'{HEAD}Content-Type: text/plain{params}\n\nhello\n'


def folded_lines(size: int) -> str:
    return _single('text/plain', 'hello', extra='X-Folded: a\n' + _repeat(' b\n', size))


def many_headers(size: int) -> str:
    return _single('text/plain', 'hello', extra=_repeat('X-H: v\n', size))


def plain_body(size: int) -> str:
    return _single('text/plain', _repeat('The quick brown fox jumps over the lazy dog.\n', size))


def long_line(size: int) -> str:
    return _single('text/plain', _repeat('x', size))


def long_line_at(size: int) -> str:
    return _single('text/plain', _repeat('a@', size))


def huge_base64(size: int) -> str:
    raw = _repeat('Delivery to the following recipient failed: ', size * 3 // 4).encode()
    encoded = base64.encodebytes(raw).decode()
    return _single('text/plain', encoded, extra='Content-Transfer-Encoding: base64\n')


def huge_qp(size: int) -> str:
    return _single('text/plain', _repeat('=3D=\n', size), extra='Content-Transfer-Encoding: quoted-printable\n')


def deep_nesting(size: int) -> str:
    depth = max(1, size // 60)
    text = 'Content-Type: text/plain\n\nhello\n'
    for level in range(depth):
        text = (f'Content-Type: multipart/mixed; boundary="b{level}"\n\n'
                f'--b{level}\n{text}\n--b{level}--\n')
    return HEAD + text


def many_parts(size: int) -> str:
    return _multipart(['Content-Type: text/plain\n\nx'] * max(1, size // 30))


def many_html_parts(size: int) -> str:
    return _multipart([f'Content-Type: text/html\n\n{_repeat("<br", 300)}'] * max(1, size // 310))


def many_recipients(size: int) -> str:
    addresses = ', '.join(f'user{n}@example.com' for n in range(max(1, size // 20)))
    return _single('text/plain', 'Delivery failed.', extra=f'X-Failed-Recipients: {addresses}\n')


def dsn_groups(size: int) -> str:
    group = ('Final-Recipient: rfc822; user{n}@example.com\nAction: failed\nStatus: 5.1.1\n'
             'Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n')
    count = max(1, size // (len(group) + 3))
    groups = ''.join(group.format(n=n) for n in range(count))
    return _multipart(['Content-Type: text/plain\n\nDelivery failed.',
                       f'Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n{groups}'],
                      subtype='report; report-type=delivery-status')


def text_many_addresses(size: int) -> str:
    return _single('text/plain', 'The following addresses had permanent fatal errors:\n'
                   + _repeat('<user@example.com> 550 5.1.1 user unknown\n', size))


def big_message(size: int) -> str:
    return plain_body(size)


# name: (generator, sizes in bytes, what it attacks)
KINDS: dict[str, tuple[Callable[[int], str], tuple[int, ...], str]] = {
    'html-br': (html_br, (50_000, 100_000, 200_000, 800_000), '`<br` repeated: the tag regexes'),
    'html-four-parts': (html_four_parts, (200_000, 400_000, 800_000, 1_600_000),
                        'four such parts: all_texts converts each'),
    'html-p-open': (html_p_open, (50_000, 100_000, 200_000, 800_000), '`<p ` repeated: _ANY_TAG_RE'),
    'html-unclosed': (html_unclosed, (200_000, 400_000, 1_600_000, 3_200_000), 'tags never closed'),
    'html-nested-lt': (html_nested_lt, (200_000, 400_000, 1_600_000, 3_200_000), '`<a<b ` repeated'),
    'subject-2047': (subject_rfc2047, (250_000, 500_000, 1_000_000, 2_000_000),
                     'Subject of RFC 2047 words, one line'),
    'subject-2047-folded': (subject_rfc2047_folded, (250_000, 500_000, 1_000_000, 2_000_000),
                            'Subject of RFC 2047 words, folded'),
    'header-line': (header_line, (625_000, 1_250_000, 2_500_000, 5_000_000), 'one header line'),
    'ctype-params': (ctype_params, (112_500, 225_000, 450_000, 900_000), 'Content-Type parameters (900 KB: 100k)'),
    'folded-lines': (folded_lines, (112_500, 225_000, 450_000, 900_000), 'folded header lines (900 KB: 300k)'),
    'many-headers': (many_headers, (250_000, 500_000, 1_000_000, 2_000_000), 'header fields'),
    'long-line': (long_line, (625_000, 1_250_000, 2_500_000, 5_000_000), 'a body line without spaces'),
    'long-line-at': (long_line_at, (625_000, 1_250_000, 2_500_000, 5_000_000), '`a@` repeated, one line'),
    'huge-base64': (huge_base64, (1_250_000, 2_500_000, 5_000_000, 10_000_000), 'one base64 part'),
    'huge-qp': (huge_qp, (625_000, 1_250_000, 2_500_000, 5_000_000), 'quoted-printable soft breaks'),
    'deep-nesting': (deep_nesting, (15_000, 30_000, 60_000, 120_000), 'multipart nesting (120 KB: 2,000 deep)'),
    'many-parts': (many_parts, (250_000, 500_000, 1_000_000, 2_000_000), 'small parts'),
    'many-html-parts': (many_html_parts, (250_000, 500_000, 1_000_000, 2_000_000), 'small HTML parts'),
    'many-recipients': (many_recipients, (125_000, 250_000, 500_000, 1_000_000), 'X-Failed-Recipients'),
    'dsn-groups': (dsn_groups, (250_000, 500_000, 1_000_000, 2_000_000), 'DSN per-recipient groups'),
    'text-addresses': (text_many_addresses, (250_000, 500_000, 1_000_000, 2_000_000),
                       'plain-text notice, one address per line'),
    'big-message': (big_message, (6_250_000, 12_500_000, 25_000_000, 50_000_000), 'a 50 MB message'),
}
MODES = ('bytes', 'message')

# The rows of issue 14's table: (row, kind, size, way in).  Measured on their
# own (``--issue-rows``): one timed detect() per process, and its peak RSS.
ISSUE_ROWS = (
    ('text/html of `<br` repeated (200 KB)', 'html-br', 200_000, 'bytes'),
    ('four such HTML parts (0.8 MB)', 'html-four-parts', 800_000, 'bytes'),
    ('`<p ` repeated (200 KB)', 'html-p-open', 200_000, 'bytes'),
    ('2 MB Subject of RFC 2047 encoded words', 'subject-2047', 2_000_000, 'bytes'),
    ('1.6 MB HTML with unclosed tags', 'html-unclosed', 1_600_000, 'bytes'),
    ('5 MB header line, via detect(Message)', 'header-line', 5_000_000, 'message'),
    ('100k Content-Type parameters, via detect(Message)', 'ctype-params', 900_000, 'message'),
    ('300k folded lines, via detect(Message)', 'folded-lines', 900_000, 'message'),
    ('50 MB message via detect(Message)', 'big-message', 50_000_000, 'message'),
    ('50 MB message as bytes', 'big-message', 50_000_000, 'bytes'),
)


# -- child: one measurement ---------------------------------------------------

def child(kind: str, size: int, mode: str, src: str, memory: bool = True) -> None:
    sys.path.insert(0, src)
    import email
    import resource
    import tracemalloc

    from mailman_bounces.detect import detect

    data = KINDS[kind][0](size).encode('latin-1')
    subject = email.message_from_bytes(data) if mode == 'message' else data
    # Warm up on the same kind, small: lazy imports and regex compilation
    # are paid once per process, not per message.
    small = KINDS[kind][0](2_000).encode('latin-1')
    detect(email.message_from_bytes(small) if mode == 'message' else small)
    started = time.perf_counter()
    report = detect(subject)
    seconds = time.perf_counter() - started
    # The timed run's figures first: if the traced run is killed by the
    # timeout, the parent still has them.
    print(json.dumps({'seconds': seconds, 'bytes': len(data),
                      'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      'kind': report.kind.value}), flush=True)
    if memory:
        tracemalloc.start()
        detect(subject)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({'peak': peak}), flush=True)


def measure(kind: str, size: int, mode: str, src: str, timeout: float, memory: bool = True) -> dict:
    command = [sys.executable, os.path.abspath(__file__), '--child', kind, str(size), mode, '--src', src,
               *([] if memory else ['--no-memory'])]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout or ''
        return _figures(output) or {'timeout': timeout, 'bytes': None}
    return _figures(result.stdout) or {'error': result.stderr.strip().splitlines()[-1:] or ['?'], 'bytes': None}


def _figures(output: str) -> dict:
    """The child's JSON lines merged (the traced run's may be missing)."""
    figures: dict = {}
    for line in output.splitlines():
        if line.startswith('{'):
            figures.update(json.loads(line))
    return figures if 'seconds' in figures else {}


# -- parent: tables -------------------------------------------------------------

def _seconds(row: dict) -> str:
    if 'timeout' in row:
        return f'>{row["timeout"]:.0f}'
    if 'error' in row:
        return 'error'
    return f'{row["seconds"]:.3f}'


def _exponent(rows: list[dict]) -> str:
    done = [row for row in rows if 'seconds' in row]
    if len(done) < 2 or len(done) < len(rows):
        return '-'
    first, last = done[0], done[-1]
    if first['seconds'] <= 0:
        return '-'
    return f'{math.log(last["seconds"] / first["seconds"]) / math.log(last["bytes"] / first["bytes"]):.2f}'


def summarise(results: dict) -> list[tuple[str, ...]]:
    """One row per kind and mode: worst s/msg, s/MB, peak MB, RSS MB, exponent."""
    rows = []
    for kind, modes in results.items():
        for mode, runs in modes.items():
            worst = max(runs, key=lambda run: float('inf') if 'seconds' not in run else run['seconds'])
            largest = runs[-1]
            per_mb = largest['seconds'] / (largest['bytes'] / MB) if 'seconds' in largest else None
            rows.append((kind, mode, f'{largest["bytes"] / MB:.2f}' if largest.get('bytes') else
                         f'{KINDS[kind][1][-1] / MB:.2f}',
                         _seconds(worst), '-' if per_mb is None else f'{per_mb:.3f}',
                         f'{largest["peak"] / MB:.1f}' if 'peak' in largest else '-',
                         f'{largest["rss"] / MB:.0f}' if 'rss' in largest else '-',
                         _exponent(runs)))
    return rows


HEADER = ('input', 'via', 'MB', 'worst s', 's/MB', 'peak MB', 'RSS MB', 'growth')


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[n]) for r in rows)) for n, h in enumerate(HEADER)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)), rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return '\n'.join([*lines, rule])


def compare(before: dict, after: dict) -> str:
    """Before/after per kind: the largest size each side finished (a side
    that was killed shows the size it was killed at), worst way in."""
    head = ('input', 'before: s at MB', 'after: s at MB', 'before peak MB', 'after peak MB')
    rows = []
    for kind in after:
        cells = [kind]
        for side in (before, after):
            # (A way in whose input could not even be built, like the email
            # parser's own RecursionError on deep nesting, is left out.)
            runs = [(modes[-1], KINDS[kind][1][len(modes) - 1]) for modes in side.get(kind, {}).values()
                    if 'error' not in modes[-1]]
            if not runs:
                cells.append('-')
                continue
            run, size = max(runs, key=lambda pair: pair[0].get('seconds', float('inf')))
            cells.append(f'{_seconds(run)} at {size / MB:.2f}')
        for side in (before, after):
            runs = [modes[-1] for modes in side.get(kind, {}).values() if 'peak' in modes[-1]]
            cells.append(f'{max(r["peak"] for r in runs) / MB:.1f}' if runs else '-')
        rows.append(tuple(cells))
    widths = [max(len(h), *(len(r[n]) for r in rows)) for n, h in enumerate(head)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(head, widths, strict=True)), rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return '\n'.join([*lines, rule])


def issue_rows(src: str, label: str, timeout: float) -> None:
    results = []
    for row, kind, size, mode in ISSUE_ROWS:
        run = measure(kind, size, mode, src, timeout)
        results.append({'row': row, 'kind': kind, 'size': size, 'via': mode, **run})
        print(row, _seconds(run), f'{run["rss"] / MB:.0f} MB' if 'rss' in run else '', file=sys.stderr, flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f'hostile-issue-{label}.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1)


def _megabytes(run: dict, key: str) -> str:
    return f'{run[key] / MB:.1f}' if key in run else '-'


def issue_table() -> str:
    """Issue 14's rows, before (main) and after (this tree): seconds, the
    peak memory detect() allocated (tracemalloc; '-' when the traced run did
    not finish in time), the process's peak RSS (with the input and, for a
    Message, its parsing)."""
    sides = []
    for label in ('before', 'after'):
        path = os.path.join(RESULTS, f'hostile-issue-{label}.json')
        if not os.path.exists(path):
            return ''
        with open(path, encoding='utf-8') as handle:
            sides.append(json.load(handle))
    head = ('input (issue 14)', 'before s', 'after s', 'before MB', 'after MB', 'after RSS MB')
    rows = [(b['row'], _seconds(b), _seconds(a), _megabytes(b, 'peak'), _megabytes(a, 'peak'),
             _megabytes(a, 'rss')) for b, a in zip(*sides, strict=True)]
    widths = [max(len(h), *(len(r[n]) for r in rows)) for n, h in enumerate(head)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(head, widths, strict=True)), rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return '\n'.join([*lines, rule])


def update_docs(text_after: str, text_compare: str) -> None:
    with open(DOCS, encoding='utf-8') as handle:
        docs = handle.read()
    start, end = docs.index(BEGIN), docs.index(END)
    block = (f'{BEGIN}\n\n{issue_table()}\n\nEvery kind at its largest size, worst of the two ways in:\n\n'
             f'{text_compare}\n\nThis tree, every kind and way in:\n\n{text_after}\n\n')
    with open(DOCS, 'w', encoding='utf-8') as handle:
        handle.write(docs[:start] + block + docs[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--child', nargs=3, metavar=('KIND', 'SIZE', 'MODE'), help=argparse.SUPPRESS)
    parser.add_argument('--src', default=os.path.join(ROOT, 'src'), help='source tree to measure')
    parser.add_argument('--label', default='after', help='results file name: hostile-LABEL.json')
    parser.add_argument('--kinds', nargs='*', default=list(KINDS), choices=list(KINDS))
    parser.add_argument('--modes', nargs='*', default=list(MODES), choices=MODES)
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds before a case is killed')
    parser.add_argument('--issue-rows', action='store_true',
                        help="only the rows of issue 14's table, timed once each (results: hostile-issue-LABEL)")
    parser.add_argument('--no-memory', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--docs-only', action='store_true',
                        help='write the saved results (hostile-before, hostile-LABEL) into the docs, measure nothing')
    parser.add_argument('--update-docs', action='store_true',
                        help='write hostile-before vs this run into docs/benchmarks.rst')
    arguments = parser.parse_args()
    if arguments.child:
        kind, size, mode = arguments.child
        child(kind, int(size), mode, arguments.src, memory=not arguments.no_memory)
        return
    if arguments.issue_rows:
        issue_rows(arguments.src, arguments.label, arguments.timeout)
        return
    if arguments.docs_only:
        with open(os.path.join(RESULTS, 'hostile-before.json'), encoding='utf-8') as handle:
            before = json.load(handle)
        with open(os.path.join(RESULTS, f'hostile-{arguments.label}.json'), encoding='utf-8') as handle:
            after = json.load(handle)
        update_docs(table(summarise(after)), compare(before, after))
        return
    results: dict[str, dict[str, list[dict]]] = {}
    for kind in arguments.kinds:
        results[kind] = {}
        for mode in arguments.modes:
            runs = []
            for size in KINDS[kind][1]:
                run = measure(kind, size, mode, arguments.src, arguments.timeout)
                runs.append(run)
                print(kind, mode, size, _seconds(run), flush=True, file=sys.stderr)
                if 'seconds' not in run:
                    break   # larger sizes would only take longer
            results[kind][mode] = runs
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f'hostile-{arguments.label}.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1)
    text = table(summarise(results))
    with open(os.path.join(RESULTS, f'hostile-{arguments.label}.txt'), 'w', encoding='utf-8') as handle:
        handle.write(text + '\n')
    print(text)
    before_path = os.path.join(RESULTS, 'hostile-before.json')
    if arguments.update_docs and os.path.exists(before_path):
        with open(before_path, encoding='utf-8') as handle:
            before = json.load(handle)
        update_docs(text, compare(before, results))


if __name__ == '__main__':
    main()
