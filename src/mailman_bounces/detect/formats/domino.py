"""IBM/HCL Domino (Lotus Notes) non-delivery reports, plain and MIME.

Domino: "Your message ... was not delivered to: <address> because: <reason>".
Older Lotus Notes SMTP MTA: "------- Failure Reasons --------" with the reason
and the address, then "------- Returned Message --------".
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail
from .common import addresses_in, cut

NAME = 'domino'

_DOMINO_RE = re.compile(r'was not delivered to:\s*\n(?P<who>(?:[ \t]+\S[^\n]*\n)+)\s*because:\s*\n?(?P<why>.*)',
                        re.IGNORECASE | re.DOTALL)
_NOTES_RE = re.compile(r'^-{3,}\s*Failure Reasons\s*-{3,}', re.IGNORECASE | re.MULTILINE)
_NOTES_END_RE = re.compile(r'^-{3,}\s*Returned Message\s*-{3,}', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    match = _DOMINO_RE.search(text)
    if match:
        return _domino(match)
    notes = _NOTES_RE.search(text)
    if notes:
        return _notes(cut(text[notes.end():], _NOTES_END_RE))
    return None


def _domino(match: re.Match[str]) -> Finding | None:
    why = match.group('why').strip().split('\n\n', 1)[0]
    found = []
    for line in match.group('who').split('\n'):
        address = clean_address(line.strip())
        if address:
            found.append(Found(address=address, diagnostic=why, permanent=True))
    return Finding(found) if found else None


def _notes(block: str) -> Finding | None:
    lines = [line.strip() for line in block.split('\n') if line.strip()]
    addresses = [a for a in (clean_address(line) for line in lines) if a]
    if not addresses:
        addresses = addresses_in(block)[:1]
    reasons = ' '.join(line for line in lines if clean_address(line) is None)
    found = [Found(address=address, diagnostic=reasons or None, permanent=True) for address in addresses]
    return Finding(found) if found else None


def recognise(mail: Mail) -> bool:
    """A Domino DSN (read by :mod:`.rfc3464`): the same "was not delivered to" text."""
    return 'was not delivered to:' in mail.text[:5000]
