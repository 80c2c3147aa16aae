"""KDDI au / EZweb (au one net) bounces from the Japanese mobile carrier.

"Could not be delivered to: <address>" followed by the reason in English (the
Japanese text above it says the same), or "Each of the following recipients
was rejected by a remote mail server." with "Recipient: <address>" lines.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import before_original

NAME = 'au'

_DELIVERED_TO_RE = re.compile(r'Could not be delivered to:\s*<([^<>\s]+)>\s*\n?(?P<why>[^\n]*)',
                              re.IGNORECASE)
_REJECTED_RE = re.compile(r'following recipients? (?:was|were) rejected by a remote\s+mail server',
                          re.IGNORECASE)
_RECIPIENT_RE = re.compile(r'^\s*(?:Recipient:\s*)?<([^<>\s]+@[^<>\s]+)>\s*$', re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = before_original(mail.text)
    found = [Found(address=match.group(1), diagnostic=match.group('why').strip() or None, permanent=True)
             for match in _DELIVERED_TO_RE.finditer(text)]
    if not found and _REJECTED_RE.search(text):
        found = _rejected_list(text)
    return Finding(found) if found else None


def _rejected_list(text: str) -> list[Found]:
    found: list[Found] = []
    matches = list(_RECIPIENT_RE.finditer(text))
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        diagnostic = text[match.end():end].strip()
        if not diagnostic:
            banner = _REJECTED_RE.search(text)
            diagnostic = banner.group(0) if banner else ''
        found.append(Found(address=match.group(1), diagnostic=diagnostic or None, permanent=True))
    return found


def recognise(mail: Mail) -> bool:
    """A DSN from au's own servers (read by :mod:`.rfc3464`)."""
    return mail.sender.rstrip('>').endswith(('@ezweb.ne.jp', '@au.com'))
