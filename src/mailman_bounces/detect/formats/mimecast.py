"""Mimecast's "[Postmaster] Email Delivery Failure" notices.

"An email that you attempted to send to the following address could not be
delivered:" with ``-- address``, "The problem appears to be :" with ``--
summary``, "Additional information follows :" with ``-- the remote answer``,
then how many attempts were made over how long.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'mimecast'

_RECIPIENTS_RE = re.compile(r'following address(?:es)? could not be delivered:\s*\n(?P<list>(?:\s*-- .*\n)+)',
                            re.IGNORECASE)
_SECTION_RE = re.compile(r'^(?:The problem appears to be|Additional information follows)\s*:\s*\n\s*-- (?P<text>.+)$',
                         re.IGNORECASE | re.MULTILINE)
_TEMPORARY_RE = re.compile(r'will (?:continue|keep) (?:trying|to try)|still trying', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    recipients = _RECIPIENTS_RE.search(text)
    if not recipients:
        return None
    sections = [match.group('text').strip() for match in _SECTION_RE.finditer(text, recipients.end())]
    if not sections:
        return None
    diagnostic = ' '.join(sections)
    permanent = not _TEMPORARY_RE.search(text)
    addresses = [clean_address(line.strip()[2:]) for line in recipients.group('list').split('\n') if line.strip()]
    found = [Found(address=address, diagnostic=diagnostic, permanent=permanent) for address in addresses if address]
    return Finding(found) if found else None
