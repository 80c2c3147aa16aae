"""Boxed notices with a "Technical details:" section.

The MTA is unidentified (set-of-emails and Sisimai call it X3), so the module
is named after its notice.

"This is an automatically generated Delivery Status Notification.", then
"Delivery to the following recipients failed permanently:" (or "... was
aborted after N hour(s):", the queue lifetime ran out) with ``* address``
lines, and under "Technical details:" the SMTP exchange, e.g. ``SMTP:RCPT host
192.0.2.8: 553 5.3.0 <address>... No such user here``.  "Delevery" is the
MTA's own spelling.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'technical_details'

_BANNER_RE = re.compile(r'This is an automatically generated Delivery Status Notification', re.IGNORECASE)
_LIST_RE = re.compile(r'^Del[ei]very to the following recipients (?P<how>failed permanently|was aborted after[^:\n]*):',
                      re.IGNORECASE | re.MULTILINE)
_ITEM_RE = re.compile(r'^\s*\* (?P<address>\S+@\S+)\s*$', re.MULTILINE)
_DETAILS_RE = re.compile(r'^\s*Technical details:\s*$(?P<details>.*?)^={10,}', re.IGNORECASE | re.MULTILINE | re.DOTALL)
_COMMAND_RE = re.compile(r'^SMTP:(?P<command>[A-Z]+) ', re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text, 0, 1000):
        return None
    listing = _LIST_RE.search(text)
    if not listing:
        return None
    details = _DETAILS_RE.search(text, listing.end())
    explanation = ' '.join(details.group('details').split()) if details else None
    command = _COMMAND_RE.search(explanation or '')
    expired = listing.group('how').lower().startswith('was aborted')
    stop = details.start() if details else len(text)
    # Both headings say the MTA has given up: the recipients failed.
    found = [Found(address=match.group('address'), diagnostic=explanation, permanent=True, action='failed',
                   reason='expired' if expired else None, command=command.group('command') if command else None)
             for match in _ITEM_RE.finditer(text, listing.end(), stop) if clean_address(match.group('address'))]
    return Finding(found) if found else None
