"""The per-day summary of the events (0014_event_days) keeps the listings
exact: for random filters and pages, the size and the rows of a listing
are those of the events themselves (computed here from the events the test
wrote), with events folded into the summary or not yet, on the boundary
days of a time range, after retention deleted some, and with folds,
deletions and registrations running side by side."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest

from mailman_bounces.tests.helpers import commit

REASONS = ('userunknown', 'mailboxfull', 'blocked', 'dmarc')
SEVERITIES = ('hard', 'soft', 'none')
KINDS = ('bounce', 'delay', 'complaint')
EVIDENCE = ('verified', 'unverified', 'forged')
DAYS = 6
# The fields the summary counts by, and those it does not.
SUMMARY_FILTERS = ('reason', 'severity', 'kind', 'context', 'evidence')


def _moment(rng: random.Random, first: datetime) -> datetime:
    """A time in the DAYS days from `first`, often on a day's edge."""
    day = first + timedelta(days=rng.randrange(DAYS))
    return rng.choice([
        day, day + timedelta(days=1) - timedelta(microseconds=1),
        day + timedelta(seconds=rng.randrange(86400)),
        day + timedelta(seconds=rng.randrange(86400),
                        microseconds=rng.randrange(10 ** 6))])


def _write(rng: random.Random, first: datetime, number: int,
           offset: int) -> list[dict]:
    """`number` events with random classifications and times; what they
    are, as the test knows them."""
    from mailman.config import config
    from mailman.interfaces.bounce import BounceContext
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    written = []
    for n in range(offset, offset + number):
        fields = {
            'reason': rng.choice(REASONS), 'severity': rng.choice(SEVERITIES),
            'kind': rng.choice(KINDS), 'evidence': rng.choice(EVIDENCE),
            'context': rng.choice(list(BounceContext)),
            'timestamp': _moment(rng, first),
            'processed': rng.random() < 0.75,
            'list_id': rng.choice(('a.example.com', 'b.example.com')),
        }
        event = BounceEvent(fields['list_id'], f'm{n % 13}@example.org',
                            f'<m{n}@x>', fingerprint=f'f{n}',
                            **{k: v for k, v in fields.items()
                               if k != 'list_id'})
        config.db.store.add(event)
        config.db.store.flush()
        written.append({**fields, 'id': event.id})
    commit()
    # As stored: MySQL's DATETIME keeps whole seconds (rounded).
    stored = dict(config.db.store.execute(
        select(BounceEvent.id, BounceEvent.timestamp)
        .where(BounceEvent.id.in_([e['id'] for e in written]))).all())
    return [{**event, 'timestamp': stored[event['id']]} for event in written]


def _random_filter(rng: random.Random, first: datetime) -> dict:
    from mailman.interfaces.bounce import BounceContext
    choices = {'reason': REASONS, 'severity': SEVERITIES, 'kind': KINDS,
               'evidence': EVIDENCE, 'context': list(BounceContext)}
    where = {key: rng.choice(values) for key, values in choices.items()
             if rng.random() < 0.3}
    for bound in ('since', 'until'):
        if rng.random() < 0.6:
            where[bound] = _moment(rng, first - timedelta(days=1)) if (
                rng.random() < 0.1) else _moment(rng, first)
    if rng.random() < 0.1:
        where['list_id'] = 'a.example.com'
    return where


def _expected(events: list[dict], where: dict) -> list[int]:
    """The listing of `where`: the matching ids, newest first."""
    def matches(event: dict) -> bool:
        for key, value in where.items():
            if key == 'since' and event['timestamp'] < value:
                return False
            if key == 'until' and event['timestamp'] > value:
                return False
            if key not in ('since', 'until') and event[key] != value:
                return False
        return True
    found = sorted((e for e in events if matches(e)),
                   key=lambda e: (e['timestamp'], e['id']), reverse=True)
    return [event['id'] for event in found]


def _check_listings(rng: random.Random, events: list[dict],
                    first: datetime, rounds: int) -> None:
    from mailman_bounces.app.queries.events import EventFilter, find_events
    for _ in range(rounds):
        where = _random_filter(rng, first)
        expected = _expected(events, where)
        count = rng.choice((1, 3, 7, 50))
        pages = max(1, -(-len(expected) // count))
        for page in {1, pages, rng.randrange(1, pages + 1), pages + 1}:
            result = find_events(EventFilter(**where), count, page)
            start = (page - 1) * count
            assert (result.total_size, [e.id for e, _ in result.rows]) == (
                len(expected), expected[start:start + count]), (
                where, count, page)


def _summary_is_exact() -> None:
    """The summary counts exactly the events flagged as summarized."""
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    from mailman_bounces.model.event_day import SUMMARY_KEYS, EventDay
    keys = [getattr(BounceEvent, key) for key in SUMMARY_KEYS]
    flagged = Counter(
        (row.timestamp.date(), *row[1:])
        for row in config.db.store.execute(
            select(BounceEvent.timestamp, *keys)
            .where(BounceEvent.summarized.is_(True))))
    counted = {
        (row.day, *(getattr(row, key) for key in SUMMARY_KEYS)): row.events
        for row in config.db.store.execute(select(EventDay)).scalars()}
    assert counted == dict(flagged)


def _flags() -> dict[int, bool]:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    return dict(config.db.store.execute(
        select(BounceEvent.id, BounceEvent.summarized)).all())


def _first_day() -> datetime:
    """A few days before the retention cut-off (90 days), so that
    retention deletes some of the events."""
    from mailman.utilities.datetime import now
    day = datetime.combine(now().date(), time())
    return day - timedelta(days=90 + DAYS // 2)


def test_listings_are_exact_with_and_without_the_summary(mailman):
    from mailman_bounces.app.event_summary import summarize
    rng = random.Random(14)
    first = _first_day()
    events = _write(rng, first, 300, 0)
    _check_listings(rng, events, first, 40)         # nothing summarized
    folded = summarize(limit=37)
    commit()
    flags = _flags()
    assert folded == sum(e['processed'] for e in events) == sum(
        flags.values())
    _summary_is_exact()
    _check_listings(rng, events, first, 120)
    # Registered after the fold: counted directly.
    events += _write(rng, first, 80, 300)
    _check_listings(rng, events, first, 120)
    _summary_is_exact()


def test_retention_takes_deleted_events_out_of_the_summary(mailman,
                                                           monkeypatch):
    from mailman.utilities.datetime import now

    from mailman_bounces.app import event_summary
    from mailman_bounces.app.event_summary import summarize
    from mailman_bounces.app.retention import evict
    # The summary changed a few rows per statement, and the events deleted
    # a few at a time, as with many.
    monkeypatch.setattr(event_summary, 'UPSERT_ROWS', 7)
    monkeypatch.setattr(event_summary, 'DELETE_CHUNK', 11)
    rng = random.Random(90)
    first = _first_day()
    events = _write(rng, first, 300, 0)
    summarize()
    events += _write(rng, first, 60, 300)          # some not summarized
    moment = now()
    evicted = evict(moment)
    commit()
    cutoff = moment - timedelta(days=90)
    kept = [e for e in events
            if not (e['processed'] and e['timestamp'] < cutoff)]
    assert evicted.events == len(events) - len(kept) > 0
    _summary_is_exact()
    _check_listings(rng, kept, first, 150)


def test_the_pass_counts_every_event_it_processes(mailman):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.bounce_pass import run_pass
    rng = random.Random(3)
    first = datetime.combine(now().date(), time()) - timedelta(days=DAYS)
    events = _write(rng, first, 60, 0)
    report = run_pass()
    commit()
    # The batches count the events they process (no list: 'no-list') as
    # they mark them processed; the fold, the events processed already
    # (as if dismissed after an outage, or loaded in bulk).
    assert report.events == sum(not e['processed'] for e in events) > 0
    assert report.summarized == sum(e['processed'] for e in events) > 0
    assert all(_flags().values())
    _summary_is_exact()
    _check_listings(rng, events, first, 40)


def test_the_migration_counts_the_events_present(mailman):
    """0014 counts the events there are (as a site upgrading has them):
    the same summary as the pass would have folded."""
    from contextlib import ExitStack

    from alembic import command
    from mailman.config import config

    from mailman_bounces.database.schema import _alembic_config
    rng = random.Random(13)
    first = _first_day()
    events = _write(rng, first, 120, 0)
    config.db.store.close()
    with ExitStack() as resources, config.db.engine.begin() as connection:
        cfg = _alembic_config(resources)
        cfg.attributes['connection'] = connection
        command.stamp(cfg, 'head')
        command.downgrade(cfg, '0013_tracking')
        command.upgrade(cfg, 'head')
    flags = _flags()
    assert len(flags) == len(events) and all(flags.values())
    _summary_is_exact()
    _check_listings(rng, events, first, 60)


# --------------------------------------------------------------------------
# Racing: another runner's transaction runs at the worst moment of ours.
# SQLite has one writer at a time (the other would wait for our commit),
# so these need row locks.

@contextmanager
def _another_runner():
    """Run the block as another runner does: on a connection of its own,
    committing on its own (and failing, not hanging, on a lock ours
    holds)."""
    from mailman.config import config
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import scoped_session, sessionmaker
    # At the isolation level Mailman gives every runner's engine.
    engine = create_engine(config.db.url, isolation_level='READ UNCOMMITTED')

    @event.listens_for(engine, 'connect')
    def _no_waiting(connection, record):
        cursor = connection.cursor()
        if engine.dialect.name == 'postgresql':
            cursor.execute("SET lock_timeout = '5s'")
        else:
            cursor.execute('SET innodb_lock_wait_timeout = 5')
        cursor.close()
    ours = config.db.sessionmaker
    config.db.sessionmaker = scoped_session(sessionmaker(bind=engine))
    try:
        yield
        config.db.store.commit()
    finally:
        config.db.store.close()
        config.db.sessionmaker = ours
        engine.dispose()


@contextmanager
def _before(statement_start: str, interloper):
    """Run `interloper` (as another runner) once, just before our own
    transaction sends a statement starting with `statement_start`."""
    from mailman.config import config
    from sqlalchemy import event
    engine = config.db.engine
    done = []

    def hook(conn, cursor, statement, parameters, context, many):
        if not done and statement.startswith(statement_start):
            done.append(True)
            with _another_runner():
                interloper()
    event.listen(engine, 'before_cursor_execute', hook)
    try:
        yield done
    finally:
        event.remove(engine, 'before_cursor_execute', hook)


@pytest.fixture
def row_locks(mailman):
    from mailman.config import config
    if config.db.engine.dialect.name == 'sqlite':
        pytest.skip('SQLite has one writer at a time: nothing races')


def test_two_folds_racing_count_each_event_once(row_locks):
    from mailman_bounces.app.event_summary import summarize, summarize_batch
    rng = random.Random(2)
    first = _first_day()
    events = _write(rng, first, 200, 0)
    other = []
    # The other runner folds while ours holds its batch, not yet counted
    # nor marked.
    with _before('INSERT INTO bounces_event_day',
                 lambda: other.append(summarize_batch(40))) as done:
        ours = summarize_batch(60)
    assert done and ours == 60 and other == [40]
    summarize()
    commit()
    assert sum(_flags().values()) == sum(e['processed'] for e in events)
    _summary_is_exact()
    _check_listings(rng, events, first, 60)


def test_a_registration_during_a_fold_is_counted(row_locks):
    from mailman_bounces.app.event_summary import summarize
    rng = random.Random(5)
    first = _first_day()
    events = _write(rng, first, 100, 0)
    late = []
    with _before('INSERT INTO bounces_event_day',
                 lambda: late.extend(_write(rng, first, 10, 100))) as done:
        summarize()
    commit()
    assert done and len(late) == 10
    events += late
    _summary_is_exact()
    _check_listings(rng, events, first, 80)


def test_a_fold_during_an_eviction_is_not_lost(row_locks):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.event_summary import summarize
    from mailman_bounces.app.retention import evict
    rng = random.Random(7)
    first = _first_day()
    events = _write(rng, first, 200, 0)
    summarize(limit=50)
    events += _write(rng, first, 100, 200)         # processed, not folded
    moment = now()
    # The other runner folds between our reading and deleting the events.
    with _before('DELETE FROM bounces_event', summarize) as done:
        evict(moment)
    commit()
    assert done
    cutoff = moment - timedelta(days=90)
    kept = [e for e in events
            if not (e['processed'] and e['timestamp'] < cutoff)]
    _summary_is_exact()
    _check_listings(rng, kept, first, 80)
