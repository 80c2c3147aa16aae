"""Gmail's bounces without recipient fields, and Google Groups rejections.

Old Gmail (before 2014): "Delivery to the following recipient(s) failed
permanently:" (or "has been delayed:") with the addresses indented below, then
"Technical details of permanent|temporary failure:" and the remote server's
answer.  Current Gmail and Google Workspace: a heading such as "** Message not
delivered **" or "** Address not found **", a paragraph for people, then "The
response was:" (or "The response from the remote server was:") and the answer;
the recipients are in X-Failed-Recipients (when the delivery-status part lists
them, :mod:`.rfc3464` reads it first).  Google Groups (localised in many
languages) names the group in X-Failed-Recipients and means "you may not post to
this group".
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail
from .common import addresses_in, cut

NAME = 'gmail'

_LIST_RE = re.compile(r'Delivery to the following recipients? (failed permanently|has been delayed|'
                      r'failed temporarily)[^\n]*:', re.IGNORECASE)
_DETAILS_RE = re.compile(r'Technical details of (?:permanent|temporary) failure:', re.IGNORECASE)
_END_RE = re.compile(r'^-{3,} ?Original message ?-{3,}', re.IGNORECASE | re.MULTILINE)
_GROUPS_RE = re.compile(r'groups\.google\.com/support|^Google Groups\.?\s*$', re.MULTILINE)
_HEADING_RE = re.compile(r'^\*\* ?(?:Message not delivered|Address not found|Message blocked|'
                         r'Delivery incomplete|Message delayed) ?\*\*\s*$', re.IGNORECASE | re.MULTILINE)
_RESPONSE_RE = re.compile(r'^The response(?: from the remote server)? was:\s*$', re.IGNORECASE | re.MULTILINE)
_LEARN_MORE_RE = re.compile(r'^Learn more (?:here|at):.*$', re.IGNORECASE | re.MULTILINE)
_TEMPORARY_RE = re.compile(r'\*\* ?(?:Delivery incomplete|Message delayed)', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    if 'google' not in mail.header('from').lower() and 'google' not in mail.header('message-id').lower():
        return None
    text = cut(mail.text, _END_RE)
    listing = _LIST_RE.search(text)
    if listing:
        return _gmail(text, listing)
    heading = _HEADING_RE.search(text, 0, 1000)
    if heading:
        return _headed_notice(mail, text, heading)
    if _GROUPS_RE.search(text):
        return _google_groups(mail, text)
    return None


def _gmail(text: str, listing: re.Match[str]) -> Finding | None:
    permanent = listing.group(1).lower() == 'failed permanently'
    details = _DETAILS_RE.search(text, listing.end())
    stop = details.start() if details else len(text)
    addresses = [a for a in (clean_address(line) for line in text[listing.end():stop].split('\n')) if a]
    diagnostic = text[details.end():].strip() if details else None
    found = [Found(address=address, diagnostic=diagnostic, permanent=permanent,
                   action='failed' if permanent else 'delayed') for address in addresses]
    return Finding(found) if found else None


def _headed_notice(mail: Mail, text: str, heading: re.Match[str]) -> Finding | None:
    """Current Gmail: the explanation for people plus the remote server's answer."""
    body = _LEARN_MORE_RE.sub('', text[heading.end():])
    response = _RESPONSE_RE.search(body)
    people = body[:response.start()] if response else body
    answer = body[response.end():] if response else ''
    diagnostic = ' '.join(f'{people} {answer}'.split())
    permanent = not _TEMPORARY_RE.search(heading.group(0))
    found = [Found(address=address, diagnostic=diagnostic, permanent=permanent,
                   action='failed' if permanent else 'delayed')
             for address in addresses_in(mail.header('x-failed-recipients'))]
    return Finding(found) if found else None


def _google_groups(mail: Mail, text: str) -> Finding | None:
    groups = addresses_in(mail.header('x-failed-recipients'))
    diagnostic = ' '.join(line.strip() for line in text.strip().split('\n')[:3])
    found = [Found(address=group, diagnostic=diagnostic, permanent=True, reason='rejected')
             for group in groups]
    return Finding(found) if found else None


def recognise(mail: Mail) -> bool:
    """A DSN from Gmail or Google Workspace (read by :mod:`.rfc3464`)."""
    return mail.sender.endswith(('@googlemail.com>', '@google.com>', '@googlemail.com', '@google.com')) \
        and 'mailer-daemon' in mail.sender
