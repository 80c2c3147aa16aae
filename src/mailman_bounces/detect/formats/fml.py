"""Error replies from the fml mailing list manager (popular in Japan).

fml answers a post it refuses ("You are not a member of this mailing list
<list@host>", "Duplicated Message-ID") with a plain message carrying
``X-MLServer: fml``.  The recipient that failed is the list address.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import ANGLE_ADDRESS_RE, ORIGINAL_MESSAGE_RE, cut

NAME = 'fml'

_NOT_MEMBER_RE = re.compile(r'not (?:a )?member', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    if not mail.header('x-mlserver').lower().startswith('fml'):
        return None
    text = cut(mail.text, re.compile(r'^Original mail as follows', re.IGNORECASE | re.MULTILINE))
    text = cut(text, ORIGINAL_MESSAGE_RE).strip()
    match = ANGLE_ADDRESS_RE.search(text)
    if not match:
        return None
    reason = 'rejected' if _NOT_MEMBER_RE.search(text) else 'systemerror'
    return Finding([Found(address=match.group(1), diagnostic=text[:500], permanent=True, reason=reason)])
