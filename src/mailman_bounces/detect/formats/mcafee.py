"""McAfee Email Gateway DSNs (read by :mod:`.rfc3464`; this module only names
them).

Subject "Delivery Status", text "--- The following addresses had delivery
problems ---" and ``<address>   (reason)`` lines.
"""

from __future__ import annotations

import re

from ..mail import Mail

NAME = 'mcafee'

_BANNER_RE = re.compile(r'--- The following addresses had delivery problems ---')


def recognise(mail: Mail) -> bool:
    return mail.subject.strip().lower() == 'delivery status' and bool(_BANNER_RE.search(mail.text, 0, 1000))
