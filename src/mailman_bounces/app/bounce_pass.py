"""The periodic bounce pass (first version: core-compatible scoring).

Scoring follows core's rules: one increment per member per day, reset when
the score is stale, disable (or probe) at the threshold.  The policy issue
replaces this module with batched, weighted processing.
"""

from __future__ import annotations

import logging

from mailman.config import config
from mailman.interfaces.bounce import IBounceProcessor
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.member import DeliveryStatus
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select
from zope.component import getUtility

from mailman_bounces.model.event import BounceEvent

log = logging.getLogger('mailman.bounce')


def _process_one(event: BounceEvent) -> None:
    mlist = getUtility(IListManager).get_by_list_id(event.list_id)
    event.processed = True
    event.processed_at = now()
    if mlist is None:
        event.outcome = 'no-list'
        return
    member = mlist.members.get_member(event.email)
    if member is None:
        event.outcome = 'not-member'
        return
    if not mlist.process_bounces:
        event.outcome = 'processing-off'
        return
    if member.preferences.delivery_status == DeliveryStatus.by_bounces:
        event.outcome = 'already-disabled'
        return
    last = member.last_bounce_received
    if last is not None and last.date() == event.timestamp.date():
        member.last_bounce_received = event.timestamp
        event.outcome = 'same-day'
        return
    if last is None or last < event.timestamp - mlist.bounce_info_stale_after:
        member.bounce_score = 1
    else:
        member.bounce_score += 1
    member.last_bounce_received = event.timestamp
    event.outcome = 'scored'
    event.score_delta = 1.0
    if member.bounce_score >= mlist.bounce_score_threshold:
        member.bounce_score = 0
        member.preferences.delivery_status = DeliveryStatus.by_bounces
        member.total_warnings_sent = 0
        event.outcome = 'disabled'


@public
def process_events(events) -> None:
    """Process `events` (bounce events) in order."""
    for event in events:
        if not event.processed:
            _process_one(event)


@public
def send_warnings_and_remove() -> None:
    """Placeholder until the policy engine lands: nothing to do."""


@public
def run_pass() -> None:
    """One periodic pass over all unprocessed events."""
    store = config.db.store
    events = store.execute(
        select(BounceEvent).where(BounceEvent.processed == False)  # noqa
        .order_by(BounceEvent.id)).scalars().all()
    process_events(events)
    getUtility(IBounceProcessor).send_warnings_and_remove()
    config.db.commit()
