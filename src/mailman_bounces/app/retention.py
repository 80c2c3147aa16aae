"""Forgetting old history, set-based.

Core keeps bounce events about a day and evicts them one by one in Python.
The plugin keeps them (and the stored bounce messages) for each list's
``retention`` (90 days by default) and evicts with a handful of DELETE
statements, whatever the number of rows.  Message tracking's posts,
copies and reports go after each list's ``tracking_retention`` (90 days
by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailman.config import config
from mailman.model.member import Member
from public import public
from sqlalchemy import delete, exists, select, true

from mailman_bounces.app.event_summary import delete_events
from mailman_bounces.app.settings import list_retentions
from mailman_bounces.config import site_config
from mailman_bounces.database.planner import not_for_lookup
from mailman_bounces.esp.sns import seen_kept
from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.model.hooks import Callback, WebhookSeen
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.model.notice import Notice
from mailman_bounces.model.tracking import (
    ReceivedReport,
    TrackedDelivery,
    TrackedPost,
)
from mailman_bounces.model.traffic import ListTraffic

log = logging.getLogger('mailman.bounce')

# Traffic snapshots are needed as far back as a Sympa bouncing run goes.
TRAFFIC_KEPT = timedelta(days=400)


@public
@dataclass
class Evicted:
    """How many rows each eviction step removed."""

    events: int = 0
    messages: int = 0
    notices: int = 0
    freezes: int = 0
    states: int = 0
    # Tracked posts (with their copies and the reports about them).
    tracked: int = 0

    @property
    def total(self) -> int:
        return (self.events + self.messages + self.notices + self.freezes
                + self.states + self.tracked)


def _delete(statement) -> int:
    return config.db.store.execute(
        statement.execution_options(synchronize_session=False)).rowcount


def _evict_hook_memory(now: datetime, kept: timedelta) -> None:
    """Forget Mailgun tokens once their timestamps are out of the window
    (a replay is refused by the window then), provider event ids and
    SparkPost batches with the events, and sent callbacks."""
    window = site_config().webhooks.window
    tokens = _delete(delete(WebhookSeen).where(
        WebhookSeen.kind == 'token', WebhookSeen.received < now - 2 * window))
    # Never before a replayed SNS message is refused by its age: a short
    # retention would let it in again.
    ids_kept = max(kept, seen_kept(window))
    seen = _delete(delete(WebhookSeen).where(
        WebhookSeen.received < now - ids_kept))
    sent = _delete(delete(Callback).where(
        Callback.state == 'delivered', Callback.created < now - kept))
    if tokens + seen + sent:
        log.info('Evicted %d webhook tokens, %d webhook ids, %d callbacks',
                 tokens, seen, sent)


def _evict_tracking(now: datetime) -> int:
    """Forget the tracked posts older than their list's
    ``tracking_retention``, their copies and the reports received."""
    default, overrides = list_retentions('tracking_retention')
    cuts = [(TrackedPost.list_id.not_in(sorted(overrides))
             if overrides else true(), None, default)]
    cuts += [(TrackedPost.list_id == list_id, list_id, retention)
             for list_id, retention in sorted(overrides.items())]
    posts = 0
    for condition, list_id, retention in cuts:
        cutoff = now - retention
        old = select(TrackedPost.id).where(condition,
                                           TrackedPost.sent_at < cutoff)
        copies = select(TrackedDelivery.id).where(
            TrackedDelivery.post_id.in_(old))
        report = ReceivedReport
        _delete(delete(report).where(report.delivery_id.in_(copies)))
        # Forged reports, and reports of copies gone already.
        _delete(delete(report).where(
            report.received < cutoff,
            report.list_id == list_id if list_id is not None else (
                report.list_id.not_in(sorted(overrides)) if overrides
                else true())))
        _delete(delete(TrackedDelivery).where(
            TrackedDelivery.post_id.in_(old)))
        # Not by id IN (a select of the same table): MariaDB refuses it.
        posts += _delete(delete(TrackedPost).where(
            condition, TrackedPost.sent_at < cutoff))
    return posts


@public
def evict(now: datetime) -> Evicted:
    """Delete what is older than its retention."""
    default, overrides = list_retentions()
    evicted = Evicted()
    event = BounceEvent
    # The cut-off bounds the work: only its index may be used.  Through
    # delete_events, which takes them out of the per-day summary too.
    evicted.events = delete_events(
        not_for_lookup(event.processed).is_(True),
        event.timestamp < now - default,
        event.list_id.not_in(sorted(overrides)) if overrides else true())
    for list_id, retention in sorted(overrides.items()):
        evicted.events += delete_events(
            event.list_id == list_id,
            not_for_lookup(event.processed).is_(True),
            event.timestamp < now - retention)
    shortest = min([default, *overrides.values()])
    evicted.messages = _delete(delete(StoredBounce).where(
        StoredBounce.received < now - shortest,
        ~exists().where(event.stored_message_id == StoredBounce.id)))
    evicted.notices = _delete(delete(Notice).where(
        Notice.sent.is_not(None), Notice.sent < now - default))
    evicted.freezes = _delete(delete(OutageFreeze).where(
        OutageFreeze.expires < now - default))
    evicted.states = _delete(delete(MemberBounceState).where(
        ~exists().where(Member.id == MemberBounceState.member_id)))
    _delete(delete(ListTraffic).where(
        ListTraffic.day < (now - TRAFFIC_KEPT).date()))
    _evict_hook_memory(now, default)
    evicted.tracked = _evict_tracking(now)
    if evicted.total:
        log.info('Evicted %s', evicted)
    return evicted
