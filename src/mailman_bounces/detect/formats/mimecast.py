"""Mimecast's "[Postmaster] Email Delivery Failure" notices.

"An email that you attempted to send to the following address could not be
delivered:" (or "... an email you addressed to email address :") with ``--
address`` lines, "The problem appears to be :" with ``-- summary``, "Additional
information follows :" with ``-- the remote answer``, then how many attempts
were made over how long.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'mimecast'

_PROBLEM_RE = re.compile(r'^(?:could not be delivered\. )?The problem appears to be\s*:', re.IGNORECASE | re.MULTILINE)
_ITEM_RE = re.compile(r'^\s*-- (?P<item>\S+)\s*$', re.MULTILINE)
_SECTION_RE = re.compile(r'^(?:The problem appears to be|Additional information follows)\s*:\s*\n\s*-- (?P<text>.+)$',
                         re.IGNORECASE | re.MULTILINE)
_TEMPORARY_RE = re.compile(r'will (?:continue|keep) (?:trying|to try)|still trying', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    problem = _PROBLEM_RE.search(text, 0, 3000)
    if not problem:
        return None
    sections = [match.group('text').strip() for match in _SECTION_RE.finditer(text)]
    addresses = [clean_address(match.group('item')) for match in _ITEM_RE.finditer(text, 0, problem.start())]
    permanent = not _TEMPORARY_RE.search(text)
    found = [Found(address=address, diagnostic=' '.join(sections) or None, permanent=permanent)
             for address in addresses if address]
    return Finding(found) if found else None
