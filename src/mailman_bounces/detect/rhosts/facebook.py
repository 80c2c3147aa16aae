"""Facebook (facebook.com mail addresses).

Facebook's answers carry a code ``AAA-Xn``: a family (RCP recipient, CON
connection, DNS, POL policy, MSG message, SPM spam, INT internal) and P
(permanent) or T (temporary).  Source: the provider's published error codes
(postmaster.facebook.com/response_codes).
"""

from __future__ import annotations

import re

NAME = 'Facebook'
DOMAINS = ('facebook.com', 'fb.com', 'facebookmail.com')
MARKERS = ('postmaster.facebook.com',)
_CODE_RE = re.compile(r'\b(rcp|con|dns|pol|msg|spm|int)-([pt]\d)\b')

CODES = {
    ('rcp', 'p1'): 'userunknown',   # the recipient address does not exist
    ('rcp', 'p2'): 'filtered',      # the recipient's preferences refuse the message
    ('rcp', 'p3'): 'filtered',      # the recipient's privacy settings refuse it
    ('rcp', 't1'): 'systemerror',   # the recipient is unavailable (internal issue)
    ('rcp', 't4'): 'suspend',       # the recipient is deactivated
    ('msg', 'p1'): 'mesgtoobig',    # the message exceeds the size limit
    ('msg', 'p2'): 'toomanyconn',   # too many recipients
    ('pol', 'p7'): 'authfailure',   # the message fails DMARC
    ('dns', 'p1'): 'rejected',      # the MAIL FROM domain does not exist
    ('dns', 'p2'): 'rejected',      # the MAIL FROM domain has no MX
    ('dns', 'p3'): 'requireptr',    # the sending IP has no reverse DNS
    ('dns', 't2'): 'requireptr',
}
FAMILIES = {
    'con': 'toomanyconn',   # connection limits
    'pol': 'blocked',       # the sending IP is listed or refused
    'spm': 'spamdetected',
    'int': 'systemerror',
}


def reason(text: str, command: str | None = None) -> str | None:
    match = _CODE_RE.search(text)
    if not match:
        return None
    family, code = match.groups()
    if (family, code) in CODES:
        return CODES[(family, code)]
    if family == 'pol' and code.startswith('t'):
        return 'speeding'   # temporary policy refusals are rate limits
    return FAMILIES.get(family)
