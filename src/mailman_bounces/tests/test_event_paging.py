"""Paging the events on a big table: the ids of a page come from an index
alone (0007_rest_indexes); pages in the back half of a listing are read
from its end, or (filters the per-day summary counts by, 0014_event_days)
from the day they start on; whichever way a page is read, the pages of a
listing are the listing, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailman_bounces.tests.databases import selected_backend
from mailman_bounces.tests.helpers import commit, sent_statements

LIST_ID = 'test.example.com'
REASONS = ('userunknown', 'mailboxfull', 'blocked')
EVENTS = 37


@pytest.fixture
def events(mailman):
    """EVENTS events, several sharing each timestamp (so that the order
    relies on the ids too), newest first: the expected listing."""
    from mailman.config import config
    from mailman.utilities.datetime import now

    from mailman_bounces.model.event import BounceEvent
    start = now()
    rows = [BounceEvent(LIST_ID, f'user{n % 7}@d{n % 3}.example.org',
                        f'<m{n}@x>', fingerprint=f'f{n}',
                        reason=REASONS[n % 3],
                        severity='soft' if n % 3 == 1 else 'hard',
                        kind='delay' if n % 3 == 1 else 'bounce',
                        outcome='scored' if n % 2 else 'ignored',
                        processed=True,
                        timestamp=start - timedelta(hours=n // 4))
            for n in range(EVENTS)]
    config.db.store.add_all(rows)
    commit()
    # Newest first; at the same time, the higher id first.
    return sorted(rows, key=lambda row: (row.timestamp, row.id),
                  reverse=True)


def _listing(count: int, **filters) -> list[int]:
    from mailman_bounces.app.queries.events import EventFilter, find_events
    found = []
    page = 1
    while True:
        result = find_events(EventFilter(**filters), count, page)
        assert result.start == (page - 1) * count
        if not result.rows:
            return found
        found.extend(event.id for event, _ in result.rows)
        page += 1


@pytest.mark.parametrize('count', [1, 2, 3, 5, 8, 36, 37, 50])
def test_the_pages_are_the_listing(events, count):
    assert _listing(count) == [event.id for event in events]
    soft = [event.id for event in events if event.severity == 'soft']
    assert _listing(count, severity='soft') == soft
    assert _listing(count, reason='blocked', severity='hard') == [
        event.id for event in events
        if (event.reason, event.severity) == ('blocked', 'hard')]


def _plans(sent) -> list[str]:
    """SQLite's plans of the page's count and ids."""
    from mailman.config import config
    connection = config.db.store.connection().connection.dbapi_connection
    return ['; '.join(row[-1] for row in connection.execute(
                f'EXPLAIN QUERY PLAN {statement.text}',
                statement.parameters).fetchall())
            for statement in sent
            if 'OFFSET' in statement.text or 'count(' in statement.text]


@pytest.mark.skipif(selected_backend() != 'sqlite',
                    reason="SQLite's plans (the others plan with "
                           'statistics about the data)')
@pytest.mark.parametrize('filters', [
    {'list_id': LIST_ID}, {'email': 'user0@d0.example.org'},
    {'domain': 'd1.example.org'}, {'outcome': 'scored'},
])
def test_a_deep_page_reads_only_an_index(events, filters):
    from mailman_bounces.app.queries.events import EventFilter, find_events
    with sent_statements() as sent:
        page = find_events(EventFilter(**filters), 1, 2)
    assert len(page.rows) == 1
    plans = _plans(sent)
    assert len(plans) == 2, plans
    for plan in plans:
        # The count and the page's ids: from an index alone, in its order.
        assert 'USING COVERING INDEX' in plan, plan
        assert 'TEMP B-TREE' not in plan, plan
    commit()


@pytest.mark.skipif(selected_backend() != 'sqlite',
                    reason="SQLite's plans (the others plan with "
                           'statistics about the data)')
@pytest.mark.parametrize('filters', [
    {}, {'reason': 'blocked'}, {'severity': 'soft'}, {'kind': 'bounce'},
    {'evidence': 'verified'}, {'reason': 'blocked', 'severity': 'hard'},
])
def test_a_summarized_listing_is_counted_without_its_events(events,
                                                            filters):
    """Filters the per-day summary counts by: the count reads the summary
    and, of the events, only those not summarized yet (a partial index);
    the page's ids come from an index alone, in its order."""
    from mailman_bounces.app.event_summary import summarize
    from mailman_bounces.app.queries.events import EventFilter, find_events
    summarize()
    with sent_statements() as sent:
        page = find_events(EventFilter(**filters), 1, 2)
    assert len(page.rows) == 1
    count, ids = _plans(sent)
    assert 'SCAN bounces_event_day' in count, count
    events_read = [step for step in count.split('; ')
                   if 'bounces_event ' in step + ' ']
    assert events_read == [
        'SCAN bounces_event USING INDEX ix_bounces_event_unsummarized'], count
    assert 'USING COVERING INDEX' in ids, ids
    assert 'TEMP B-TREE' not in ids, ids
    commit()
