"""Postfix's plain-text bounces: the ones without a delivery-status part.

"This is the Postfix program at host ..." (older releases) or "This is the mail
system at host ...", then one paragraph per recipient: ``<address>: host
mx.example.net[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO command)``,
or ``<address> (expanded from <alias>): ...`` for a local alias.  A report
whose delivery-status part lists nobody ("--- Delivery report unavailable ---")
names the recipient only as the To: of the returned message.  Postfix DSNs with
recipients are read by :mod:`.rfc3464`.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import ORIGINAL_MESSAGE_RE, cut, original_to, read_blocks

NAME = 'postfix'

_BANNER_RE = re.compile(r'^This is the (?:Postfix program|mail system) at host \S+', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^<(?P<address>[^<>\s]+@[^<>\s]+)>(?P<rest>(?: \(expanded from <[^<>\s]+>\))?:.*)$')
_EXPANDED_RE = re.compile(r'\A\s*\(expanded from <([^<>\s]+)>\)')
_REMOTE_RE = re.compile(r'\bhost ([\w.-]+)\[[\d.:a-fA-F]+\]')
_WARNING_RE = re.compile(r'this is a warning only|warning message only|still being retried|delayed mail',
                         re.IGNORECASE)
_UNAVAILABLE_RE = re.compile(r'-+ ?Delivery report unavailable ?-+', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text, 0, 2000):
        return None
    permanent = not (_WARNING_RE.search(mail.subject) or _WARNING_RE.search(text, 0, 2000))
    found = read_blocks(cut(text, ORIGINAL_MESSAGE_RE), _ADDRESS_LINE_RE, stop_at_blank=True)
    for item in found:
        _complete(item, permanent)
    if not found and _UNAVAILABLE_RE.search(text):
        address = original_to(mail)
        found = [Found(address=address, permanent=permanent)] if address else []
    return Finding(found) if found else None


def _complete(item: Found, permanent: bool) -> None:
    diagnostic = item.diagnostic or ''
    expanded = _EXPANDED_RE.match(diagnostic)
    if expanded:
        item.original = expanded.group(1)
        diagnostic = diagnostic[expanded.end():]
    item.diagnostic = diagnostic.lstrip(':').strip() or None
    remote = _REMOTE_RE.search(diagnostic)
    item.remote_mta = remote.group(1) if remote else None
    item.permanent = permanent


def recognise(mail: Mail) -> bool:
    """A Postfix DSN (read by :mod:`.rfc3464`): Postfix's opening sentence."""
    head = mail.text[:1000]
    return 'This is the mail system at host' in head or 'This is the Postfix program at host' in head
