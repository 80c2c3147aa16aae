"""RFC 5965 Abuse Reporting Format (ARF) feedback reports: spam complaints.

The complained-about recipient is in Original-Rcpt-To (or Removal-Recipient for
opt-out reports); failing that, in the To: of the returned message.  Hotmail's
older feedback loop (JMRP) sends no feedback-report part: "complaint about
message from <ip>" with the message attached; it is read the same way.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from ..message import parse_fields
from ..report import Kind
from .common import addresses_in

NAME = 'arf'

_REPORT_TYPES = ('message/feedback-report',)


_LEGACY_SUBJECT_RE = re.compile(r'^\s*complaint about message from\b', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    if _LEGACY_SUBJECT_RE.match(mail.subject) and mail.original is not None:
        return _legacy_complaint(mail)
    if mail.content_type != 'multipart/report' and 'feedback-report' not in mail.header('content-type'):
        return None
    reports = mail.parts_of_type(*_REPORT_TYPES)
    if not reports:
        return None
    fields = parse_fields(reports[0].text().strip('\n'))
    feedback_type = next((value.strip().lower() for name, value in fields
                          if name == 'feedback-type'), None) or 'abuse'
    addresses: list[str] = []
    for name, value in fields:
        if name in ('original-rcpt-to', 'removal-recipient'):
            addresses.extend(a for a in addresses_in(value) if a not in addresses)
    if not addresses:
        for value in mail.original_recipients():
            addresses.extend(a for a in addresses_in(value) if a not in addresses)
    diagnostic = mail.text.strip()[:1000] or None
    found = [Found(address=address, reason='feedback', feedback_type=feedback_type,
                   diagnostic=diagnostic) for address in addresses]
    return Finding(found, kind=Kind.complaint, feedback_type=feedback_type)



def _legacy_complaint(mail: Mail) -> Finding:
    addresses: list[str] = []
    for value in mail.original_recipients():
        addresses.extend(a for a in addresses_in(value) if a not in addresses)
    found = [Found(address=address, reason='feedback', feedback_type='abuse', diagnostic=mail.subject)
             for address in addresses]
    return Finding(found, kind=Kind.complaint, feedback_type='abuse')
