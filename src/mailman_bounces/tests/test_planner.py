"""The periodic steps are planned to read only what they need: the events
in a time range, not a whole index (see `database.planner`), and only the
members over a threshold.

The plans checked are SQLite's: its planner has no statistics, so it is the
one that chose badly.  PostgreSQL and MySQL plan with statistics about the
data, so a plan on a near-empty test database says nothing about them; on
those backends these tests are skipped.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailman_bounces.tests.databases import selected_backend
from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    make_list,
    sent_statements,
)

pytestmark = pytest.mark.skipif(
    selected_backend() != 'sqlite',
    reason='SQLite plans only (the others plan with statistics)')


def _plans(step, table: str = 'bounces_event') -> dict[str, str]:
    """Run `step`; return each statement it sent about `table` with
    SQLite's plan for it."""
    from mailman.config import config
    with sent_statements() as sent:
        step()
    seen = [(statement.text, statement.parameters) for statement in sent
            if table in statement.text and not statement.many]
    connection = config.db.store.connection().connection.dbapi_connection
    plans = {}
    for statement, parameters in seen:
        rows = connection.execute(f'EXPLAIN QUERY PLAN {statement}',
                                  parameters).fetchall()
        plans[statement] = '\n'.join(row[-1] for row in rows)
    return plans


@pytest.fixture
def history(mailman):
    """A list with a month of bounces behind it."""
    from mailman_bounces.tests.helpers import fast_forward, run_pass
    emails = [f'm{n}@d{n % 3}.example.org' for n in range(12)]
    mlist = make_list(members=emails)
    for _ in range(3):
        for email in emails:
            bounce(mlist, email)
        run_pass()
        fast_forward(days=10)
    return mlist


def test_outage_detection_walks_only_the_window(history):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.outage import detect_outages
    plans = _plans(lambda: detect_outages(now()))
    grouping = [plan for statement, plan in plans.items()
                if 'GROUP BY' in statement]
    # Per domain and per receiving server, site-wide and per list.
    assert len(grouping) == 4
    for plan in grouping:
        # An index bounded by the window: the time index, or one on an
        # equality then the time (the normal context's events in it).
        assert re.search(r'USING INDEX ix_bounces_event_\w+ '
                         r'\((\w+=\? AND )?timestamp>\?\)', plan), plan
    commit()


def test_eviction_walks_only_what_is_past_retention(history):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.retention import evict
    plans = _plans(lambda: evict(now() + timedelta(days=365)))
    # The events are found (and locked, then deleted by id: see
    # event_summary.delete_events) through the time index.
    [events] = [plan for statement, plan in plans.items()
                if statement.startswith('SELECT bounces_event.id, '
                                        'bounces_event.timestamp, '
                                        'bounces_event.summarized')]
    assert 'USING INDEX ix_bounces_event_time_id (timestamp<?)' in events
    [messages] = [plan for statement, plan in plans.items()
                  if statement.startswith('DELETE FROM bounces_message')]
    # Each old message's "still linked?" check is one index lookup, not a
    # scan of the events.
    assert 'ix_bounces_event_message (stored_message_id=?)' in messages
    assert 'SCAN bounces_event' not in messages
    commit()



def test_the_threshold_recheck_reads_only_members_over_it(history):
    from mailman_bounces.app.warnings import members_over_threshold
    found = []
    plans = _plans(lambda: found.extend(members_over_threshold()),
                   table='bounces_member')
    assert found == []
    # Nobody is over the threshold: one statement, through the index.
    [plan] = plans.values()
    assert 'USING INDEX ix_bounces_member_list_score' in plan
    assert 'SCAN bounces_member' not in plan
    commit()
