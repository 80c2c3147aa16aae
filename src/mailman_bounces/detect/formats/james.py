"""Apache James (and the carrier gateways built on it) bounces.

"Error: <summary>", "Error message below:" with the remote answer, then
"Message details:" listing "RCPT TO: <address>".
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'james'

_BELOW_RE = re.compile(r'^Error message below:\s*\n(?P<why>.*?)\n\s*Message details:', re.IGNORECASE | re.MULTILINE | re.DOTALL)
_SUMMARY_RE = re.compile(r'^Error:\s*(.+)$', re.IGNORECASE | re.MULTILINE)
_RCPT_RE = re.compile(r'^\s*RCPT TO:\s*<?([^\s<>]+@[^\s<>]+)>?\s*$', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    below = _BELOW_RE.search(text)
    if not below:
        return None
    summary = _SUMMARY_RE.search(text)
    diagnostic = ' '.join(filter(None, [summary.group(1) if summary else None, below.group('why').strip()]))
    found = [Found(address=match.group(1), diagnostic=diagnostic, permanent=True)
             for match in _RCPT_RE.finditer(text, below.end())]
    return Finding(found) if found else None
