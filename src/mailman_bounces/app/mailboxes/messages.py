"""What one message fetched from a bounce mailbox is, and its registrations.

A fetched message goes the way a bounce received over LMTP goes
(`mailman_bounces.app.intake`): the list is the mailbox's fixed list or the
one whose -bounces address (VERP or not) is found first in Delivered-To,
X-Original-To or To, and that address plays the envelope recipient's part
in VERP decoding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from mailman.interfaces.listmanager import IListManager
from mailman.utilities.datetime import now
from public import public
from zope.component import getUtility

from mailman_bounces.app.intake import (
    bounces_list,
    intake,
    received_message,
    received_metadata,
)
from mailman_bounces.app.processor import Registration
from mailman_bounces.app.tracking import TrackingUpdate
from mailman_bounces.config import MailboxConfig, site_config

log = logging.getLogger('mailman.bounce')

# Where the list's bounce address is looked for, in this order.
LIST_HEADERS = ('Delivered-To', 'X-Original-To', 'To')
# Outcomes whose message goes to processed_folder (the rest: unparsed).
PROCESSED = frozenset({'bounce', 'autoreply', 'tracking'})


@public
@dataclass
class Fetched:
    """One fetched message and what it turned out to be."""

    key: Any                 # its UID or UIDL
    outcome: str             # see `Intake.outcome`, or 'no-list', 'broken'
    registrations: list[Registration] = field(default_factory=list)
    # What message tracking stores (`mailman_bounces.app.tracking`).
    tracking: list[TrackingUpdate] = field(default_factory=list)

    @property
    def processed(self) -> bool:
        return self.outcome in PROCESSED


def _bounce_address(msg: Any, listnames: set[str]) -> tuple[str, str] | None:
    """(list name, the address naming it) found in the list headers."""
    for header in LIST_HEADERS:
        for _, address in getaddresses(msg.get_all(header, [])):
            listname = bounces_list(address, listnames)
            if listname is not None:
                return listname, address
    return None


def _target(box: MailboxConfig, msg: Any) -> tuple[Any, str | None]:
    manager = getUtility(IListManager)
    found = _bounce_address(msg, set(manager.names))
    if box.list:
        mlist = manager.get(box.list)
        if mlist is None:
            log.error('mailbox %s: list %s does not exist', box.name,
                      box.list)
        envelope = found[1] if found and found[0] == box.list else None
        return mlist, envelope
    if found is None:
        return None, None
    return manager.get(found[0]), found[1]


@public
def examine(box: MailboxConfig, key: Any, content: bytes) -> Fetched:
    """What `content` (fetched from `box`) is; never raises for bad mail."""
    try:
        msg = received_message(content, None)
        mlist, envelope = _target(box, msg)
        if mlist is None:
            log.info('mailbox %s: message %s is for no list', box.name, key)
            return Fetched(key, 'no-list')
        msgdata = received_metadata(mlist.list_id, content, envelope, now(),
                                    site_config().max_message_size)
        found = intake(mlist, msg, msgdata)
    except Exception:
        log.exception('mailbox %s: message %s cannot be handled', box.name,
                      key)
        return Fetched(key, 'broken')
    log.info('mailbox %s: message %s (%s) for %s: %s', box.name, key,
             (msg.get('message-id') or 'n/a').strip(), mlist.list_id,
             found.outcome)
    return Fetched(key, found.outcome, found.registrations, found.tracking)
