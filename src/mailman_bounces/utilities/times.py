"""Times given by people: ISO 8601 dates and times, and recent ranges.

Mailman stores naive UTC times; everything here returns those.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from public import public

# MySQL's DATETIME holds the years 1000 to 9999: bounds outside are clamped
# so that every backend compares them the same way.
EARLIEST = datetime(1000, 1, 1)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999)

# What is read: a date, or a date and time (minutes at least) with an
# optional offset.  datetime.fromisoformat reads more (week dates, bare
# hours ...), which the REST API's description does not promise.
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
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f'not a valid date or time: {text!r}') from None
    return _clamp(_as_utc(value))


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
def database_date(value: date | str) -> date:
    """A day as the database returns ``date()`` of a time or a date in a
    union: a date on PostgreSQL, text on SQLite (and on MySQL for a union
    with literal dates)."""
    return date.fromisoformat(value) if isinstance(value, str) else value
