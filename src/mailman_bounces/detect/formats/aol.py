"""AOL's own notices: its DSNs (read by :mod:`.rfc3464`) and its plain-text refusals.

AOL sends from postmaster@aol.com or MAILER-DAEMON@aol.com, either in its
HTML "Undeliverable:" layout or by its Postfix relays; those are standard DSNs
and this module only names them.  Its own plain-text notice says "Your mail to
the following recipients could not be delivered because ..." and lists each
recipient on an indented line of its own, by AOL screen name when the
recipient is an AOL member: ``screenname`` is the mailbox
``screenname@aol.com``, the domain of the host that refused it (what
flufl.bounce reports too).
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'aol'

_SENDER_RE = re.compile(r'(?:postmaster|mailer-daemon)@(aol\.com|aim\.com)\b')
_LIST_RE = re.compile(r'mail to the following recipients could not be delivered(?P<why>[^:]*):[ \t]*\n',
                      re.IGNORECASE)
# A screen name: letters first, then letters, digits and a few marks (no space).
_SCREEN_NAME_RE = re.compile(r'[A-Za-z][A-Za-z0-9._-]{1,63}\Z')
MAX_RECIPIENTS = 100


def recognise(mail: Mail) -> bool:
    return bool(_SENDER_RE.search(mail.sender))


def parse(mail: Mail) -> Finding | None:
    sender = _SENDER_RE.search(mail.sender)
    if sender is None:
        return None
    text = mail.text
    listing = _LIST_RE.search(text)
    if listing is None:
        return None
    why = ' '.join(f'could not be delivered{listing.group("why")}'.split())
    found = [Found(address=address, diagnostic=why, permanent=True)
             for address in _recipients(text[listing.end():], sender.group(1))]
    return Finding(found, failure_stated=True)


def _recipients(listing: str, domain: str) -> list[str]:
    """The indented lines under the heading, up to the first line that is not
    one address or one screen name."""
    found: list[str] = []
    for line in listing.split('\n', MAX_RECIPIENTS)[:MAX_RECIPIENTS]:
        word = line.strip()
        if not word or ' ' in word:
            break
        address = clean_address(word) if '@' in word else (
            clean_address(f'{word}@{domain}') if _SCREEN_NAME_RE.match(word) else None)
        if address is None:
            break
        found.append(address)
    return found
