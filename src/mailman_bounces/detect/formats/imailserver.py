"""Ipswitch IMail Server bounces (its SMTP service signs ``X-Mailer: <SMTP32 vN>``).

The body starts with one ``Cause: address`` line per recipient ("Unknown user:",
"User mailbox exceeds allowed size:", "Invalid final delivery userid:") or
"undeliverable to address", then, when the remote server answered, "Body of
message generated response:" and the answer, and "Original message follows.".
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail
from .common import from_daemon

NAME = 'imailserver'

_CAUSE_RE = re.compile(r'^(?P<cause>[A-Za-z][^:\n]{2,80}?)(?::| to) (?P<address>\S+@\S+)\s*$', re.MULTILINE)
_RESPONSE_RE = re.compile(r'^Body of message generated response:\s*\n(?P<response>.+?)(?:\n\s*\n|\Z)',
                          re.IGNORECASE | re.MULTILINE | re.DOTALL)
_END_RE = re.compile(r'^Original message follows\.', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    # IMail's SMTP service signs what it generates; only its postmaster's are bounces.
    if not mail.header('x-mailer').lstrip().startswith('<SMTP32 v') or not from_daemon(mail):
        return None
    text = mail.text
    end = _END_RE.search(text)
    text = text[:end.start()] if end else text
    response = _RESPONSE_RE.search(text)
    answer = ' '.join(response.group('response').split()) if response else None
    found: list[Found] = []
    for match in _CAUSE_RE.finditer(text):
        address = clean_address(match.group('address'))
        if address and match.group('cause').strip().lower() not in ('to', 'cc', 'from'):
            cause = match.group('cause').strip()
            found.append(Found(address=address, diagnostic=answer or cause, permanent=True))
    return Finding(found) if found else None
