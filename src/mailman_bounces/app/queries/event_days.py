"""The size of an event listing, and where its deep pages start, from the
per-day summary (`EventDay`).

At a million events an exact COUNT of a listing read hundreds of
thousands of index entries, and the OFFSET of a deep page as many again.
For the filters the summary counts by (reason, severity, kind, context,
evidence, and a time range), the listing's rows are counted per day in one
statement: from the summary for the events it counts on the days the
range covers entirely, directly for the rest (the events not summarized
yet, found through a partial index, and those of a day the range covers
only in part).  One statement is one snapshot, so an event folded into the
summary meanwhile is counted once, either way.  A page then starts on the
day its first row falls on: its query is bounded by the end of that day
and skips only the rows of that day before it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Protocol

from mailman.config import config
from public import public
from sqlalchemy import Date, false, func, literal, select, union_all

from mailman_bounces.app.event_summary import unsummarized
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.event_day import SUMMARY_KEYS, EventDay
from mailman_bounces.utilities.times import database_date


class EventFilter(Protocol):
    """What is used here of an `events.EventFilter` (which imports this
    module), besides its filter fields."""

    since: datetime | None
    until: datetime | None

    def conditions(self, lookup: bool = True) -> list: ...

# Filters the summary cannot answer (their own indexes count them fast).
_DIRECT = ('list_id', 'email', 'domain', 'processed', 'outcome')
_TICK = timedelta(microseconds=1)


@public
def summarizable(where: EventFilter) -> bool:
    """Can the listing of `where` be counted from the summary?"""
    return all(getattr(where, name) is None for name in _DIRECT)


def _midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time())


def _whole_days(where: EventFilter) -> tuple[datetime | None,
                                             datetime | None]:
    """The start of the first day and the end of the last day `where`'s
    time range covers entirely (None: unbounded; the first is never after
    the second)."""
    first = last = None
    if where.since is not None:
        first = _midnight(where.since)
        if first < where.since:
            first += timedelta(days=1)
    if where.until is not None:
        # Timestamps have microseconds at most: a day is covered when its
        # last microsecond is.
        last = _midnight(where.until + _TICK)
    if first is not None and last is not None and last < first:
        last = first
    return first, last


def _summary_part(where: EventFilter, first, last):
    day = EventDay
    conditions = [getattr(day, key) == getattr(where, key)
                  for key in SUMMARY_KEYS if getattr(where, key) is not None]
    if first is not None:
        conditions.append(day.day >= first.date())
    if last is not None:
        conditions.append(day.day < last.date())
    return select(day.day.label('day'), day.events.label('events')).where(
        *conditions)


def _direct_parts(where: EventFilter, conditions: list, first, last):
    """The events the summary does not count, per day."""
    event = BounceEvent
    whole = [event.timestamp >= first] if first is not None else []
    whole += [event.timestamp < last] if last is not None else []
    on_day = func.date(event.timestamp)
    # Those not summarized yet are few: found through their partial index,
    # not through a filter's (SQLite would take any equality's index).
    parts = [select(on_day, func.count()).where(
        *where.conditions(lookup=False), *whole, unsummarized())
        .group_by(on_day)]
    if first is not None and where.since < first:
        parts.append(select(literal(where.since.date(), Date), func.count())
                     .where(*conditions, event.timestamp < first))
    if last is not None and last <= where.until:
        parts.append(select(literal(last.date(), Date), func.count())
                     .where(*conditions, event.timestamp >= last))
    return parts


@public
def day_counts(where: EventFilter, conditions: list
               ) -> list[tuple[date, int]]:
    """``(day, events)`` of the listing of `where` (whose SQL conditions
    are `conditions`), newest day first, days without events left out."""
    if any(condition is false() for condition in conditions):
        # An unmatchable filter (see EventFilter.conditions).
        return []
    first, last = _whole_days(where)
    parts = union_all(_summary_part(where, first, last),
                      *_direct_parts(where, conditions, first, last)
                      ).subquery()
    rows = config.db.store.execute(
        select(parts.c.day, func.sum(parts.c.events))
        .group_by(parts.c.day)).all()
    # sum() of counts is a decimal on PostgreSQL; MySQL gives the days of
    # a union with literal dates as text.
    return sorted(((database_date(day), int(number)) for day, number in rows
                   if number), reverse=True)


@public
def page_day(days: list[tuple[date, int]], start: int
             ) -> tuple[datetime, int]:
    """Where row `start` of a listing counted by `days` (as `day_counts`
    gives them) is: the end of its day, and how many rows of the listing
    come before it from there (the rows of its day before it)."""
    before = 0
    for day, number in days:
        if start < before + number:
            return datetime.combine(day + timedelta(days=1), time()), (
                start - before)
        before += number
    raise ValueError(f'row {start} is past the end of the listing')
