"""Notices saying "We had trouble delivering your message".

The MTA is unidentified (set-of-emails and Sisimai call it X6), so the module
is named after its notice.

"We had trouble delivering your message. Full details follow:", the subject
and date, "N error(s):", then one line per error: "The following recipients
returned permanent errors: <addresses>. Reason: ..." or "SMTP Server <host>
rejected recipient <address> (Error following RCPT command). It responded as
follows: [550 5.1.1 User unknown]".
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import addresses_in

NAME = 'trouble_delivering'

_BANNER_RE = re.compile(r'We had trouble delivering your message\. Full details follow:', re.IGNORECASE)
_ERRORS_RE = re.compile(r'^\d+ error\(s\):\s*$', re.IGNORECASE | re.MULTILINE)
_RETURNED_RE = re.compile(r'^The following recipients returned (?P<kind>permanent|temporary) errors: '
                          r'(?P<addresses>.+?)\. Reason: (?P<why>.+)$', re.IGNORECASE | re.MULTILINE)
_REJECTED_RE = re.compile(r'^SMTP Server <(?P<host>[^<>]+)> rejected recipient <(?P<address>[^<>\s]+)> '
                          r'\(Error following (?P<command>[A-Z]+) command\)\. It responded as follows: \[(?P<why>.+)\]',
                          re.IGNORECASE | re.MULTILINE)
_HOST_RE = re.compile(r'SMTP Server <(?P<host>[^<>]+)>', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text, 0, 1000):
        return None
    errors = _ERRORS_RE.search(text)
    start = errors.end() if errors else 0
    found: list[Found] = []
    for match in _RETURNED_RE.finditer(text, start):
        host = _HOST_RE.search(match.group('why'))
        found.extend(Found(address=address, diagnostic=match.group('why'), remote_mta=host.group('host') if host else None,
                           permanent=match.group('kind').lower() == 'permanent')
                     for address in addresses_in(match.group('addresses')))
    for match in _REJECTED_RE.finditer(text, start):
        found.append(Found(address=match.group('address'), diagnostic=match.group('why'), permanent=True,
                           remote_mta=match.group('host'), command=match.group('command').upper()))
    return Finding(found) if found else None
