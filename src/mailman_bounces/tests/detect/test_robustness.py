"""Bad input never raises, and is handled in bounded time and memory.

Boundedness is checked structurally (how much of the input is read, how many
parts are walked), never by timing, so the tests do not depend on the machine.
"""

from __future__ import annotations

import email
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailman_bounces.detect import Kind, Report, detect, is_valid_address
from mailman_bounces.detect.message import MAX_INPUT_BYTES, MAX_PARTS, parse, to_text

from .conftest import corpus_file

SAMPLES = [
    'bsd/lhost-postfix-01.eml', 'bsd/lhost-exim-02.eml', 'bsd/lhost-qmail-02.eml',
    'bsd/lhost-sendmail-04.eml', 'bsd/lhost-office365-02.eml', 'bsd/lhost-amazonses-09.eml',
    'bsd/arf-01.eml', 'bsd/rfc3834-01.eml', 'bsd/lhost-kddi-01.eml', 'bsd/lhost-gmail-04.eml',
    'bsd/lhost-zoho-02.eml', 'bsd/lhost-x6-02.eml', 'bsd/lhost-imailserver-06.eml', 'bsd/lhost-opensmtpd-01.eml',
    'bsd/rhost-franceptt-06.eml', 'bsd/lhost-googleworkspace-01.eml',
]
SAMPLE_BYTES = [corpus_file(name) for name in SAMPLES]


def assert_valid(report: Report) -> None:
    assert isinstance(report, Report)
    assert isinstance(report.kind, Kind)
    for recipient in report.recipients:
        assert is_valid_address(recipient.address)
        assert recipient.original is None or is_valid_address(recipient.original)
        assert recipient.diagnostic is None or len(recipient.diagnostic) <= 1000


def test_empty_and_tiny_inputs() -> None:
    for raw in (b'', '', b'\n', b'\r\n\r\n', b'From: x', b'\x00' * 10, b'Content-Type: multipart/mixed\n\n--'):
        report = detect(raw)
        assert report.kind is Kind.none
        assert report.recipients == []


def test_truncated_messages_return_partial_or_nothing() -> None:
    for data in SAMPLE_BYTES:
        for cut in range(0, len(data), max(1, len(data) // 25)):
            assert_valid(detect(data[:cut]))


def test_every_line_ending() -> None:
    for data in SAMPLE_BYTES:
        lf = data.replace(b'\r\n', b'\n')
        expected = detect(lf).addresses
        assert detect(lf.replace(b'\n', b'\r\n')).addresses == expected
        assert detect(lf.replace(b'\n', b'\r')).addresses == expected


def test_eight_bit_garbage_in_headers() -> None:
    garbage = bytes(range(128, 256))
    data = SAMPLE_BYTES[1].replace(b'Subject:', b'X-Junk: ' + garbage + b'\nSubject: ' + garbage, 1)
    report = detect(data)
    assert report.kind is Kind.bounce
    assert report.addresses == ['kijitora@example.jp', 'sabatora@example.jp']


def test_ten_megabyte_body_is_bounded() -> None:
    big = SAMPLE_BYTES[0] + b'A' * (10 * 1024 * 1024)
    assert len(to_text(big)) <= MAX_INPUT_BYTES
    report = detect(big)
    assert report.kind is Kind.bounce


def test_huge_single_line_and_binary_body() -> None:
    assert_valid(detect(b'From: MAILER-DAEMON@example.com\nSubject: failure notice\n\n' + b'x@' * 500_000))
    assert_valid(detect(os.urandom(200_000)))


def test_thousands_of_parts() -> None:
    part = b'--b\nContent-Type: text/plain\n\nuser unknown <p@example.com>\n'
    data = (b'From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail\n'
            b'Content-Type: multipart/mixed; boundary=b\n\n' + part * 5000 + b'--b--\n')
    assert len(parse(data).walk()) <= MAX_PARTS
    assert_valid(detect(data))


def test_deep_nesting() -> None:
    data = b'Content-Type: text/plain\n\nbottom\n'
    for level in range(300):
        data = (b'Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n' % (level, level)
                + data + b'\n--b%d--\n' % level)
    data = b'From: MAILER-DAEMON@example.com\n' + data
    assert_valid(detect(data))


def test_deeply_nested_attached_messages() -> None:
    data = SAMPLE_BYTES[0]
    for _ in range(50):
        data = b'Content-Type: message/rfc822\n\n' + data
    assert_valid(detect(data))


def test_broken_email_message_objects() -> None:
    message = email.message_from_bytes(SAMPLE_BYTES[0])
    message.set_payload([None, 'not a message'])  # type: ignore[list-item]
    assert_valid(detect(message))
    assert_valid(detect(email.message.Message()))


def _mutate(data: bytes, operations: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for operation, position, value in operations:
        if not buffer:
            break
        index = position % len(buffer)
        if operation == 'flip':
            buffer[index] ^= 1 << (value % 8)
        elif operation == 'truncate':
            del buffer[index:]
        elif operation == 'insert':
            buffer[index:index] = bytes([value % 256]) * (value % 7 + 1)
        elif operation == 'delete':
            del buffer[index:index + value % 200]
        elif operation == 'crlf':
            buffer = bytearray(bytes(buffer).replace(b'\n', b'\r\n' if value % 2 else b'\r'))
        elif operation == 'header':
            buffer[0:0] = b'X-Garbage-%d: \xff\xfe=?utf-8?q?=ZZ?=\n' % value
    return bytes(buffer)


_OPERATIONS = st.lists(
    st.tuples(st.sampled_from(['flip', 'truncate', 'insert', 'delete', 'crlf', 'header']),
              st.integers(min_value=0, max_value=1 << 20), st.integers(min_value=0, max_value=1 << 16)),
    min_size=1, max_size=12,
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLE_BYTES), operations=_OPERATIONS)
def test_fuzzed_corpus_messages_never_raise(sample: bytes, operations) -> None:
    mutated = _mutate(sample, operations)
    assert_valid(detect(mutated))
    assert_valid(detect(mutated.decode('latin-1')))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert_valid(detect(data))
