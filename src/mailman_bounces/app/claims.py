"""Claiming rows so that concurrent runners never do the same work.

* PostgreSQL and MariaDB/MySQL: rows are claimed with ``SELECT ... FOR
  UPDATE SKIP LOCKED``: another runner's claimed rows are skipped, not
  waited for, and the locks last until the claiming transaction ends, so a
  crash (rollback) releases them for the next runner.
* SQLite has no row locks; it has one writer at a time.  A transaction that
  will write starts with a write (`serialize_writers`), so the next writer
  waits before it reads, and reads what the previous one committed.

Leases (`take_lease`) make a step run in one place at a time; turns
(`take_turn`) make a step run at most once per period.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from mailman.config import config
from public import public
from sqlalchemy import Select, or_, update

from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.lease import Lease

log = logging.getLogger('mailman.bounce')

# The lease SQLite writers update first to take the database's write lock.
WRITE_LOCK = 'sqlite-writer'
# The end of a lease nobody holds: long past, so anyone may take it.
_FREE = datetime(1970, 1, 1)


@public
def holder_name() -> str:
    """Who we are, for lease holders: host and process."""
    return f'{socket.gethostname()}:{os.getpid()}'


def _dialect() -> str:
    return config.db.engine.dialect.name


@public
def row_locks_supported() -> bool:
    """Does the database lock single rows (and skip locked ones)?"""
    return _dialect() in ('postgresql', 'mysql', 'mariadb')


@public
def for_update(query: Select, skip_locked: bool = False, of=None) -> Select:
    """Lock the rows `query` selects where the database can."""
    if not row_locks_supported():
        return query
    if of is not None and _dialect() == 'postgresql':
        return query.with_for_update(skip_locked=skip_locked, of=of)
    return query.with_for_update(skip_locked=skip_locked)


def _ensure_lease(name: str) -> None:
    insert_ignoring_duplicates(config.db.store, Lease.__table__, [
        {'name': name, 'holder': None, 'until': _FREE}])


@public
def serialize_writers() -> None:
    """On SQLite, take the write lock now, before reading anything."""
    if _dialect() != 'sqlite':
        return
    _ensure_lease(WRITE_LOCK)
    config.db.store.execute(
        update(Lease).where(Lease.name == WRITE_LOCK)
        .values(holder=Lease.holder))


@public
def take_lease(name: str, duration: timedelta, now: datetime,
               holder: str | None = None) -> bool:
    """Take lease `name` until now + duration, if it is free or ours.

    The caller commits.  Taking a lease we hold renews it; for steps that
    must run at most once per period, whoever runs them, see `take_turn`.
    """
    holder = holder or holder_name()
    return _take(name, or_(Lease.until <= now, Lease.holder == holder),
                 holder, now + duration)


@public
def take_turn(name: str, every: timedelta, now: datetime) -> bool:
    """Is it time for step `name`, which runs at most once per `every`?

    Unlike `take_lease`, holding the lease does not renew it: the runner
    that last ran the step waits for the period to end like any other.
    The caller commits (a rollback gives the turn back).
    """
    taken = _take(name, Lease.until <= now, holder_name(), now + every)
    if taken:
        _turns.append((name, now, now + every))
    return taken


# Turns taken in the open transaction, logged once it is committed.
_turns: list[tuple[str, datetime, datetime]] = []


@public
def log_turns(committed: bool) -> None:
    """Log (debug) the turns of the transaction that just ended, if it was
    committed; a rolled back turn was never taken.  For whoever checks
    that a step runs at most once per period (the multi-host harness)."""
    if committed:
        for name, now, until in _turns:
            log.debug('Turn of %s taken at %s until %s', name,
                      now.isoformat(), until.isoformat())
    _turns.clear()


def _take(name: str, available, holder: str, until: datetime) -> bool:
    """Make `holder` hold lease `name` until `until` if `available` says
    it may (one conditional update: concurrent takers cannot both win)."""
    _ensure_lease(name)
    result = config.db.store.execute(
        update(Lease).where(Lease.name == name, available)
        .values(holder=holder, until=until))
    return result.rowcount == 1


@public
def release_lease(name: str, holder: str | None = None) -> None:
    """Give lease `name` back (if we hold it)."""
    config.db.store.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == (holder or holder_name()))
        .values(holder=None, until=_FREE))
