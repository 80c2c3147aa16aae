"""Statistics of bounce events: counts in total, per list, reason, domain
and day, each a GROUP BY query (on PostgreSQL, all in one of grouping
sets)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

from mailman.config import config
from public import public
from sqlalchemy import case, distinct, func, or_, select, tuple_

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
from mailman_bounces.utilities.times import database_date

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
    return database_date(value).isoformat()


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


@cache
def _aggregate_columns() -> tuple:
    # Built once: building them took longer than a small list's query.
    return tuple(build().label(name)
                 for name, (_, build) in _AGGREGATES.items())


def _aggregates(*group) -> tuple:
    """Aggregate columns of the statistics, grouped by `group`."""
    return (*group, *_aggregate_columns())


@dataclass(frozen=True)
class _Group:
    """One grouping of `event_stats`: its rows' shape, the grouped column,
    and whether the groups with the most events come first (else they are
    in the column's order) and only the `top` of them are shown."""

    shape: Shape
    column: Any
    most_first: bool = False
    limited: bool = False


@cache
def _groups() -> dict[str, _Group]:
    event = BounceEvent
    return {
        'lists': _Group(_PER_LIST, event.list_id),
        'reasons': _Group(_PER_REASON, event.reason, most_first=True),
        'domains': _Group(_PER_DOMAIN, event.domain, most_first=True,
                          limited=True),
        'days': _Group(_PER_DAY, func.date(event.timestamp)),
    }


@public
def event_stats(where: EventFilter, top: int = 50) -> dict[str, Any]:
    """Counts of events, distinct addresses, hard and soft failures and
    complaints: in total, per list, per reason, per recipient domain (the
    `top` domains with the most events) and per day."""
    if config.db.engine.dialect.name == 'postgresql':
        return _stats_in_one_pass(where.conditions(), top)
    return _stats_per_group(where.conditions(), top)


def _stats_per_group(conditions: list, top: int) -> dict[str, Any]:
    """`event_stats` with a query per grouping."""
    store = config.db.store
    events = func.count(BounceEvent.id)

    def grouped(group: _Group):
        column = group.column
        query = (select(*_aggregates(column.label('key')))
                 .where(*conditions).group_by(column)
                 .order_by(*([events.desc()] if group.most_first else []),
                           column))
        if group.limited:
            query = query.limit(top)
        return [group.shape.values(row) for row in store.execute(query)]

    totals = store.execute(select(*_aggregates()).where(*conditions)).one()
    return {'totals': COUNTS.values(totals),
            **{name: grouped(group) for name, group in _groups().items()}}


def _grouping_ids(names) -> dict[str, int]:
    """What PostgreSQL's grouping() of the columns `names` (in order) gives
    for the rows of each one's grouping, and for the totals (``None``).

    grouping() sets a bit for each column a row is not grouped by, the
    first column's the highest: a grouping's rows have every bit but their
    column's, the totals all of them.
    """
    names = list(names)
    every = (1 << len(names)) - 1
    return {None: every, **{name: every ^ (1 << (len(names) - 1 - index))
                            for index, name in enumerate(names)}}


def _grouping_sets_query(conditions: list, top: int, ids: dict):
    """The totals and every grouping of the events matching `conditions`
    in one query, each grouping's rows in their order (by ``grouping``,
    then ``rank``), the limited ones' cut to the `top` first."""
    groups = _groups()
    columns = [group.column for group in groups.values()]
    grouping = func.grouping(*columns)
    most_first = [ids[name] for name, group in groups.items()
                  if group.most_first]
    # Within a grouping the other columns are all NULL, so ordering by
    # every column orders by the grouping's own.
    rank = func.row_number().over(partition_by=grouping, order_by=[
        case((grouping.in_(most_first), func.count(BounceEvent.id))).desc(),
        *columns])
    rows = (select(grouping.label('grouping'), rank.label('rank'),
                   *(column.label(name) for name, column
                     in zip(groups, columns)), *_aggregate_columns())
            .where(*conditions)
            .group_by(func.grouping_sets(
                tuple_(), *(tuple_(column) for column in columns)))
            .subquery())
    limited = [ids[name] for name, group in groups.items() if group.limited]
    return (select(rows)
            .where(or_(rows.c.grouping.not_in(limited), rows.c.rank <= top))
            .order_by(rows.c.grouping, rows.c.rank))


def _stats_in_one_pass(conditions: list, top: int) -> dict[str, Any]:
    """`event_stats` in one query of PostgreSQL's GROUPING SETS: the
    events are read once, not once per grouping.  (A list's events over 90
    days are read from the table, as the list's index lacks their
    evidence: five reads of them took most of the statistics' time.)"""
    groups = _groups()
    ids = _grouping_ids(groups)
    found: dict[int, list] = {}
    for row in config.db.store.execute(
            _grouping_sets_query(conditions, top, ids)):
        found.setdefault(row.grouping, []).append(row)
    [totals] = found[ids[None]]
    # The shapes read a grouping's value as ``key``.
    return {'totals': COUNTS.values(totals), **{
        name: [group.shape.values(SimpleNamespace(
            **row._mapping, key=getattr(row, name)))
            for row in found.get(ids[name], [])]
        for name, group in groups.items()}}


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
