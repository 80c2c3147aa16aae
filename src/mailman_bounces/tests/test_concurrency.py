"""Exactly once: concurrent runners, crashes and duplicates."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

from mailman_bounces.tests.helpers import bounce, commit, make_list, run_pass

REASONS = (
    {},                                                  # user unknown
    {'status': '4.2.2', 'action': 'delayed',
     'diagnostic': '452 4.2.2 <{email}>: Mailbox full'},
    {'status': '5.7.26', 'diagnostic':
     "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy"},
)


def _dataset() -> None:
    """Two lists, 40 members each, 240 bounces; some members one bounce
    short of being disabled, so the pass disables, warns and notifies.
    Every member has a domain of their own: no outage freeze."""
    from mailman.utilities.datetime import now
    for name in ('alpha@example.com', 'beta@example.com'):
        emails = [f'm{n}@dom{n}.example.org' for n in range(40)]
        mlist = make_list(name, members=emails,
                          bounce_notify_owner_on_bounce_increment=True)
        for n, email in enumerate(emails[:10]):
            member = mlist.members.get_member(email)
            member.bounce_score = 4
            member.last_bounce_received = now() - timedelta(days=1)
        commit()
        for round_ in range(3):
            for n, email in enumerate(emails):
                bounce(mlist, email, **REASONS[(n + round_) % 3])


def _snapshot() -> dict:
    """Everything the pass decides, keyed by natural keys (not row ids)."""
    from mailman.config import config
    from mailman.interfaces.listmanager import IListManager
    from sqlalchemy import select
    from zope.component import getUtility

    from mailman_bounces.model.event import BounceEvent
    from mailman_bounces.model.member import MemberBounceState
    from mailman_bounces.model.notice import Notice
    config.db.abort()
    members = {}
    for mlist in getUtility(IListManager).mailing_lists:
        for member in mlist.members.members:
            state = config.db.store.get(MemberBounceState, member.id)
            members[(mlist.list_id, member.address.email)] = (
                member.bounce_score, str(member.preferences.delivery_status),
                member.total_warnings_sent,
                None if state is None else round(state.score, 3),
                None if state is None else state.disabled_reason)
    outcomes = Counter(
        (e.list_id, e.email, e.reason, e.processed, e.outcome, e.score_delta)
        for e in config.db.store.execute(select(BounceEvent)).scalars())
    notices = Counter(
        (n.kind, n.list_id, n.email, n.sent is not None)
        for n in config.db.store.execute(select(Notice)).scalars())
    return {'members': members, 'outcomes': outcomes, 'notices': notices}


@pytest.fixture(autouse=True)
def _no_masters(mailman):
    """These tests wait on worker processes of their own: no master thread
    (LMTP and REST layers) may reap them first.  That is what made the
    crashing worker seem to exit 0 in full runs, never alone."""
    mailman.without_masters()


def _workers(count: int, batch: int, tmp_path, crash: bool = False) -> list:
    from mailman.config import config
    go = tmp_path / f'go-{count}-{crash}'
    env = dict(os.environ, MAILMAN_BOUNCES_GO=str(go),
               MAILMAN_BOUNCES_WORKERS=str(count))
    command = [sys.executable, '-m', 'mailman_bounces.tests.pass_worker',
               config.filename, str(batch)] + (['crash'] if crash else [])
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for _ in range(count)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob(f'{go.name}.ready.*'))) < count:
        assert time.monotonic() < deadline, 'workers did not start'
        assert all(p.poll() is None for p in processes), 'a worker died'
        time.sleep(0.05)
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append((process.returncode, out, err))
    return results


def _reset_world() -> None:
    from mailman.testing.helpers import reset_the_world
    from mailman.testing.layers import ConfigLayer
    reset_the_world()
    ConfigLayer.testSetUp()


def test_two_runners_give_the_same_result_as_one(mailman, tmp_path):
    _dataset()
    batch = 7
    results = _workers(2, batch, tmp_path)
    assert [code for code, _, _ in results] == [0, 0], results
    processed = [int(out.split()[-1]) for _, out, _ in results]
    # Both runners did work, at least a batch each (the workers meet after
    # their first batch, so neither can drain the queue alone) ...
    assert min(processed) >= batch, processed
    # ... and together they processed every event, each once.
    assert sum(processed) == 240, processed
    concurrent = _snapshot()
    _reset_world()
    _dataset()
    [(code, _, err)] = _workers(1, 500, tmp_path)
    assert code == 0, err
    single = _snapshot()
    assert concurrent == single
    assert all(processed for (*_, processed, _, _) in single['outcomes'])
    disabled = [key for key, value in single['members'].items()
                if value[1] == 'DeliveryStatus.by_bounces']
    # The ten members per list who were one short, and nobody else.
    assert len(disabled) == 20


def test_a_crash_mid_batch_loses_and_double_counts_nothing(
        mailman, tmp_path):
    _dataset()
    [(code, out, err)] = _workers(1, 50, tmp_path, crash=True)
    assert code == 17, (out, err)
    # The crashed transaction left nothing behind.
    from mailman.config import config
    from sqlalchemy import func, select

    from mailman_bounces.model.event import BounceEvent
    config.db.abort()
    assert config.db.store.execute(select(func.count()).where(
        BounceEvent.processed.is_(True))).scalar() == 0
    [(code, _, err)] = _workers(1, 50, tmp_path)
    assert code == 0, err
    recovered = _snapshot()
    _reset_world()
    _dataset()
    [(code, _, err)] = _workers(1, 50, tmp_path)
    assert code == 0, err
    assert recovered == _snapshot()


def test_an_exception_mid_batch_rolls_everything_back(mailman, monkeypatch):
    from mailman_bounces.app import bounce_pass
    from mailman_bounces.tests.helpers import events, member
    mlist = make_list(members=['anne@example.org'])
    bounce(mlist, 'anne@example.org')
    original = bounce_pass.save_members

    def save_then_fail(*args, **kws):
        original(*args, **kws)
        raise RuntimeError('disk full')
    monkeypatch.setattr(bounce_pass, 'save_members', save_then_fail)
    with pytest.raises(RuntimeError):
        run_pass()
    assert member(mlist, 'anne@example.org').bounce_score == 0
    assert [e.processed for e in events()] == [False]
    monkeypatch.setattr(bounce_pass, 'save_members', original)
    run_pass()
    assert member(mlist, 'anne@example.org').bounce_score == 1
    assert [e.processed for e in events()] == [True]


def test_the_same_bounce_registered_twice_counts_once(mailman):
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.tests.helpers import events, member
    from mailman_bounces.tests.samples import dsn
    mlist = make_list(members=['anne@example.org'])
    text = dsn('anne@example.org', message_id='<same@mx.example>')
    processor = getUtility(IBounceProcessor)
    first = processor.register(mlist, 'anne@example.org',
                               specialized_message_from_string(text))
    second = processor.register(mlist, 'anne@example.org',
                                specialized_message_from_string(text))
    commit()
    assert first.id == second.id
    run_pass()
    assert len(events()) == 1
    assert member(mlist, 'anne@example.org').bounce_score == 1


def test_a_periodic_step_runs_once_per_period_even_in_one_runner(mailman):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.claims import take_lease, take_turn
    start = now()
    hour = timedelta(hours=1)
    assert take_turn('step', hour, start)
    commit()
    # The runner that took the turn does not get it again early ...
    assert not take_turn('step', hour, start + timedelta(minutes=59))
    # ... while a lease it holds is renewed.
    assert take_lease('held', hour, start)
    assert take_lease('held', hour, start + timedelta(minutes=59))
    assert take_turn('step', hour, start + hour)
    commit()


def test_a_rolled_back_turn_is_given_back(mailman):
    from mailman.config import config
    from mailman.utilities.datetime import now

    from mailman_bounces.app.claims import take_turn
    assert take_turn('step', timedelta(hours=1), now())
    config.db.abort()
    assert take_turn('step', timedelta(hours=1), now())


def _standing(mlist, email: str) -> tuple:
    from mailman_bounces.tests.helpers import events, member, state
    found = member(mlist, email)
    return (found.bounce_score, str(found.preferences.delivery_status),
            state(mlist, email).score, state(mlist, email).disabled_reason,
            sorted((e.reason, e.outcome, e.score_delta)
                   for e in events(email=email)))


def test_a_late_bounce_counts_as_it_would_have_in_time(mailman):
    """A runner may register a bounce after a later one was scored: each
    bounce day of the run still counts once, in whatever order."""
    from mailman_bounces.tests.helpers import fast_forward, member
    mlist = make_list(members=['anne@example.org'])
    fast_forward(days=1)
    bounce(mlist, 'anne@example.org')                # day 2, registered 1st
    run_pass()
    fast_forward(days=-1)
    bounce(mlist, 'anne@example.org', diagnostic='550 <{email}> no such user')
    run_pass()                                       # day 1, registered 2nd
    # Two days with a hard bounce each: 1 + 1.
    assert member(mlist, 'anne@example.org').bounce_score == 2
    # Another bounce of day 1 is still one increment per day.
    bounce(mlist, 'anne@example.org', diagnostic='550 <{email}> unknown')
    run_pass()
    assert member(mlist, 'anne@example.org').bounce_score == 2


def _near_the_threshold(email: str):
    """A member one hard bounce short of being disabled, with a delay
    registered after (and so with a lower id than) an earlier hard
    bounce: the earlier bounce has the later id."""
    from mailman.utilities.datetime import now

    from mailman_bounces.tests.helpers import events, fast_forward
    mlist = make_list(members=[email])
    found = mlist.members.get_member(email)
    found.bounce_score = 4
    found.last_bounce_received = now() - timedelta(days=1)
    commit()
    fast_forward(hours=1)
    bounce(mlist, email, **REASONS[1])          # delay, 1 h later, id 1
    fast_forward(hours=-1)
    bounce(mlist, email)                        # user unknown, earlier, id 2
    late, early = events()
    assert late.id < early.id and early.timestamp < late.timestamp
    return mlist, early.id, late.id


# What the spec says the two events do, in timestamp order: the hard bounce
# reaches the threshold (4 + 1) and disables; the delay after it finds the
# member disabled.
_IN_ORDER = (0, 'DeliveryStatus.by_bounces', 0.0, 'userunknown',
             [('mailboxfull', 'already-disabled', 0.0),
              ('userunknown', 'disabled', 1.0)])


def test_a_runner_claiming_the_later_event_first_scores_in_order(mailman):
    """Forced interleaving: a runner's batch holds only the later event
    (the earlier one has a higher id, or went to another batch)."""
    from mailman.utilities.datetime import now

    from mailman_bounces.app.bounce_pass import PassReport, process_batch
    mlist, early, late = _near_the_threshold('anne@example.org')
    process_batch(now(), PassReport(), 1, [late])
    process_batch(now(), PassReport(), 1, [early])
    commit()
    assert _standing(mlist, 'anne@example.org') == _IN_ORDER


def test_a_runner_waits_for_the_earlier_event_another_one_holds(
        mailman, monkeypatch):
    """Forced interleaving: another runner holds the member's earlier
    event (row locked, skipped) while this one claims the later one."""
    from mailman.utilities.datetime import now

    from mailman_bounces.app import bounce_pass
    from mailman_bounces.tests.helpers import events
    mlist, early, late = _near_the_threshold('anne@example.org')
    siblings = bounce_pass._claim_siblings
    # As if SKIP LOCKED skipped the earlier event, held by the other runner.
    monkeypatch.setattr(bounce_pass, '_claim_siblings',
                        lambda *args: [])
    report = bounce_pass.PassReport()
    assert bounce_pass.process_batch(now(), report, 1, [late]) == 0
    commit()
    assert [e.processed for e in events()] == [False, False]
    # The other runner scores its event; then ours goes.
    bounce_pass.process_batch(now(), report, 1, [early])
    monkeypatch.setattr(bounce_pass, '_claim_siblings', siblings)
    bounce_pass.process_batch(now(), report, 1, [late])
    commit()
    assert _standing(mlist, 'anne@example.org') == _IN_ORDER


def test_a_runner_stops_before_an_event_another_one_holds(
        mailman, monkeypatch):
    """Forced interleaving: this runner holds a member's first and third
    events, another runner the second.  Only the first is scored now; the
    third waits until the second is (timestamp order, whoever holds
    what)."""
    from mailman.utilities.datetime import now

    from mailman_bounces.app import bounce_pass
    from mailman_bounces.tests.helpers import events, fast_forward
    mlist = make_list(members=['anne@example.org'])
    for _ in range(3):
        bounce(mlist, 'anne@example.org')
        fast_forward(hours=1)
    first, second, third = (e.id for e in events())
    # As if SKIP LOCKED skipped the second event, held by the other runner.
    monkeypatch.setattr(bounce_pass, '_claim_siblings', lambda *args: [])
    report = bounce_pass.PassReport()
    assert bounce_pass.process_batch(now(), report, 2,
                                     [first, third]) == 1
    commit()
    assert {e.id: e.processed for e in events()} == {
        first: True, second: False, third: False}
    bounce_pass.process_batch(now(), report, 1, [second])
    bounce_pass.process_batch(now(), report, 1, [third])
    commit()
    assert all(e.processed for e in events())


def test_a_writer_waits_its_turn_behind_a_slow_writer(mailman):
    """SQLite: a runner waiting more than the driver's 5 s for another's
    write lock (a loaded machine) takes its turn, it does not fail with
    "database is locked" (what made two-runner runs fail at random)."""
    import sqlite3
    import threading

    from mailman.config import config
    from sqlalchemy.engine import make_url

    from mailman_bounces.app.claims import serialize_writers
    if config.db.engine.dialect.name != 'sqlite':
        pytest.skip('SQLite only: other databases lock rows')
    holder = sqlite3.connect(make_url(config.db.url).database,
                             isolation_level=None, check_same_thread=False)
    holder.execute('BEGIN IMMEDIATE')
    release = threading.Timer(6.5, holder.rollback)
    release.start()
    try:
        serialize_writers()          # waits past 5 s, then writes
        commit()
    finally:
        release.join()
        holder.close()


def test_a_runner_gets_the_events_a_dead_transaction_still_holds(
        mailman, tmp_path):
    """The server rolls a killed runner's transaction back some time after
    the kill (MySQL under load: seconds); meanwhile its events are locked
    and skipped.  They are processed once released, and a pass worker
    does not stop while some are left (what made the crash test flaky)."""
    import threading

    from mailman.config import config
    from sqlalchemy import create_engine, select

    from mailman_bounces.model.event import BounceEvent
    if config.db.engine.dialect.name == 'sqlite':
        pytest.skip('row locks only')
    mlist = make_list(members=['anne@example.org', 'bob@example.org'])
    bounce(mlist, 'anne@example.org')
    bounce(mlist, 'bob@example.org')
    engine = create_engine(config.db.url)
    holder = engine.connect()
    holder.execute(select(BounceEvent.id).with_for_update()).all()
    go = tmp_path / 'go-1-False'

    def release():
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(5)           # longer than a pass with nothing to claim
        holder.rollback()
    thread = threading.Thread(target=release)
    thread.start()
    try:
        [(code, out, err)] = _workers(1, 50, tmp_path)
    finally:
        thread.join()
        holder.close()
        engine.dispose()
    assert (code, out.split()[-1]) == (0, '2'), err


def test_only_committed_turns_are_logged(mailman):
    # The multi-host harness counts the turns in the hosts' logs to show
    # that no step ran twice in a period: a turn rolled back (a runner
    # killed before its commit) was never taken and is not logged.
    import logging
    from datetime import datetime

    from mailman.config import config

    from mailman_bounces.app.claims import log_turns, take_turn
    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())
    logger = logging.getLogger('mailman.bounce')
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        now = datetime(2025, 3, 3, 9)
        assert take_turn('step', timedelta(hours=1), now)
        config.db.abort()
        log_turns(committed=False)
        assert take_turn('step', timedelta(hours=1), now)
        commit()
        log_turns(committed=True)
        assert not take_turn('step', timedelta(hours=1), now)
        log_turns(committed=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert [line for line in logged if line.startswith('Turn of')] == [
        ('Turn of step taken at 2025-03-03T09:00:00 until '
         '2025-03-03T10:00:00')]
