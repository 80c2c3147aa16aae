"""Notices saying "Your mail message to the following address(es) could not be
delivered".

Written by an unidentified qmail-derived MTA (set-of-emails and Sisimai call
it X4), so the module is named after the notice.

"Your mail message to the following address(es) could not be delivered.  This
is a permanent error.", then qmail-style ``<address>:`` paragraphs (vpopmail's
"child status 100..." for a full mailbox) up to "--- Below this line is a copy
of the message.".
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'could_not_be_delivered'

_BANNER_RE = re.compile(r'Your mail message to the following address\(es\) could not be delivered', re.IGNORECASE)
_END_RE = re.compile(r'^--- Below this line is a copy of the message', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^<(?P<address>[^<>\s]+@[^<>\s]+)>:\s*(?P<rest>.*)$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text, 0, 1000):
        return None
    found = read_blocks(cut(text, _END_RE), _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
    return Finding(found) if found else None
