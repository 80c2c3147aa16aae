"""Matching received DSNs and MDNs to tracked deliveries, and storing them.

A report comes back to the signed ``t`` address of one recipient's copy
(`mailman_bounces.app.tracked_delivery`): a DSN as its return path (and
with the token as its ``Original-Envelope-Id`` too), an MDN at its
``Disposition-Notification-To``.  `match_tracking` finds the copy while the
bounce runner reads a batch (reads only); `record_tracking` writes what was
found with the batch's registrations, in the same transaction.

Success and delay DSNs and MDNs only ever change the tracking: they never
become bounce events, so they never score.  A failure DSN is stored here
and goes through the bounce path as verified evidence, as any bounce.  A
report to a forged token is recorded as forged and changes nothing.

The same message received twice (the MTA delivered it again, a mailbox
was fetched again after a crash) is recognised by its fingerprint, the
digest of its bytes as received, and stored once: its records change the
copy and queue callbacks once.  A report sent again by the MTA (a new
message, if with the same words) is a new report.

Each report stored against a tracked copy queues a ``tracking.report``
callback in the same transaction (`mailman_bounces.app.callbacks`), with
the webhook id of its stored row: every report received is one event, sent
once; a forged report (or one about a copy no longer kept) queues none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from mailman.config import config
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select

from mailman_bounces.app.callbacks import enqueue
from mailman_bounces.app.signing import check_token
from mailman_bounces.app.store import message_id_of
from mailman_bounces.app.verp import VERPResult, from_checked
from mailman_bounces.detect.tracking import DSN, TrackingRecord, TrackingReport
from mailman_bounces.model.tracking import (
    ReceivedReport,
    TrackedDelivery,
    TrackedPost,
)
from mailman_bounces.policy.tracking import next_state
from mailman_bounces.signing import (
    TRACKED_DELIVERY,
    VERIFIED,
)

log = logging.getLogger('mailman.bounce')


@public
@dataclass(frozen=True)
class TrackingUpdate:
    """One record of a received report, for the copy it is about (None:
    forged, or a copy no longer kept)."""

    list_id: str
    delivery_id: int | None
    evidence: str
    record: TrackingRecord
    received: datetime
    message_id: str | None
    # The report message's fingerprint and the record's place in it.
    fingerprint: str
    position: int


def _tracked(mlist, verp: VERPResult,
             report: TrackingReport) -> VERPResult | None:
    """The checked ``t`` token the report came back to: the envelope's (or
    the headers'), else a DSN's Original-Envelope-Id."""
    if verp.kind == TRACKED_DELIVERY:
        return verp
    if report.envelope_id:
        checked = check_token(mlist, report.envelope_id)
        if checked is not None and checked.kind == TRACKED_DELIVERY:
            return from_checked(checked, 'envid')
    return None


@public
def match_tracking(mlist, verp: VERPResult, report: TrackingReport,
                   msg, received: datetime | None, digest: str) -> tuple[
                       VERPResult | None, list[TrackingUpdate]]:
    """The token `report` (the message `msg`, whose fingerprint is
    `digest`) came back to (None if none) and what to store."""
    tracked = _tracked(mlist, verp, report)
    if tracked is None:
        return None, []
    delivery_id = None
    if tracked.evidence == VERIFIED:
        delivery = config.db.store.get(TrackedDelivery, tracked.ident)
        if delivery is not None and delivery.list_id == mlist.list_id:
            delivery_id = delivery.id
    message_id = message_id_of(msg)
    when = received or now()
    # A valid token of a copy evicted since changes nothing either.
    return tracked, [
        TrackingUpdate(mlist.list_id, delivery_id, tracked.evidence, record,
                       when, message_id, digest, position)
        for position, record in enumerate(report.records)]


def _apply(delivery: TrackedDelivery, update: TrackingUpdate) -> None:
    record = update.record
    when = record.reported or update.received
    if record.kind == DSN:
        state = next_state(delivery.state, record.value)
        if state != delivery.state:
            delivery.state, delivery.state_at = state, when
        if state == record.value:
            delivery.status = record.status
            delivery.diagnostic = record.diagnostic
        return
    delivery.disposition = record.value
    delivery.disposition_at = when


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _callback(report: ReceivedReport, delivery: TrackedDelivery) -> None:
    """Queue the ``tracking.report`` callback of a stored report (its key:
    the report's row, so each report received is sent once)."""
    post = config.db.store.get(TrackedPost, delivery.post_id)
    enqueue('tracking.report', f'report:{report.id}', report.list_id, {
        'list_id': report.list_id,
        'message_id': post.message_id if post is not None else None,
        'email': delivery.email,
        'delivery_id': delivery.id,
        'report_id': report.id,
        'kind': report.kind,
        'value': report.value,
        'status': report.status,
        'diagnostic': report.diagnostic,
        'reported': _iso(report.reported),
        'received': _iso(report.received),
        'state': delivery.state,
        'state_at': _iso(delivery.state_at),
        'disposition': delivery.disposition,
    })


def _not_stored(updates: list[TrackingUpdate]) -> list[TrackingUpdate]:
    """`updates` less the records already stored (and repeats among
    them).  Two runners storing the same message at once are kept apart
    by the unique constraint: the second one's batch fails and is tried
    again, file by file, and then finds the first one's rows here."""
    digests = {update.fingerprint for update in updates}
    seen = set(config.db.store.execute(
        select(ReceivedReport.fingerprint, ReceivedReport.position)
        .where(ReceivedReport.fingerprint.in_(digests))).tuples())
    fresh = []
    for update in updates:
        key = (update.fingerprint, update.position)
        if key in seen:
            log.info('%s: a %s report received again, ignored',
                     update.message_id, update.record.kind)
            continue
        seen.add(key)
        fresh.append(update)
    return fresh


def _report_row(update: TrackingUpdate) -> ReceivedReport:
    record = update.record
    return ReceivedReport(
        list_id=update.list_id, delivery_id=update.delivery_id,
        evidence=update.evidence, kind=record.kind,
        value=record.value, status=record.status,
        diagnostic=record.diagnostic, reported=record.reported,
        received=update.received, message_id=update.message_id,
        fingerprint=update.fingerprint, position=update.position)


@public
def record_tracking(updates: list[TrackingUpdate]) -> None:
    """Store `updates`, move their copies' states and queue their
    callbacks, in the caller's transaction."""
    if not updates:
        return
    store = config.db.store
    stored = [(update, _report_row(update))
              for update in _not_stored(updates)]
    store.add_all([report for _, report in stored])
    # One flush for the batch: the reports' ids name their callbacks.
    store.flush()
    deliveries = _deliveries({update.delivery_id for update, _ in stored})
    for update, report in stored:
        record = update.record
        delivery = deliveries.get(update.delivery_id)
        if delivery is None:
            log.info('%s: %s %s report to a %s tracking token on %s (no '
                     'tracked copy)',
                     update.message_id, record.kind, record.value,
                     update.evidence, update.list_id)
            continue
        # In the order received: each callback shows the copy as its
        # report left it.
        _apply(delivery, update)
        _callback(report, delivery)
        log.info('%s: tracking of delivery %d on %s: %s %s',
                 update.message_id, delivery.id, update.list_id,
                 record.kind, record.value)
    store.flush()


def _deliveries(ids: set[int | None]) -> dict[int, TrackedDelivery]:
    """The tracked copies with these ids (one read)."""
    wanted = [ident for ident in ids if ident is not None]
    if not wanted:
        return {}
    return {delivery.id: delivery for delivery in config.db.store.execute(
        select(TrackedDelivery).where(TrackedDelivery.id.in_(wanted))
    ).scalars()}
