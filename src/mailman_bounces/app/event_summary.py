"""Keeping the per-day summary of the events (`EventDay`) exact.

An event is counted in the summary exactly when its ``summarized`` flag is
set: the flag and the counts change in one transaction, both when the pass
folds new events in (`summarize`) and when events are deleted
(`delete_events`, which every deletion of events goes through).  Several
runners and hosts may do both at once:

* the rows are claimed with ``FOR UPDATE SKIP LOCKED`` (SQLite: one writer
  at a time), so two folds, or a fold and an eviction, never take the same
  event, and a crash rolls the flags back with the counts;
* the pass's batches count the events they process (`count_in`) and set
  their flags in the update that marks them processed (which writes the
  rows anyway); the fold takes the other processed events (dismissed
  after an outage, written in bulk, ...) and never unprocessed ones,
  which the pass's claims lock and would skip while a fold held them;
* each transaction changes the summary once, its rows in key order, so
  two transactions never wait for each other's rows in opposite orders.

Readers (`mailman_bounces.app.queries.event_days`) count the summarized
events from the summary and the others directly, in one statement.
"""

from __future__ import annotations

from collections import Counter

from mailman.config import config
from public import public
from sqlalchemy import ColumnElement, and_, delete, select, tuple_, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from mailman_bounces.app.claims import for_update, serialize_writers
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.event_day import SUMMARY_KEYS, EventDay

# How many events one fold (one transaction) takes at most.
FOLD_BATCH = 5000
# How many events one step of a deletion locks and deletes at most (their
# ids go in one IN list).
DELETE_CHUNK = 5000
# Summary rows per upsert statement (7 parameters each).
UPSERT_ROWS = 1000

_KEY_COLUMNS = tuple(getattr(BounceEvent, key) for key in SUMMARY_KEYS)
# A summary row's key: the day, then SUMMARY_KEYS.
Key = tuple


@public
def unsummarized() -> ColumnElement[bool]:
    """SQL condition: the event is not counted in the summary yet (in the
    form the partial index ix_bounces_event_unsummarized is defined by)."""
    return ~BounceEvent.summarized


def _key(row) -> Key:
    return (row.timestamp.date(), *(getattr(row, k) for k in SUMMARY_KEYS))


def _in_order(deltas: Counter) -> list[tuple[Key, int]]:
    """`deltas` in one fixed order of their keys (the same for every
    transaction; contexts are enums, ordered by value)."""
    def order(item):
        return tuple(getattr(part, 'value', part) for part in item[0])
    return sorted(deltas.items(), key=order)


def _upsert(rows: list[dict]):
    """INSERT `rows` into the summary, adding each row's events to those of
    the row with the same key if there is one."""
    table = EventDay.__table__
    dialect = config.db.engine.dialect.name
    if dialect in ('mysql', 'mariadb'):
        statement = mysql.insert(table).values(rows)
        return statement.on_duplicate_key_update(
            events=table.c.events + statement.inserted.events)
    insert = postgresql.insert if dialect == 'postgresql' else sqlite.insert
    statement = insert(table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key],
        set_={'events': table.c.events + statement.excluded.events})


@public
def add_counts(deltas: Counter) -> None:
    """Add `deltas` (key: number, negative to subtract) to the summary;
    rows left at zero are deleted."""
    ordered = [(key, number) for key, number in _in_order(deltas) if number]
    store = config.db.store
    # A few statements of at most UPSERT_ROWS rows (SQLite takes 32,766
    # parameters at most), still in key order.
    for first in range(0, len(ordered), UPSERT_ROWS):
        part = ordered[first:first + UPSERT_ROWS]
        store.execute(_upsert([
            {'day': key[0], **dict(zip(SUMMARY_KEYS, key[1:])),
             'events': number} for key, number in part]))
        emptied = [key for key, number in part if number < 0]
        if emptied:
            # Only rows this transaction holds already: waiting for
            # another's while holding these could deadlock.
            store.execute(delete(EventDay).where(
                tuple_(*(getattr(EventDay, c)
                         for c in ('day', *SUMMARY_KEYS))).in_(emptied),
                EventDay.events == 0))


@public
def count_in(rows) -> None:
    """Count `rows` (events not summarized, with their timestamp and
    SUMMARY_KEYS) in the summary.  The caller holds the events and sets
    their flags in the same transaction; it locks nothing else after this
    (the summary's rows are locked last: see the module's documentation)."""
    add_counts(Counter(_key(row) for row in rows))


def _foldable() -> ColumnElement[bool]:
    return and_(unsummarized(), BounceEvent.processed.is_(True))


@public
def summarize_batch(limit: int = FOLD_BATCH) -> int:
    """Fold up to `limit` processed events not yet counted into the
    summary, in one transaction (committed); how many were folded."""
    store = config.db.store
    if store.execute(select(BounceEvent.id).where(_foldable())
                     .limit(1)).first() is None:
        # Nothing to do: no write lock taken (on SQLite, an empty write
        # transaction still costs a sync to disk).
        return 0
    serialize_writers()
    rows = store.execute(for_update(
        select(BounceEvent.id, BounceEvent.timestamp, *_KEY_COLUMNS)
        .where(_foldable()).limit(limit), skip_locked=True)).all()
    if rows:
        count_in(rows)
        store.execute(update(BounceEvent)
                      .where(BounceEvent.id.in_([row.id for row in rows]))
                      .values(summarized=True)
                      .execution_options(synchronize_session=False))
    config.db.commit()
    return len(rows)


@public
def summarize(limit: int = FOLD_BATCH) -> int:
    """Fold every processed event not yet counted, `limit` at a time."""
    total = 0
    while (folded := summarize_batch(limit)) >= limit:
        total += folded
    return total + folded


@public
def delete_events(*conditions: ColumnElement[bool]) -> int:
    """Delete the events matching `conditions` and take the summarized
    ones out of the summary, in the caller's transaction; how many were
    deleted.

    The events are locked before they are read and deleted by id, so the
    counts taken out are those of exactly the deleted rows, whatever other
    transactions do meanwhile.  Events another transaction holds (a fold,
    a claim) are skipped: the next deletion takes them.
    """
    store = config.db.store
    deltas: Counter = Counter()
    deleted = 0
    while True:
        rows = store.execute(for_update(
            select(BounceEvent.id, BounceEvent.timestamp,
                   BounceEvent.summarized, *_KEY_COLUMNS)
            .where(*conditions).limit(DELETE_CHUNK), skip_locked=True)).all()
        if not rows:
            break
        deltas.subtract(_key(row) for row in rows if row.summarized)
        deleted += store.execute(
            delete(BounceEvent)
            .where(BounceEvent.id.in_([row.id for row in rows]))
            .execution_options(synchronize_session=False)).rowcount
        if len(rows) < DELETE_CHUNK:
            break
    add_counts(deltas)
    return deleted
