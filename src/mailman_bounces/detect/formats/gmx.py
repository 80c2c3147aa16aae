"""GMX / mail.com / WEB.DE bounces (Exim-derived wording, their own layout).

After "The following address failed:" each recipient is a quoted ``"address":``
line at the margin, followed by the SMTP error lines; the original's headers
come after "--- The header of the original message is following. ---".
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'gmx'

_START_RE = re.compile(r'following\s+address(?:es)?\s+failed:', re.IGNORECASE)
_END_RE = re.compile(r'^-{2,} ?The header of the original message', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^"(?P<address>[^"\s]+@[^"\s]+)":\s*$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    start = _START_RE.search(text)
    if not start or not _END_RE.search(text):
        return None
    found = read_blocks(cut(text[start.end():], _END_RE), _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
    return Finding(found) if found else None
