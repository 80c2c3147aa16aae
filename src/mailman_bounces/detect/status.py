"""Enhanced status codes (RFC 3463 ``x.y.z``) and SMTP reply codes in bounce text."""

from __future__ import annotations

import re

# A status code standing alone, e.g. "5.1.1" in "550 5.1.1 <x@y>: user unknown" or
# "#5.1.1".  Not part of a version number, IP address or date.
_STATUS_RE = re.compile(r'(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)')
_STATUS_FIELD_RE = re.compile(r'\A\s*([245])\.(\d{1,3})\.(\d{1,3})')
# An SMTP reply code: three digits starting the text or after "said:", "]:" etc.
_REPLY_RE = re.compile(r'(?<![\d.:/#-])([245][0-5]\d)(?:[ -]|\Z)(?![\d.]*\d{2,}:)')


def normalise_status(value: str | None) -> str | None:
    """Return the ``x.y.z`` status in *value* (a Status: field), or ``None``."""
    if not value:
        return None
    match = _STATUS_FIELD_RE.match(value)
    if not match:
        return None
    return '.'.join(match.groups())


def find_status(text: str | None) -> str | None:
    """Return the first plausible ``x.y.z`` status code in free *text*."""
    if not text:
        return None
    for match in _STATUS_RE.finditer(text):
        klass, subject, detail = match.groups()
        if int(subject) <= 7:
            return f'{klass}.{int(subject)}.{int(detail)}'
    return None


def find_reply_code(text: str | None) -> str | None:
    """Return the first plausible SMTP reply code (``550``) in free *text*."""
    if not text:
        return None
    match = _REPLY_RE.search(text[:2000])
    return match.group(1) if match else None


def status_class(status: str | None) -> str | None:
    """'2', '4' or '5' for a status or reply code."""
    if status and status[0] in '245':
        return status[0]
    return None


# The SMTP command a remote server was answering, as MTAs word it in bounces.
_COMMAND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ('DATA', re.compile(r'in reply to (?:end of )?data command|after (?:end of )?data\b|'
                        r'final data|after i sent the message|>>> data\b|^data$|'
                        r'smtp command\s+data\b|after sending (?:the )?(?:message|data)|'
                        r'for (?:text|data) command|\(data\)',
                        re.IGNORECASE | re.MULTILINE)),
    ('RCPT', re.compile(r'in reply to rcpt to command|after rcpt(?: to| command)\b|rcpt to:|>>> rcpt to|'
                        r'does not like recipient|did not like our rcpt|for rcpt(?: to)? command|'
                        r'most progress was rcpt to', re.IGNORECASE)),
    ('MAIL', re.compile(r'in reply to mail from command|after mail(?: from| command)\b|>>> mail from|'
                        r'for mail(?: from)? command|'
                        r'sender was rejected', re.IGNORECASE)),
    ('HELO', re.compile(r'in reply to (?:ehlo|helo) command|after (?:ehlo|helo)|'
                        r'initial connection|while performing the (?:ehlo|helo)', re.IGNORECASE)),
)


# Words one of which every pattern above needs: most diagnostics name no command,
# and testing these is much cheaper than the four patterns.
_COMMAND_WORDS = ('data', 'rcpt', 'mail from', 'mail command', 'helo', 'text command', 'ehlo', 'initial connection', 'sent the message',
                  'after sending', 'does not like recipient', 'sender was rejected')


def find_command(text: str | None) -> str | None:
    """The SMTP command (DATA, RCPT, MAIL, HELO) the failure answered, if stated."""
    if not text:
        return None
    lowered = text.lower()
    if not any(word in lowered for word in _COMMAND_WORDS):
        return None
    for command, pattern in _COMMAND_PATTERNS:
        if pattern.search(text):
            return command
    return None


_TRANSCRIPT_COMMAND_RE = re.compile(r'^\s*>>> ?(DATA|RCPT|MAIL|EHLO|HELO)\b', re.IGNORECASE | re.MULTILINE)


def last_transcript_command(text: str | None) -> str | None:
    """The last command sent in an SMTP session transcript (``>>> DATA``)."""
    if not text:
        return None
    found = _TRANSCRIPT_COMMAND_RE.findall(text)
    if not found:
        return None
    command = found[-1].upper()
    return 'HELO' if command == 'EHLO' else command
