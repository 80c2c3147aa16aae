"""Outlook.com / Hotmail's own (pre-Exchange Online) DSNs (read by
:mod:`.rfc3464`; this module only names them).

Sent from postmaster@ a Hotmail or Outlook.com host; the text part says "This is
an automatically generated Delivery Status Notification." and "Delivery to the
following recipients failed." (or "... has been delayed.").
"""

from __future__ import annotations

import re

from ..mail import Mail

NAME = 'outlook'

_SENDER_RE = re.compile(r'postmaster@(?:[\w-]+\.)*(?:hotmail|outlook|live|msn)\.')
_BANNER_RE = re.compile(r'This is an automatically generated Delivery Status Notification', re.IGNORECASE)


def recognise(mail: Mail) -> bool:
    return bool(_SENDER_RE.search(mail.sender)) and bool(_BANNER_RE.search(mail.text, 0, 1000))
