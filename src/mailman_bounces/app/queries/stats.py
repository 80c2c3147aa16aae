"""Statistics of bounce events: counts in total, per list, reason, domain
and day, each a GROUP BY query."""

from __future__ import annotations

from typing import Any

from mailman.config import config
from public import public
from sqlalchemy import case, distinct, func, select

from mailman_bounces.app.queries.events import EventFilter
from mailman_bounces.fields import (
    COUNT,
    DATE,
    STRING,
    Field,
    Shape,
    array,
    nullable,
)
from mailman_bounces.model.event import BounceEvent

__all__ = [
    'COUNTS',
    'EVENT_STATS_FIELDS',
    'daily_counts',
    'daily_reasons',
    'event_stats',
    'list_reasons',
]


def _number_of(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# Each count: what it counts, and its SQL aggregate.
_AGGREGATES = {
    'events': ('Bounce events.', lambda: func.count(BounceEvent.id)),
    'addresses': ('Distinct addresses.',
                  lambda: func.count(distinct(BounceEvent.email))),
    'hard': ('Hard failures.',
             lambda: _number_of(BounceEvent.severity == 'hard')),
    'soft': ('Soft failures.',
             lambda: _number_of(BounceEvent.severity == 'soft')),
    'complaints': ('Abuse complaints.',
                   lambda: _number_of(BounceEvent.kind == 'complaint')),
    'verified': ('Events on verified evidence (signed return paths).',
                 lambda: _number_of(BounceEvent.evidence == 'verified')),
    'unverified': ('Events on unverified evidence (unsigned addresses).',
                   lambda: _number_of(
                       BounceEvent.evidence == 'unverified')),
    'forged': ('Events to forged signed addresses (never scored).',
               lambda: _number_of(BounceEvent.evidence == 'forged')),
}


def _count(name: str):
    # MySQL returns SUM()s as Decimal.
    return lambda row, *_: int(getattr(row, name))


COUNTS = Shape(*(Field(name, COUNT, doc, read=_count(name))
                 for name, (doc, _) in _AGGREGATES.items()))


def _counted(key: str, schema: dict, read=None) -> Shape:
    """The counts of one group, named by `key` (the grouped value)."""
    return Shape(Field(key, schema, read=read or (lambda row, *_: row.key))
                 ) + COUNTS


def _day(value) -> str:
    # SQLite's date() returns text, the others a date.
    return value if isinstance(value, str) else value.isoformat()


_PER_LIST = _counted('list_id', STRING)
_PER_REASON = _counted('reason', STRING)
_PER_DOMAIN = _counted('domain', nullable(STRING))
_PER_DAY = _counted('day', DATE, read=lambda row, *_: _day(row.key))
_PER_LIST_AND_REASON = Shape(
    Field('list_id', STRING), Field('reason', STRING)) + COUNTS

# What `event_stats` returns.
EVENT_STATS_FIELDS = Shape(
    Field('totals', COUNTS.schema()),
    Field('lists', array(_PER_LIST.schema()), 'Per list, by list-id.'),
    Field('reasons', array(_PER_REASON.schema()),
          'Per reason, most events first.'),
    Field('domains', array(_PER_DOMAIN.schema()),
          'Per recipient domain, most events first.'),
    Field('days', array(_PER_DAY.schema()), 'Per day, by day.'),
)


def _aggregates(*group) -> tuple:
    """Aggregate columns of the statistics, grouped by `group`."""
    return (*group, *(build().label(name)
                      for name, (_, build) in _AGGREGATES.items()))


@public
def event_stats(where: EventFilter, top: int = 50) -> dict[str, Any]:
    """Counts of events, distinct addresses, hard and soft failures and
    complaints: in total, per list, per reason, per recipient domain (the
    `top` domains with the most events) and per day."""
    store = config.db.store
    event = BounceEvent
    conditions = where.conditions()

    def grouped(shape, column, order, limit=None):
        query = (select(*_aggregates(column.label('key')))
                 .where(*conditions).group_by(column).order_by(*order))
        if limit is not None:
            query = query.limit(limit)
        return [shape.values(row) for row in store.execute(query)]

    day = func.date(event.timestamp)
    events = func.count(event.id)
    totals = store.execute(select(*_aggregates()).where(*conditions)).one()
    return {
        'totals': COUNTS.values(totals),
        'lists': grouped(_PER_LIST, event.list_id, [event.list_id]),
        'reasons': grouped(_PER_REASON, event.reason,
                           [events.desc(), event.reason]),
        'domains': grouped(_PER_DOMAIN, event.domain,
                           [events.desc(), event.domain], top),
        'days': grouped(_PER_DAY, day, [day]),
    }


@public
def list_reasons(where: EventFilter) -> list[dict[str, Any]]:
    """The counts of `event_stats` per list and reason, by list, most
    frequent reason first."""
    event = BounceEvent
    events = func.count(event.id)
    rows = config.db.store.execute(
        select(*_aggregates(event.list_id, event.reason))
        .where(*where.conditions())
        .group_by(event.list_id, event.reason)
        .order_by(event.list_id, events.desc(), event.reason)).all()
    return [_PER_LIST_AND_REASON.values(row) for row in rows]


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


@public
def daily_counts(where: EventFilter) -> list[dict[str, Any]]:
    """Events per day, severity and reason (days with events only)."""
    event = BounceEvent
    day = func.date(event.timestamp)
    rows = config.db.store.execute(
        select(day, event.severity, event.reason, func.count(event.id))
        .where(*where.conditions())
        .group_by(day, event.severity, event.reason)
        .order_by(day, event.severity, event.reason)).all()
    return [{'day': _day(row[0]), 'severity': row[1], 'reason': row[2],
             'events': row[3]} for row in rows]
