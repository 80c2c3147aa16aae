"""Mailbox validation and extraction: the single gate every reported address passes.

Bounces are written by machines for humans, so "addresses" found in them are often
junk: JSON fragments, Message-IDs, pipe commands, file paths, quoted display names.
:func:`clean_address` accepts only a plain ``local@domain`` mailbox and returns it
lower-cased; everything the engine reports goes through it.
"""

from __future__ import annotations

import re

# RFC 5322 atext without the characters that in practice only show up in junk
# (braces and pipes from JSON and shell commands) and without quoted local parts.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`~-]+)*"
_LABEL = r'(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)'
_DOMAIN = rf'{_LABEL}(?:\.{_LABEL})+'
_IP_LITERAL = r'\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]'
_MAILBOX_RE = re.compile(rf'(?:{_LOCAL})@(?:{_DOMAIN}|{_IP_LITERAL})\Z')
# The last label is letters (one is enough: test corpora anonymise to a@b.c),
# or an IDN's punycode; never digits.
_TLD_RE = re.compile(r'(?:[A-Za-z]{1,63}|xn--[A-Za-z0-9-]{1,59})\Z')

# Finds address candidates inside free text; the result still goes through
# clean_address.  Kept permissive on purpose: validation is done once, there.
ADDRESS_IN_TEXT_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`~.-]+@(?:[A-Za-z0-9_-]+\.)+[A-Za-z0-9-]+|"
    r"[A-Za-z0-9!#$%&'*+/=?^_`~.-]+@\[[0-9A-Fa-f:.IPv]+\]"
)

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_STRIP_CHARS = ' \t\r\n<>"\'(),;:.'
# An address type before the address: RFC 3464's ``rfc822;``, Exchange's ``SMTP=``.
_PREFIX_RE = re.compile(r'\A(?:rfc822|smtp|x400|unknown|utf-8)\s*(?:;\s*|=(?=[^@=\s]+@))', re.IGNORECASE)


def clean_address(value: str | None) -> str | None:
    """Return *value* as a lower-cased valid mailbox, or ``None`` if it is not one.

    Tolerates the wrapping bounces put around addresses (``<...>``, an
    ``rfc822;`` address type, trailing punctuation) but nothing inside them.
    """
    if not value or len(value) > 1000:
        return None
    text = _PREFIX_RE.sub('', value.strip())
    if text.startswith('<') and '>' in text:
        text = text[1:text.index('>')]
    text = text.strip(_STRIP_CHARS)
    if '@[' not in text:
        text = text.strip('[]').strip(_STRIP_CHARS)
    if text.lower().startswith('mailto:'):
        text = text[7:]
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        return None
    if not _MAILBOX_RE.match(text):
        return None
    local, _, domain = text.rpartition('@')
    if len(local) > MAX_LOCAL_LENGTH or local.startswith(('-', '/')):
        return None
    if not domain.startswith('[') and not _TLD_RE.match(domain.rpartition('.')[2]):
        return None
    return text.lower()


def is_valid_address(value: str | None) -> bool:
    """True if *value* is acceptable as it is (already clean, lower-case)."""
    return value is not None and clean_address(value) == value


def find_addresses(text: str, limit: int = 50) -> list[str]:
    """Return the distinct valid mailboxes in *text*, in order of appearance."""
    found: list[str] = []
    for match in ADDRESS_IN_TEXT_RE.finditer(text):
        address = clean_address(match.group(0))
        if address and address not in found:
            found.append(address)
            if len(found) >= limit:
                break
    return found

