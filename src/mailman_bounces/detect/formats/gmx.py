"""GMX / mail.com / WEB.DE and 1&1 (IONOS) bounces: Exim wording, their own layout.

After "The following address failed:" each recipient is an ``"address":`` (or
bare) line at the margin, followed by the SMTP error lines or, for 1&1, a shared
"For the following reason:" paragraph; the original's headers come after "---
The header of the original message is following. ---".
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'gmx'

_START_RE = re.compile(r'following\s+address(?:es|\(es\))?\s+failed:', re.IGNORECASE)
_END_RE = re.compile(r'^-{2,} ?The header of the original message', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^"?(?P<address>[^"\s]+@[^"\s]+?)"?:?\s*$')
_REASON_RE = re.compile(r'^For the following reason:\s*$', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    start = _START_RE.search(text)
    if not start or not _END_RE.search(text):
        return None
    block = cut(text[start.end():], _END_RE)
    reason = _REASON_RE.search(block)
    found = read_blocks(block[:reason.start()] if reason else block, _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
        if reason and not item.diagnostic:
            item.diagnostic = block[reason.end():].strip()
    return Finding(found) if found else None
