"""Queries shared by the REST API and the ``mailman bounces`` command.

Both interfaces list the same things (bounce events, the members' bounce
standing, outage freezes), show the same statistics and change settings
the same way, so that lives here, once.  Everything is set-based: a
listing is one COUNT and one LIMIT/OFFSET query whatever the size of the
table, statistics are GROUP BY queries, and only the rows of the page
asked for are turned into Python objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from mailman.config import config
from mailman.interfaces.bounce import BounceContext
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.member import DeliveryStatus, MemberRole
from mailman.model.address import Address
from mailman.model.member import Member
from mailman.model.preferences import Preferences
from mailman.model.user import User
from public import public
from sqlalchemy import (
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from zope.component import getUtility

from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.policy.settings import PLUGIN_FIELDS

# The values the event filters accept (outcomes are free text: the policy
# may add new ones).
KINDS = ('bounce', 'delay', 'complaint', 'unknown')
SEVERITIES = ('hard', 'soft', 'none')
CONTEXTS = tuple(context.name for context in BounceContext)
DELIVERY_STATUSES = tuple(status.name for status in DeliveryStatus)

# MySQL's DATETIME holds the years 1000 to 9999: bounds outside are clamped
# so that every backend compares them the same way.
EARLIEST = datetime(1000, 1, 1)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999)

# Plugin settings that can go back to the site default.
RESETTABLE = (*PLUGIN_FIELDS, 'weights')

_ISO_TIME = re.compile(
    r'(?P<date>\d{4}-\d{2}-\d{2})'
    r'(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)'
    r'(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?', re.ASCII)


@public
def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """Read an ISO 8601 date, or date and time, as a naive UTC datetime.

    A time without an offset is UTC (Mailman stores naive UTC times).  A
    date alone is the start of that day, or its last instant with
    `end_of_day` (so that ``until=2005-08-01`` includes the whole day).
    :raises ValueError: saying what is wrong.
    """
    stripped = text.strip().upper()
    match = _ISO_TIME.fullmatch(stripped)
    if match is None:
        raise ValueError(f'not an ISO 8601 date or date and time: {text!r}')
    try:
        if match['time'] is None:
            day = date.fromisoformat(match['date'])
            return _clamp(datetime.combine(
                day, time.max if end_of_day else time.min))
        value = datetime.fromisoformat(_six_digit_fraction(stripped))
    except ValueError:
        raise ValueError(f'not a valid date or time: {text!r}') from None
    return _clamp(_as_utc(value))


def _six_digit_fraction(text: str) -> str:
    # RFC 3339 allows any number of fractional digits; Python reads six.
    return re.sub(r'\.([0-9]{1,6})[0-9]*', r'.\1', text)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        # Year 1 east of Greenwich, or year 9999 west of it.
        return EARLIEST if value.year < 5000 else LATEST


def _clamp(value: datetime) -> datetime:
    return min(max(value, EARLIEST), LATEST)


@public
def recent(since: datetime | None, days: int | None,
           today: datetime) -> datetime | None:
    """The start of a time range of the last `days` days (today included)
    that also starts no earlier than `since`."""
    if days is None:
        return since
    first = datetime.combine(today.date(), time.min) - timedelta(days=days - 1)
    return first if since is None else max(since, first)


@public
def unmatchable(text: str | None) -> bool:
    """Whether `text` cannot match anything stored, so that no query is
    made with it: PostgreSQL refuses NUL characters, and Mailman creates
    its MySQL tables with the 3-byte utf8 character set, whose columns
    hold no character outside the BMP and which MySQL refuses to even
    compare with one."""
    if text is None:
        return False
    if '\x00' in text:
        return True
    return (config.db.engine.dialect.name == 'mysql'
            and any(ord(character) > 0xFFFF for character in text))


@public
def find_list(identifier: str):
    """The mailing list named by a list-id or a posting address (as core's
    list resource accepts), or None."""
    if unmatchable(identifier):
        return None
    manager = getUtility(IListManager)
    if '@' in identifier:
        return manager.get(identifier)
    return manager.get_by_list_id(identifier)


@public
def list_id_of(identifier: str) -> str:
    """The list-id named by `identifier`: a list-id or a posting address
    (Mailman's list-id is the posting address with a dot for the @)."""
    identifier = identifier.strip()
    local, at, domain = identifier.partition('@')
    return f'{local}.{domain}' if at else identifier


# Paging.

@public
@dataclass
class Page:
    """One page of a listing: where it starts, the size of the whole
    listing and the rows of the page."""

    start: int
    total_size: int
    rows: list


@public
def paginate(query, count_query, count: int | None = None,
             page: int | None = None) -> Page:
    """Page `query` like Mailman's CollectionMixin: ``count`` rows per page,
    pages numbered from 1.  Without `count` the whole listing is page 1.

    Only the rows of the page are read; a page past the end reads nothing
    (so a huge page number never reaches the database as an OFFSET).
    """
    page = 1 if page is None else page
    total = config.db.store.execute(count_query).scalar_one()
    if count is None:
        start = 0 if page == 1 else total
        limit = total - start
    else:
        start = (page - 1) * count
        limit = min(count, total - start)
    if limit <= 0:
        return Page(start, total, [])
    rows = config.db.store.execute(query.offset(start).limit(limit)).all()
    return Page(start, total, rows)


# Bounce events.

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
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list:
        """The SQL conditions of this filter."""
        event = BounceEvent
        texts = (self.list_id, self.email, self.domain, self.reason,
                 self.severity, self.kind, self.outcome)
        if any(unmatchable(text) for text in texts):
            return [false()]
        equal = {
            event.list_id: self.list_id,
            event.email: self.email and self.email.lower(),
            event.domain: self.domain and self.domain.lower(),
            event.reason: self.reason, event.severity: self.severity,
            event.kind: self.kind, event.outcome: self.outcome,
        }
        conditions = [column == value for column, value in equal.items()
                      if value is not None]
        if self.context is not None:
            conditions.append(event.context == self.context)
        if self.processed is not None:
            conditions.append(event.processed.is_(self.processed))
        if self.since is not None:
            conditions.append(event.timestamp >= self.since)
        if self.until is not None:
            conditions.append(event.timestamp <= self.until)
        return conditions


@public
def find_events(where: EventFilter, count: int | None = None,
                page: int | None = None) -> Page:
    """The events matching `where`, newest first (by time, then id).

    Each row is ``(event, stored)``; `stored` tells whether the event's
    bounce message is still stored.
    """
    event = BounceEvent
    conditions = where.conditions()
    query = (
        select(event, StoredBounce.id.is_not(None).label('stored'))
        .outerjoin(StoredBounce, StoredBounce.id == event.stored_message_id)
        .where(*conditions)
        .order_by(event.timestamp.desc(), event.id.desc()))
    count_query = select(func.count()).select_from(event).where(*conditions)
    return paginate(query, count_query, count, page)


@public
def get_event(event_id: int):
    """``(event, stored)`` for one event id, or None."""
    event = BounceEvent
    return config.db.store.execute(
        select(event, StoredBounce.id.is_not(None).label('stored'))
        .outerjoin(StoredBounce, StoredBounce.id == event.stored_message_id)
        .where(event.id == event_id)).one_or_none()


@public
def stored_message(event_id: int) -> StoredBounce | None:
    """The stored bounce message of an event, if it is still kept."""
    return config.db.store.execute(
        select(StoredBounce)
        .join(BounceEvent, BounceEvent.stored_message_id == StoredBounce.id)
        .where(BounceEvent.id == event_id,
               StoredBounce.content.is_not(None))).scalar_one_or_none()


# The event columns shown to administrators, in display order.
EVENT_FIELDS = (
    'id', 'list_id', 'email', 'original_recipient', 'final_recipient',
    'domain', 'timestamp', 'message_id', 'context', 'processed',
    'processed_at', 'kind', 'severity', 'reason', 'status', 'reply_code',
    'diagnostic', 'remote_mta', 'detector', 'feedback_type', 'outcome',
    'score_delta')


@public
def event_fields(event: BounceEvent) -> dict[str, Any]:
    """The classification of `event` as plain values (times stay
    datetimes; the context is its name)."""
    values = {name: getattr(event, name) for name in EVENT_FIELDS}
    values['context'] = event.context.name
    return values


# Members' bounce standing.

@dataclass(frozen=True)
class _Aliases:
    direct: Any = field(default_factory=lambda: aliased(Address))
    subscribed_user: Any = field(default_factory=lambda: aliased(User))
    preferred: Any = field(default_factory=lambda: aliased(Address))
    user: Any = field(default_factory=lambda: aliased(User))
    member_prefs: Any = field(default_factory=lambda: aliased(Preferences))
    address_prefs: Any = field(default_factory=lambda: aliased(Preferences))
    user_prefs: Any = field(default_factory=lambda: aliased(Preferences))


def _standing_query(list_id: str):
    """Members (role member) of a list with everything about their bounce
    standing, in one query: a member is subscribed either by address or
    by user (then the user's preferred address counts), and the delivery
    status is resolved like core's ``Member.delivery_status`` (member, then
    address, then user preferences)."""
    a = _Aliases()
    state = MemberBounceState
    email = func.coalesce(a.direct.email, a.preferred.email)
    user_id = func.coalesce(Member.user_id, a.direct.user_id)
    address_prefs_id = func.coalesce(a.direct.preferences_id,
                                     a.preferred.preferences_id)
    display_name = func.coalesce(
        func.nullif(a.direct.display_name, ''),
        func.nullif(a.subscribed_user.display_name, ''),
        func.nullif(a.user.display_name, ''), '')
    # No preference anywhere means core's system default: enabled.
    status = func.coalesce(
        a.member_prefs.delivery_status, a.address_prefs.delivery_status,
        a.user_prefs.delivery_status,
        literal(DeliveryStatus.enabled, Preferences.delivery_status.type))
    query = (
        select(Member.id.label('member_id'),
               Member._member_id.label('uuid'),
               Member.list_id, email.label('email'),
               display_name.label('display_name'),
               status.label('delivery_status'),
               Member.bounce_score, Member.last_bounce_received,
               Member.total_warnings_sent, Member.last_warning_sent,
               state.member_id.label('state_id'),
               state.score, state.core_score, state.last_reason,
               state.last_event_id, state.disabled_reason,
               state.disabled_at, state.probe_sent)
        .select_from(Member)
        .outerjoin(a.direct, a.direct.id == Member.address_id)
        .outerjoin(a.subscribed_user, a.subscribed_user.id == Member.user_id)
        .outerjoin(a.preferred, a.preferred.id
                   == a.subscribed_user._preferred_address_id)
        .outerjoin(a.user, a.user.id == user_id)
        .outerjoin(a.member_prefs, a.member_prefs.id == Member.preferences_id)
        .outerjoin(a.address_prefs, a.address_prefs.id == address_prefs_id)
        .outerjoin(a.user_prefs, a.user_prefs.id == a.user.preferences_id)
        .outerjoin(state, state.member_id == Member.id)
        .where(Member.role == MemberRole.member, Member.list_id == list_id))
    return query, email, status


def _bouncing(status):
    """SQL: the member has a live score or was disabled by bounces.  (No
    part may be NULL, so that its negation means "not bouncing".)"""
    state = MemberBounceState
    core = func.coalesce(Member.bounce_score, 0)
    return or_(core > 0,
               and_(state.member_id.is_not(None), state.score > 0,
                    state.core_score == core),
               status == DeliveryStatus.by_bounces)


@public
def find_members(list_id: str, *, email: str | None = None,
                 bouncing: bool | None = None,
                 delivery_status: DeliveryStatus | None = None,
                 count: int | None = None, page: int | None = None) -> Page:
    """The members of a list with their bounce standing, by address.

    Rows have the columns of `standing_fields`' argument.
    """
    query, email_column, status = _standing_query(list_id)
    conditions = []
    if email is not None:
        conditions.append(false() if unmatchable(email)
                          else email_column == email.lower())
    if bouncing is not None:
        condition = _bouncing(status)
        conditions.append(condition if bouncing else not_(condition))
    if delivery_status is not None:
        conditions.append(status == delivery_status)
    query = query.where(*conditions)
    count_query = select(func.count()).select_from(
        query.with_only_columns(Member.id).subquery())
    return paginate(query.order_by(email_column, Member.id), count_query,
                    count, page)


@public
def find_member(list_id: str, email: str):
    """The standing row of one member of a list, or None."""
    rows = find_members(list_id, email=email).rows
    return rows[0] if rows else None


@public
def standing_fields(row) -> dict[str, Any]:
    """A member's bounce standing as plain values."""
    # The exact score is the plugin's unless core's integer changed behind
    # its back (see mailman_bounces.app.members).
    core = row.bounce_score or 0
    exact = (row.score if row.state_id is not None
             and row.core_score == core else float(core))
    # Core marks a member who was never warned with datetime.min.
    warned = (None if row.last_warning_sent in (None, datetime.min)
              else row.last_warning_sent)
    return {
        'list_id': row.list_id,
        'email': row.email,
        'display_name': row.display_name or '',
        'delivery_status': row.delivery_status.name,
        'bounce_score': core,
        'score': exact,
        'last_bounce_received': row.last_bounce_received,
        'last_reason': row.last_reason,
        'disabled_reason': row.disabled_reason,
        'disabled_at': row.disabled_at,
        'total_warnings_sent': row.total_warnings_sent or 0,
        'last_warning_sent': warned,
        'probe_sent': row.probe_sent,
    }


@public
def member_object(row) -> Member:
    """The core Member of a standing row."""
    return config.db.store.get(Member, row.member_id)


@public
def disabled_counts(list_ids: list[str] | None = None) -> dict[str, int]:
    """How many members each list has disabled by bounces."""
    query = (select(Member.list_id, func.count())
             .join(Preferences, Preferences.id == Member.preferences_id)
             .where(Member.role == MemberRole.member,
                    Preferences.delivery_status == DeliveryStatus.by_bounces)
             .group_by(Member.list_id))
    if list_ids is not None:
        query = query.where(Member.list_id.in_(list_ids))
    return dict(config.db.store.execute(query).all())


# Statistics.

def _counts(*group):
    """Aggregate columns of the statistics, grouped by `group`."""
    event = BounceEvent

    def number(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    return (*group,
            func.count(event.id).label('events'),
            func.count(distinct(event.email)).label('addresses'),
            number(event.severity == 'hard').label('hard'),
            number(event.severity == 'soft').label('soft'),
            number(event.kind == 'complaint').label('complaints'))


def _count_values(row) -> dict[str, int]:
    # MySQL returns SUM()s as Decimal.
    return {name: int(getattr(row, name))
            for name in ('events', 'addresses', 'hard', 'soft', 'complaints')}


def _day(value) -> str:
    # SQLite's date() returns text, the others a date.
    return value if isinstance(value, str) else value.isoformat()


@public
def event_stats(where: EventFilter, top: int = 50) -> dict[str, Any]:
    """Counts of events, distinct addresses, hard and soft failures and
    complaints: in total, per list, per reason, per recipient domain (the
    `top` domains with the most events) and per day."""
    store = config.db.store
    event = BounceEvent
    conditions = where.conditions()

    def grouped(column, order, limit=None):
        query = (select(*_counts(column.label('key'))).where(*conditions)
                 .group_by(column).order_by(*order))
        if limit is not None:
            query = query.limit(limit)
        return store.execute(query).all()

    day = func.date(event.timestamp)
    events = func.count(event.id)
    totals = store.execute(select(*_counts()).where(*conditions)).one()
    return {
        'totals': _count_values(totals),
        'lists': [{'list_id': row.key, **_count_values(row)}
                  for row in grouped(event.list_id, [event.list_id])],
        'reasons': [{'reason': row.key, **_count_values(row)}
                    for row in grouped(event.reason,
                                       [events.desc(), event.reason])],
        'domains': [{'domain': row.key, **_count_values(row)}
                    for row in grouped(event.domain,
                                       [events.desc(), event.domain], top)],
        'days': [{'day': _day(row.key), **_count_values(row)}
                 for row in grouped(day, [day])],
    }


@public
def list_reasons(where: EventFilter) -> list[dict[str, Any]]:
    """The counts of `event_stats` per list and reason, by list, most
    frequent reason first."""
    event = BounceEvent
    events = func.count(event.id)
    rows = config.db.store.execute(
        select(*_counts(event.list_id, event.reason)).where(*where.conditions())
        .group_by(event.list_id, event.reason)
        .order_by(event.list_id, events.desc(), event.reason)).all()
    return [{'list_id': row.list_id, 'reason': row.reason,
             **_count_values(row)} for row in rows]


@public
def daily_reasons(where: EventFilter) -> list[tuple[str, str, int]]:
    """``(day, reason, events)`` for every day and reason with events."""
    event = BounceEvent
    day = func.date(event.timestamp)
    rows = config.db.store.execute(
        select(day, event.reason, func.count(event.id))
        .where(*where.conditions())
        .group_by(day, event.reason).order_by(day, event.reason)).all()
    return [(_day(row[0]), row[1], row[2]) for row in rows]


# Outage freezes.

def _active(now: datetime):
    return and_(OutageFreeze.lifted.is_(None), OutageFreeze.expires > now)


@public
def find_freezes(now: datetime, *, history: bool = False,
                 list_id: str | None = None, count: int | None = None,
                 page: int | None = None) -> Page:
    """The freezes in force at `now` (or all of them, with `history`),
    newest first; with `list_id`, those of that list and the site-wide
    ones.  Rows are ``(freeze,)``."""
    conditions = [] if history else [_active(now)]
    if list_id is not None:
        own = (false() if unmatchable(list_id)
               else OutageFreeze.list_id == list_id)
        conditions.append(or_(own, OutageFreeze.list_id.is_(None)))
    query = (select(OutageFreeze).where(*conditions)
             .order_by(OutageFreeze.id.desc()))
    count_query = (select(func.count()).select_from(OutageFreeze)
                   .where(*conditions))
    return paginate(query, count_query, count, page)


@public
def freeze_fields(freeze: OutageFreeze, now: datetime) -> dict[str, Any]:
    """A freeze as plain values."""
    return {
        'id': freeze.id,
        'list_id': freeze.list_id,
        'key_type': freeze.key_type,
        'key': freeze.key,
        'started': freeze.started,
        'expires': freeze.expires,
        'lifted': freeze.lifted,
        'lifted_by': freeze.lifted_by,
        'bouncing': freeze.bouncing,
        'members': freeze.members,
        'active': freeze.lifted is None and freeze.expires > now,
    }
