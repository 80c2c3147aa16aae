"""Mailman's own notice of a permanent SMTP failure at delivery time.

When Mailman's outgoing runner is refused by the SMTP server for good, the
bounce it registers is a plain-text message it writes itself::

    Subject: SMTP Delivery Failure

    Mail to RECIPIENT failed at outgoing SMTP

    Error code: 550
    Error message: 5.1.1 <RECIPIENT>: Recipient address rejected: User unknown

The error message is the SMTP server's answer as smtplib returned it, bytes, so
it is often written as their ``repr`` (``b'5.1.1 ...'``, with ``\\n`` between
the lines of a multi-line answer); both forms are read.  Reading it here lets
those failures be classified like any other bounce.
"""

from __future__ import annotations

import ast
import re

from ..mail import Finding, Found, Mail

NAME = 'mailman'

SUBJECT = 'SMTP Delivery Failure'
_FAILURE_RE = re.compile(
    r'^Mail to (?P<address>\S+@\S+) failed at outgoing SMTP[ \t]*\n'
    r'(?:[ \t]*\n)*'
    r'Error code:[ \t]*(?P<code>[245]\d\d)[ \t]*\n'
    r'Error message:[ \t]*(?P<message>[^\n]*(?:\n(?!Mail to )[^\n]*\S[^\n]*){0,20})',
    re.MULTILINE,
)
_BYTES_REPR_RE = re.compile(r'''\Ab(?:'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*")\Z''')
MAX_MESSAGE = 2000


def parse(mail: Mail) -> Finding | None:
    if mail.subject.strip() != SUBJECT:
        return None
    found = [_failure(match) for match in _FAILURE_RE.finditer(mail.text[:20000])]
    return Finding(found) if found else None


def _failure(match: re.Match[str]) -> Found:
    code = match.group('code')
    message = smtp_text(match.group('message'))
    return Found(address=match.group('address'), reply_code=code, diagnostic=f'{code} {message}'.strip(),
                 permanent=code.startswith('5'), action='failed' if code.startswith('5') else 'delayed')


def smtp_text(value: str) -> str:
    """The SMTP answer as text, whether written plainly or as a bytes repr."""
    value = value.strip()[:MAX_MESSAGE]
    if not _BYTES_REPR_RE.match(value):
        return ' '.join(value.split())
    try:
        raw = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value[2:-1]
    text = raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)
    return ' '.join(text.split())
