"""Trustwave/Marshal MailMarshal SMTP non-delivery reports.

"Could not be delivered because of" with the reason on the next lines, then
"The following recipients were affected:" and the indented addresses.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'mailmarshal'

_BECAUSE_RE = re.compile(r'Could not be delivered because of\s*\n(?P<why>.*?)\n\s*\n?\s*The following recipients were affected:',
                         re.IGNORECASE | re.DOTALL)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    match = _BECAUSE_RE.search(text)
    if not match:
        return None
    why = ' '.join(match.group('why').split())
    found: list[Found] = []
    for line in text[match.end():].split('\n')[1:]:
        if not line.strip():
            if found:
                break
            continue
        address = clean_address(line.strip())
        if address is None:
            break
        found.append(Found(address=address, diagnostic=why, permanent=True))
    return Finding(found) if found else None
