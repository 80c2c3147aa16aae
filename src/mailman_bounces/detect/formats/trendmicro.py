"""Trend Micro InterScan Messaging Security Suite (IMSS) notifications.

Either the SMTP exchange that failed, as ``Sent <<< RCPT TO:<address>`` and
``Received >>> 550 5.1.1 ...``, or "Unable to deliver message to <address> (and
other recipients in the same domain)." with, sometimes, a hint after it.  The
notice is signed "Message from InterScan Messaging Security Suite" or comes from
"InterScan MSS".
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'trendmicro'

_SIGNED_RE = re.compile(r'InterScan', re.IGNORECASE)
_EXCHANGE_RE = re.compile(r'^Sent <<< (?P<command>RCPT TO|MAIL FROM|DATA)\s*:?<(?P<address>[^<>\s]+)>\s*\n'
                          r'Received >>> (?P<answer>.+)$', re.IGNORECASE | re.MULTILINE)
_UNABLE_RE = re.compile(r'Unable to deliver message to <(?P<address>[^<>\s]+)>(?P<rest>[^\n]*)', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not (_SIGNED_RE.search(mail.sender) or _SIGNED_RE.search(text, 0, 1000)):
        return None
    found = [Found(address=match.group('address'), diagnostic=match.group('answer').strip(), permanent=True,
                   command=match.group('command').split()[0].upper())
             for match in _EXCHANGE_RE.finditer(text)]
    if not found:
        found = [Found(address=match.group('address'), diagnostic=match.group(0).strip(), permanent=True)
                 for match in _UNABLE_RE.finditer(text)]
    return Finding(found) if found else None
