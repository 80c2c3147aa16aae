"""Faults inside Mailman: the database unavailable for a while."""

from __future__ import annotations

import os

import pytest

from mailman_bounces.tests.helpers import events, make_list


def _queue(name: str) -> list[str]:
    from mailman.config import config
    return sorted(os.listdir(config.switchboards[name].queue_directory))


def _enqueue_bounces(mlist, emails) -> None:
    from mailman.config import config
    from mailman.testing.helpers import specialized_message_from_string

    from mailman_bounces.tests.samples import dsn
    for email in emails:
        config.switchboards['bounces'].enqueue(
            specialized_message_from_string(dsn(email)),
            listid=mlist.list_id)


def test_bounces_wait_for_the_database_and_none_is_shunted(mailman, caplog):
    from mailman.config import config
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.outages import database_outage
    emails = [f'm{n}@example.org' for n in range(20)]
    mlist = make_list(members=emails)
    _enqueue_bounces(mlist, emails)
    runner = make_testable_runner(BounceRunner, 'bounces')
    # The outage starts between two transactions (SQLite's switch applies
    # to connections handed out after it).
    config.db.abort()
    with database_outage(config.db.engine) as outage:
        outage.start()
        # The runner finds the database unavailable, whichever way the
        # backend says it: every bounce stays queued as it was.
        assert runner._one_iteration() == 20
        assert len(_queue('bounces')) == 20
        assert all(name.endswith('.pck') for name in _queue('bounces'))
        assert _queue('shunt') == []
        [warning] = [record for record in caplog.records
                     if record.name == 'mailman.bounce'
                     and record.levelname == 'WARNING']
        assert 'Database unavailable' in warning.getMessage()
        assert '20 bounce(s) stay queued' in warning.getMessage()
        # It backs off: an immediate second look leaves the queue alone.
        assert runner._one_iteration() == 0
        # Another try while the outage lasts: still nothing shunted.
        runner._backoff.retry_at = 0.0
        runner._one_iteration()
        assert runner._backoff.failures == 2
        assert len(_queue('bounces')) == 20
        assert _queue('shunt') == []
        outage.end()
        # The database is back: the runner's own loop (with its real
        # back-off) registers every bounce, without `mailman unshunt`.
        runner.run()
    assert _queue('bounces') == []
    assert _queue('shunt') == []
    registered = [event.email for event in events()]
    assert sorted(registered) == sorted(emails)
    assert any(record.name == 'mailman.bounce'
               and 'Database available again after' in record.getMessage()
               for record in caplog.records)


def test_a_message_failing_by_itself_is_still_shunted_during_an_outage_free_run(
        mailman, monkeypatch):
    """The outage handling does not hide a message's own fault."""
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.app import processor
    from mailman_bounces.runners.bounce import BounceRunner
    emails = ['anne@example.org', 'bart@example.org']
    mlist = make_list(members=emails)
    original = processor.event_row

    def unwritable_for_bart(list_id, email, *args, **kws):
        if email == 'bart@example.org':
            raise ValueError('value out of range for column')
        return original(list_id, email, *args, **kws)
    monkeypatch.setattr(processor, 'event_row', unwritable_for_bart)
    _enqueue_bounces(mlist, emails)
    make_testable_runner(BounceRunner, 'bounces').run()
    assert len(_queue('shunt')) == 1
    assert [event.email for event in events()] == ['anne@example.org']


@pytest.mark.parametrize(('error', 'transient'), [
    (OSError(28, 'No space left on device'), True),
    (OSError(2, 'No such file or directory'), False),
    (ValueError('bad'), False),
    (RecursionError('deep'), False),
])
def test_operating_system_errors_are_classified(error, transient):
    from mailman_bounces.database.faults import is_transient
    assert is_transient(error) is transient


def test_backoff_doubles_up_to_a_limit():
    from mailman_bounces.utilities.backoff import Backoff
    backoff = Backoff(first=2, longest=10)
    assert [backoff.failed(100.0) for _ in range(5)] == [2, 4, 8, 10, 10]
    assert backoff.remaining(105.0) == 5
    assert backoff.remaining(111.0) == 0
    assert backoff.succeeded() == 5
    assert backoff.remaining(100.0) == 0


def _error_of(engine, statement: str) -> Exception:
    from sqlalchemy import text
    with engine.connect() as connection:
        try:
            connection.execute(text(statement))
            connection.commit()
        except Exception as error:  # noqa: BLE001 - what the test inspects
            return error
    raise AssertionError(f'{statement!r} did not fail')


def test_the_backends_own_errors_are_classified(mailman):
    from mailman.config import config

    from mailman_bounces.database.faults import is_transient
    from mailman_bounces.tests.outages import database_outage
    engine = config.db.engine
    write = "UPDATE mailinglist SET display_name = 'x' WHERE id < 0"
    # A message's own fault (here a statement no database accepts) is not
    # transient ...
    assert not is_transient(_error_of(engine, 'SELECT * FROM no_such_table'))
    with database_outage(engine) as outage:
        outage.start()
        # ... the database refusing writes is, on every backend, and so is
        # the first use of a connection the server dropped.
        for _ in range(2):
            assert is_transient(_error_of(engine, write))
