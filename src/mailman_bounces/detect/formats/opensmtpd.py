"""OpenSMTPD's plain-text bounces and delay warnings (releases before 6.x sent
DSNs, which :mod:`.rfc3464` reads).

"This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.", then "An
error has occurred while attempting to deliver a message for the following list
of recipients:" (or "A message is delayed for more than ... for the following
list of recipients:"), one ``address: explanation`` line each, and "Below is a
copy of the original message:".
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'opensmtpd'

_BANNER_RE = re.compile(r'This is the MAILER-DAEMON, please DO NOT REPLY', re.IGNORECASE)
_LIST_RE = re.compile(r'for\s+the\s+following\s+list\s+of\s+recipients:', re.IGNORECASE)
_DELAY_RE = re.compile(r'is delayed for more than|only a temporary failure', re.IGNORECASE)
_END_RE = re.compile(r'^\s*Below is a copy of the original message', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^(?P<address>[^\s<>:]+@[^\s<>:]+):\s*(?P<rest>.*)$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text, 0, 1000):
        return None
    listing = _LIST_RE.search(text)
    if not listing:
        return None
    head = text[:listing.end()]
    found = read_blocks(cut(text[listing.end():], _END_RE), _ADDRESS_LINE_RE, stop_at_blank=True)
    permanent = not _DELAY_RE.search(head)
    for item in found:
        item.permanent = permanent
    return Finding(found) if found else None


def recognise(mail: Mail) -> bool:
    """An OpenSMTPD DSN (read by :mod:`.rfc3464`): the same opening sentence."""
    return 'This is the MAILER-DAEMON, please DO NOT REPLY' in mail.text[:1000]
