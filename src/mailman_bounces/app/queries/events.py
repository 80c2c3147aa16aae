"""Bounce events: filtering, listing, and the shape of one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailman.config import config
from mailman.interfaces.bounce import BounceContext
from public import public
from sqlalchemy import false, func, select

from mailman_bounces.app.queries.event_days import (
    day_counts,
    page_day,
    summarizable,
)
from mailman_bounces.app.queries.lists import unmatchable
from mailman_bounces.app.queries.paging import (
    Page,
    page_window,
    paginate_keys,
)
from mailman_bounces.database.planner import not_for_lookup
from mailman_bounces.fields import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    TIME,
    Field,
    Shape,
    choice,
    nullable,
)
from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.signing import EVIDENCE

__all__ = [
    'CONTEXTS',
    'EVENT_FIELDS',
    'EVIDENCE',
    'KINDS',
    'SEVERITIES',
    'EventFilter',
    'find_events',
    'get_event',
    'stored_message',
]

# The values of an event's kind, severity and context (outcomes are free
# text: the policy may add new ones).
KINDS = ('bounce', 'delay', 'complaint', 'unknown')
SEVERITIES = ('hard', 'soft', 'none')
CONTEXTS = tuple(context.name for context in BounceContext)


def _context_name(event: BounceEvent, *_) -> str:
    return event.context.name


# What an event shows, in display order.
EVENT_FIELDS = Shape(
    Field('id', INTEGER),
    Field('list_id', STRING),
    Field('email', STRING, 'The address that bounced.'),
    Field('original_recipient', nullable(STRING)),
    Field('final_recipient', nullable(STRING)),
    Field('domain', nullable(STRING), 'The recipient domain.'),
    Field('timestamp', TIME, 'When the bounce was registered (UTC).'),
    Field('message_id', nullable(STRING)),
    Field('context', choice(CONTEXTS),
          'normal, or probe for the answer to a probe.', read=_context_name),
    Field('processed', BOOLEAN),
    Field('processed_at', nullable(TIME)),
    Field('kind', choice(KINDS)),
    Field('severity', choice(SEVERITIES)),
    Field('reason', STRING),
    Field('status', nullable(STRING), 'The enhanced status code.'),
    Field('reply_code', nullable(STRING), 'The SMTP reply code.'),
    Field('diagnostic', nullable(STRING)),
    Field('remote_mta', nullable(STRING)),
    Field('detector', nullable(STRING), 'What recognised the bounce.'),
    Field('feedback_type', nullable(STRING)),
    Field('outcome', nullable(STRING),
          'What the pass did with the event (scored, ignored, same-day, '
          'disabled, complaint, outage ...); null until processed.'),
    Field('score_delta', nullable(NUMBER)),
    Field('evidence', choice(EVIDENCE),
          'verified (the bounce came to a valid signed return path), '
          'unverified (the plain -bounces address or unsigned VERP) or '
          'forged (a signed-looking address with a wrong MAC, key or '
          'expiry: recorded, never scored).'),
)


@public
@dataclass(frozen=True)
class EventFilter:
    """Which bounce events to list or count.  None means any."""

    list_id: str | None = None
    email: str | None = None
    domain: str | None = None
    reason: str | None = None
    severity: str | None = None
    kind: str | None = None
    context: BounceContext | None = None
    processed: bool | None = None
    outcome: str | None = None
    evidence: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self, lookup: bool = True) -> list:
        """The SQL conditions of this filter.  Without `lookup`, only the
        time range may pick an index (see `not_for_lookup`)."""
        event = BounceEvent
        texts = (self.list_id, self.email, self.domain, self.reason,
                 self.severity, self.kind, self.outcome, self.evidence)
        if any(unmatchable(text) for text in texts):
            return [false()]
        equal = {
            event.list_id: self.list_id,
            event.email: self.email and self.email.lower(),
            event.domain: self.domain and self.domain.lower(),
            event.reason: self.reason, event.severity: self.severity,
            event.kind: self.kind, event.outcome: self.outcome,
            event.evidence: self.evidence,
        }
        if self.context is not None:
            equal[event.context] = self.context
        if self.processed is not None:
            equal[event.processed] = self.processed
        conditions = [(column if lookup else not_for_lookup(column)) == value
                      for column, value in equal.items() if value is not None]
        if self.since is not None:
            conditions.append(event.timestamp >= self.since)
        if self.until is not None:
            conditions.append(event.timestamp <= self.until)
        return conditions


def _with_stored():
    """Events, each with whether its bounce message is still stored."""
    event = BounceEvent
    return (select(event, StoredBounce.id.is_not(None).label('stored'))
            .outerjoin(StoredBounce,
                       StoredBounce.id == event.stored_message_id))


def _page_ids(where: EventFilter, conditions: list, count: int | None,
              page: int | None) -> tuple[int, int, list]:
    """``(start, total, ids)`` of a page (see `paginate_keys`)."""
    event = BounceEvent
    if not summarizable(where):
        # The ids of the page from an index alone (0007_rest_indexes has
        # one per filter, ending in timestamp and id): an OFFSET over
        # whole rows read 500,000 of them for the middle page of a
        # million events.
        return paginate_keys(
            select(event.id).where(*conditions),
            (event.timestamp, event.id),
            select(func.count()).select_from(event).where(*conditions),
            count, page)
    days = day_counts(where, conditions)
    total = sum(number for _, number in days)
    start, limit = page_window(total, count, page)
    if limit <= 0:
        return start, total, []
    # From the page's first day on, skipping only that day's rows before
    # it (the same rows as an OFFSET from the top, in the same order).
    end, skip = page_day(days, start)
    ids = config.db.store.execute(
        select(event.id).where(*conditions, event.timestamp < end)
        .order_by(event.timestamp.desc(), event.id.desc())
        .offset(skip).limit(limit)).scalars().all()
    return start, total, ids


@public
def find_events(where: EventFilter, count: int | None = None,
                page: int | None = None) -> Page:
    """The events matching `where`, newest first (by time, then id).

    Each row is ``(event, stored)``; `stored` tells whether the event's
    bounce message is still stored.
    """
    start, total, ids = _page_ids(where, where.conditions(), count, page)
    if not ids:
        return Page(start, total, [])
    rows = config.db.store.execute(
        _with_stored().where(BounceEvent.id.in_(ids))).all()
    position = {event_id: index for index, event_id in enumerate(ids)}
    rows.sort(key=lambda row: position[row[0].id])
    return Page(start, total, rows)


@public
def get_event(event_id: int):
    """``(event, stored)`` for one event id, or None."""
    return config.db.store.execute(
        _with_stored().where(BounceEvent.id == event_id)).one_or_none()


@public
def stored_message(event_id: int) -> StoredBounce | None:
    """The stored bounce message of an event, if it is still kept."""
    return config.db.store.execute(
        select(StoredBounce)
        .join(BounceEvent, BounceEvent.stored_message_id == StoredBounce.id)
        .where(BounceEvent.id == event_id,
               StoredBounce.content.is_not(None))).scalar_one_or_none()
