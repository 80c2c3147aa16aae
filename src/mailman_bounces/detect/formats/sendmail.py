"""Sendmail's plain-text bounces (V5 and V8 without a DSN part).

The session transcript lists one line per failed recipient as
``550 <address>... explanation``; the remote server's answer is on the ``<<<``
lines above it and the host on "While talking to host:".  When a transcript
names only a host (``421 host (smtp)... Deferred``), the recipient is the single
To: of the unsent message.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail, original_from_text
from ..status import find_command
from .common import cut, original_to

NAME = 'sendmail'

_TRANSCRIPT_RE = re.compile(r'^\s*-{3,} ?Transcript of session follows ?-{3,}', re.IGNORECASE | re.MULTILINE)
_END_RE = re.compile(r'^\s*-{3,} ?(?:Unsent message follows|Original message follows|'
                     r'Message header follows|Original message header follows|'
                     r'Returned message|Below this line)', re.IGNORECASE | re.MULTILINE)
# "550 <user@host>... User unknown"; V5 also names the mailer: "421 host (smtp)... Deferred".
_RESULT_RE = re.compile(r'^(?P<code>[245]\d\d)[ -](?:(?P<status>[245]\.\d{1,3}\.\d{1,3}) )?'
                        r'<?(?P<target>[^\s<>]+?)>?(?: \(\w+\))?\.\.\. ?(?P<text>.*)$')
_TALKING_RE = re.compile(r'^While talking to ([^\s:]+):', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    start = _TRANSCRIPT_RE.search(text)
    if not start:
        return None
    transcript = cut(text[start.end():], _END_RE)
    found = read_transcript(transcript)
    if not found:
        found = _fatal_list(text[:start.start()], transcript)
    if not found:
        found = _host_only(mail, text, transcript)
    return Finding(found) if found else None


def read_transcript(transcript: str) -> list[Found]:
    found: list[Found] = []
    remote: str | None = None
    command: str | None = None
    replies: list[str] = []
    for line in transcript.split('\n'):
        line = line.strip()
        talking = _TALKING_RE.match(line)
        if talking:
            remote, replies, command = talking.group(1), [], None
            continue
        if line.startswith('<<<'):
            replies.append(line[3:].strip())
            continue
        if line.startswith('>>>'):
            command = find_command(line)
            continue
        result = _RESULT_RE.match(line)
        if not result or clean_address(result.group('target')) is None:
            continue
        diagnostic = ' '.join([*replies, f"{result.group('code')} {result.group('text')}"])
        found.append(Found(address=result.group('target'), diagnostic=diagnostic,
                           reply_code=result.group('code'), status=result.group('status'),
                           remote_mta=remote, command=command))
        replies, command = [], None
    return found


_FATAL_RE = re.compile(r'^\s*-{3,} ?The following addresses? had (?:permanent )?(?:fatal|delivery) errors',
                       re.IGNORECASE | re.MULTILINE)


def _fatal_list(head: str, transcript: str) -> list[Found]:
    """Addresses under "The following addresses had permanent fatal errors"; the
    transcript explains them all."""
    start = _FATAL_RE.search(head)
    if not start:
        return []
    found: list[Found] = []
    for line in head[start.end():].split('\n')[1:]:
        line = line.strip().lstrip('>').strip()
        if not line:
            continue
        address = clean_address(line.split()[0]) or (clean_address(line.split()[-1]) if line.split() else None)
        if address is None:
            break
        reason = line[line.find('(reason:'):].strip('()') if '(reason:' in line else None
        found.append(Found(address=address, diagnostic=reason or ' '.join(transcript.split())[:1000]))
    return found


def _host_only(mail: Mail, text: str, transcript: str) -> list[Found]:
    """Transcripts that name only the host: the single recipient of the original."""
    lines = [line.strip() for line in transcript.split('\n') if _RESULT_RE.match(line.strip())]
    if not lines:
        return []
    original = mail.original or original_from_text(text, _END_RE)
    address = None
    if original is not None:
        to_values = original.get_all('to')
        if len(to_values) == 1:
            address = clean_address(to_values[0]) or None
    address = address or original_to(mail)
    if not address:
        return []
    code = lines[-1][:3]
    return [Found(address=address, diagnostic=' '.join(lines), reply_code=code)]


_DSN_TEXT_RE = re.compile(r'^\s*-{3,} ?The following addresses? had (?:permanent fatal errors|'
                          r'permanent delivery errors|transient non-fatal errors)', re.IGNORECASE | re.MULTILINE)


def recognise(mail: Mail) -> bool:
    """A Sendmail DSN (read by :mod:`.rfc3464`): Sendmail's address list heading."""
    start = mail.text.find('----- The following address', 0, 3000)
    return start >= 0 and bool(_DSN_TEXT_RE.search(mail.text, max(0, start - 10), start + 200))
