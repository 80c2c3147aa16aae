"""Verizon Wireless MMS gateway (MMSC) refusals, from ``vzwpix.com``.

"Message could not be delivered to mobile.", "Error: <cause>", then "Original
Message:" with the original's From:, To: and Subject: lines; the recipient is
that To:.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'verizon'

_BANNER_RE = re.compile(r'Message could not be delivered to mobile', re.IGNORECASE)
_ERROR_RE = re.compile(r'^Error:\s*(?P<why>.+)$', re.IGNORECASE | re.MULTILINE)
_TO_RE = re.compile(r'^Original Message:\s*\n(?:[A-Za-z-]+:.*\n)*?To:\s*(?P<to>.+)$', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    banner = _BANNER_RE.search(text, 0, 1000)
    recipient = _TO_RE.search(text)
    if not banner or not recipient:
        return None
    error = _ERROR_RE.search(text, banner.end())
    diagnostic = error.group('why').strip() if error else banner.group(0)
    found = [Found(address=address.strip(), diagnostic=diagnostic, permanent=True)
             for address in recipient.group('to').split(',')]
    return Finding(found)
