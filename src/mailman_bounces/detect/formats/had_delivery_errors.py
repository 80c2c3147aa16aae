"""Notices listing "---The following addresses had delivery errors---".

The MTA that writes them is unidentified (seen at Japanese ISPs; set-of-emails
and Sisimai call it X1), so the module is named after its notice.

"The original message was received at <date>" / "from <sender>", then
"---The following addresses had delivery errors---" and one ``address
[cause]`` line per recipient.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'had_delivery_errors'

_LIST_RE = re.compile(r'^-{3}The following addresses had delivery errors-{3}\s*$', re.IGNORECASE | re.MULTILINE)
_LINE_RE = re.compile(r'^(?P<address>[^\s<>\[\]]+@[^\s<>\[\]]+) \[(?P<why>[^\]]*)\]\s*$', re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    listing = _LIST_RE.search(text)
    if not listing:
        return None
    found = [Found(address=match.group('address'), diagnostic=match.group('why').strip() or None, permanent=True)
             for match in _LINE_RE.finditer(text, listing.end(), listing.end() + 20000)]
    return Finding(found) if found else None
