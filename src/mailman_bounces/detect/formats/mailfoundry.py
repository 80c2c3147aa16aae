"""MailFoundry gateway bounces.

"Unable to deliver message to: <address>", "Delivery failed for the following
reason:" and the remote answer, then "This has been a permanent failure." (or a
temporary one).
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'mailfoundry'

_RECIPIENT_RE = re.compile(r'^Unable to deliver message to: <(?P<address>[^<>\s]+)>', re.IGNORECASE | re.MULTILINE)
_REASON_RE = re.compile(r'^Delivery failed for the following reason:\s*\n(?P<why>.+?)(?:\n\s*\n|\Z)',
                        re.IGNORECASE | re.MULTILINE | re.DOTALL)
_TEMPORARY_RE = re.compile(r'This has been a temporary failure', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    reason = _REASON_RE.search(text)
    if not reason:
        return None
    why = ' '.join(reason.group('why').split())
    permanent = not _TEMPORARY_RE.search(text)
    found = [Found(address=match.group('address'), diagnostic=why, permanent=permanent)
             for match in _RECIPIENT_RE.finditer(text, 0, reason.start())]
    return Finding(found) if found else None
