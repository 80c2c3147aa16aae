"""Helpers shared by the plain-text bounce formats.

Most non-standard bounces have the same shape: a banner sentence, then for each
failed recipient a line holding its address followed by lines explaining the
failure, then a separator and a copy of the original message.  :func:`read_blocks`
reads that shape given three patterns; each format module supplies its own.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..address import ADDRESS_IN_TEXT_RE, clean_address
from ..mail import MAX_RECIPIENTS, Found, Mail
from ..reasons import reason_from_text

MAX_DIAGNOSTIC_LINES = 8
MAX_OCCURRENCES = 5

# Separators before the returned original message, across MTAs and languages.
ORIGINAL_MESSAGE_RE = re.compile(
    r'^(?:[-=_* ]*(?:this is a copy of|below this line is a copy|here is a copy of|'
    r'a copy of the (?:original )?message|included is a copy|enclosed is a copy)|'
    r'[-=_* ]*(?:original|returned|unsent|undelivered|rejected|bounced) (?:message|mail|e-?mail)'
    r'(?: headers?)? (?:follows|below|as follows|is attached|attached)|'
    r'[-=_*]{2,} ?(?:original|returned|unsent|undelivered) (?:message|mail)|'
    r'[-=_* ]*original message:?[-=_* ]*$|'
    r'Content-Type: message/rfc822|Return-Path: |Received: from )',
    re.IGNORECASE | re.MULTILINE,
)
ANGLE_ADDRESS_RE = re.compile(r'<([^<>\s]{3,254}@[^<>\s]{3,254})>')


def cut(text: str, end: re.Pattern[str] | None) -> str:
    """*text* up to the first match of *end* (the original message separator)."""
    if end is None:
        return text
    match = end.search(text)
    return text[:match.start()] if match else text


@lru_cache(maxsize=4)
def before_original(text: str) -> str:
    """*text* up to the returned original message (:data:`ORIGINAL_MESSAGE_RE`).

    Several formats and the fallback ask this of the same text: the regex
    runs once per text (on 200,000 characters of separator-like lines it
    costs more than the rest of detection).
    """
    return cut(text, ORIGINAL_MESSAGE_RE)


def after(text: str, start: re.Pattern[str]) -> str | None:
    """*text* after the first match of *start*, or None when it does not match."""
    match = start.search(text)
    return text[match.end():] if match else None


def read_blocks(
    text: str,
    address_line: re.Pattern[str],
    *,
    stop_at_blank: bool = False,
    max_lines: int = MAX_DIAGNOSTIC_LINES,
) -> list[Found]:
    """One :class:`Found` per line matching *address_line* (named groups
    ``address`` and optionally ``rest``), with the lines that follow it, up to
    the next address line (or a blank line), as its diagnostic."""
    found: list[Found] = []
    lines: list[str] = []
    current: Found | None = None
    for line in text.split('\n'):
        match = address_line.match(line)
        if match and clean_address(match.group('address')):
            _close(current, lines)
            current = Found(address=match.group('address'))
            rest = match.groupdict().get('rest')
            lines = [rest.strip()] if rest and rest.strip() else []
            found.append(current)
            continue
        if current is None:
            continue
        if not line.strip():
            if stop_at_blank and lines:
                _close(current, lines)
                current, lines = None, []
            continue
        if len(lines) < max_lines:
            lines.append(line.strip())
    _close(current, lines)
    return found


def _close(current: Found | None, lines: list[str]) -> None:
    if current is not None and lines and not current.diagnostic:
        current.diagnostic = ' '.join(lines)


def diagnostic_near(text: str, address: str | None, original: str | None = None,
                    max_lines: int = 5) -> str | None:
    """The explanation next to *address* in *text*: the rest of the line it is on
    plus the following lines up to a blank line or another address.  Tries each
    place the address appears until one says more than the address itself."""
    if not text:
        return None
    lowered = _lower(text)
    for candidate in (address, original):
        if not candidate:
            continue
        needle = candidate.strip('<>').lower()
        index = lowered.find(needle)
        for _ in range(MAX_OCCURRENCES):
            if index < 0:
                break
            result = _explanation_at(text, index, max_lines, needle)
            if len(result) > len(candidate) + 6:
                return result
            index = lowered.find(needle, index + len(needle))
    return None


@lru_cache(maxsize=2)
def _lower(text: str) -> str:
    # A notice listing many addresses asks about each in the same text:
    # lowered once, not once per address (500 addresses x 200 KB).
    return text.lower()


def _explanation_at(text: str, index: int, max_lines: int, needle: str = '') -> str:
    line_start = text.rfind('\n', 0, index) + 1
    lines = text[line_start:].split('\n', max_lines + 1)[:max_lines + 1]
    picked = [lines[0]]
    for line in lines[1:]:
        if not line.strip():
            break
        other = ANGLE_ADDRESS_RE.search(line)
        if other and (not line[:1].isspace() or other.group(1).lower() != needle):
            # Another entry, or another address: not this one's explanation.
            # An indented line that quotes this same address goes on with
            # it (Postfix wraps "said: 554 Rcpt\n    <a@b> does not exist").
            break
        picked.append(line)
    return ' '.join(line.strip() for line in picked)


def addresses_in(text: str, limit: int = MAX_RECIPIENTS) -> list[str]:
    """Valid mailboxes in *text*, distinct, in order; the first *limit* of them
    (a report keeps no more)."""
    seen: dict[str, None] = {}
    for match in ADDRESS_IN_TEXT_RE.finditer(text):
        address = clean_address(match.group(0))
        if address and address not in seen:
            seen[address] = None
            if len(seen) >= limit:
                break
    return list(seen)


def original_to(mail: Mail) -> str | None:
    """The single To: address of the returned original message, if there is one."""
    values = mail.original_recipients()
    if len(values) != 1:
        return None
    addresses = addresses_in(values[0])
    return addresses[0] if len(addresses) == 1 else None


def from_daemon(mail: Mail) -> bool:
    """True when the message comes from a mailer daemon / postmaster."""
    sender = mail.sender
    return any(word in sender for word in ('mailer-daemon', 'postmaster', 'mail delivery',
                                           'mail-daemon', 'mailer daemon', 'maildaemon',
                                           'post_master', 'ndr administrator'))


def null_sender(mail: Mail) -> bool:
    """True when the message has no sender at all (``From: <>`` or none):
    only automated mail is sent so."""
    return mail.header('from').strip() in ('', '<>')


# A non-delivery stated outright (RFC 3464's "failed" in words), as notices word it.
_FAILURE_STATED_RE = re.compile(
    r'(?:could|can)(?: ?not|n.t) be delivered|undeliverable|(?:was|were) not delivered|'
    r'did not reach|(?:delivery|message) (?:to .{1,80} )?(?:has )?failed|failed permanently|'
    r'permanent (?:error|failure)|not a valid (?:user|recipient|address)',
    re.IGNORECASE,
)
# Reasons that, stated in a notice's opening words, mean the address failed.
_FAILURE_REASONS = frozenset({'userunknown', 'hostunknown'})
MAX_STATEMENT = 3000


def states_failure(text: str) -> bool:
    """True when *text* says a message was not delivered, or that the address
    does not exist ("That's not a valid user here")."""
    opening = text[:MAX_STATEMENT]
    return bool(_FAILURE_STATED_RE.search(opening)) or reason_from_text(opening) in _FAILURE_REASONS
