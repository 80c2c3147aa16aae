"""BIGLOBE (Japanese ISP, biglobe.ne.jp) bounces.

"----- The following addresses had delivery problems -----" with one address
per line, then "----- Non-delivered information -----" and the cause.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'biglobe'

_LIST_RE = re.compile(r'^\s*-+ ?The following addresses had delivery problems ?-+\s*$', re.IGNORECASE | re.MULTILINE)
_INFO_RE = re.compile(r'^\s*-+ ?Non-delivered information ?-+\s*\n(?P<why>.+?)(?:\n\s*\n|\Z)',
                      re.IGNORECASE | re.MULTILINE | re.DOTALL)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    listing = _LIST_RE.search(text)
    info = _INFO_RE.search(text)
    if not listing or not info or info.start() < listing.end():
        return None
    why = ' '.join(info.group('why').split())
    addresses = [clean_address(line) for line in text[listing.end():info.start()].split('\n')]
    found = [Found(address=address, diagnostic=why, permanent=True) for address in addresses if address]
    return Finding(found) if found else None
