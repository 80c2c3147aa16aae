"""Yahoo! (and Yahoo! Japan) bounces: qmail-like "<address>:" blocks.

"Sorry, we were unable to deliver your message to the following address." then
``<address>:`` and "Remote host said: ..." lines, up to "--- Below this line is a
copy of the message."
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'yahoo'

_BANNER_RE = re.compile(r'Sorry,? we were unable to deliver your message to the following address',
                        re.IGNORECASE)
_END_RE = re.compile(r'^--- Below this line is a copy of the message', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^\s*<(?P<address>[^<>\s]+@[^<>\s]+)>:?\s*(?P<rest>.*)$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    banner = _BANNER_RE.search(text[:3000])
    if not banner:
        return None
    found = read_blocks(cut(text[banner.end():], _END_RE), _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
    return Finding(found) if found else None
