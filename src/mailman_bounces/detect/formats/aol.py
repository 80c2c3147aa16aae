"""AOL's own DSNs (read by :mod:`.rfc3464`; this module only names them).

Sent from postmaster@aol.com or MAILER-DAEMON@aol.com, either in AOL's HTML
"Undeliverable:" layout or by its Postfix relays.
"""

from __future__ import annotations

import re

from ..mail import Mail

NAME = 'aol'

_SENDER_RE = re.compile(r'(?:postmaster|mailer-daemon)@aol\.com\b')


def recognise(mail: Mail) -> bool:
    return bool(_SENDER_RE.search(mail.sender))
