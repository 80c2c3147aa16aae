"""Charter Spectrum (charter.net, spectrum.net, rr.com).

Spectrum ends each refusal with ``AUP#`` and a number, optionally marked In/Out
(``AUP#In-1310``).  Source: the provider's published error codes (spectrum.net,
"Understanding email error codes").
"""

from __future__ import annotations

import re

NAME = 'Charter Spectrum'
DOMAINS = ('charter.net', 'spectrum.net', 'rr.com', 'twc.com', 'brighthouse.com')
MARKERS = ('aup#', 'spectrum.net/')
_CODE_RE = re.compile(r'\baup#(?:in|out|i|o)?-?(\d{4})\b')


def reason(text: str, command: str | None = None) -> str | None:
    match = _CODE_RE.search(text)
    if not match:
        return None
    code = match.group(1)
    if code.startswith('10'):
        return 'blocked'      # 1000-1099: the sending IP is on a block list
    if code == '1310':
        return 'toomanyconn'  # the IP exceeded the allowed number of connections
    return None
