"""Microsoft Exchange 2000/2003 plain-text non-delivery reports.

"Your message ... did not reach the following recipient(s):" (or "The following
recipient(s) could not be reached:"), then ``address on <date>`` lines with the
reason and an ``MSEXCH:`` diagnostic code indented below.
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'exchange2003'

_START_RE = re.compile(r'(?:did not reach the following recipient\(s\)|'
                       r'following recipient\(s\) could not be reached):', re.IGNORECASE)
_END_RE = re.compile(r'^(?:-{2,}|Content-Type: message/rfc822)', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^\s*(?P<address>[^\s<>]+@[^\s<>]+) on .{6,60}$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    start = _START_RE.search(text)
    if not start:
        return None
    found = read_blocks(cut(text[start.end():], _END_RE), _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
    return Finding(found) if found else None
