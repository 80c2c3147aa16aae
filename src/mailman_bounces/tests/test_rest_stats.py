"""Statistics, outage freezes and re-enable tokens through REST."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    fast_forward,
    make_list,
    member,
    run_pass,
    virgin_messages,
)
from mailman_bounces.tests.test_rest_api import (
    ANNE,
    BART,
    base_url,
    call,
    description,
    get,
    populate,
)

COUNTS = ('events', 'addresses', 'hard', 'soft', 'complaints', 'verified',
          'unverified', 'forged')


@pytest.fixture
def world(rest):
    return populate()


def _counts(*values: int) -> dict[str, int]:
    # The events are registered through core's interface, by code in the
    # process: all verified evidence.
    if len(values) == 5:
        values = (*values, values[0], 0, 0)
    return dict(zip(COUNTS, values, strict=True))


def test_stats(world):
    stats = get('/stats')
    assert stats['totals'] == _counts(9, 9, 6, 2, 1)
    assert stats['lists'] == [{'list_id': 'test.example.com',
                               **_counts(9, 9, 6, 2, 1)}]
    reasons = {entry['reason']: entry for entry in stats['reasons']}
    # Most frequent first.
    assert stats['reasons'][0]['reason'] == 'userunknown'
    assert reasons['userunknown'] == {'reason': 'userunknown',
                                      **_counts(6, 6, 6, 0, 0)}
    assert reasons['feedback']['complaints'] == 1
    assert reasons['authfailure']['soft'] == 1
    assert stats['domains'] == [
        {'domain': 'outage.example.net', **_counts(5, 5, 5, 0, 0)},
        {'domain': 'example.org', **_counts(4, 4, 1, 2, 1)}]
    assert stats['days'] == [{'day': '2005-08-01', **_counts(9, 9, 6, 2, 1)}]
    assert (stats['list_id'], stats['since'], stats['until']) == (
        None, None, None)
    assert sorted(freeze['list_id'] or '' for freeze in stats['freezes']) \
        == ['', 'test.example.com']
    assert all('http_etag' in freeze for freeze in stats['freezes'])


def test_stats_per_day_and_time_range(rest):
    mlist = make_list(members=[ANNE, BART])
    bounce(mlist, ANNE)
    fast_forward(days=2)
    bounce(mlist, ANNE)
    bounce(mlist, BART)
    days = get('/stats')['days']
    assert days == [{'day': '2005-08-01', **_counts(1, 1, 1, 0, 0)},
                    {'day': '2005-08-03', **_counts(2, 2, 2, 0, 0)}]
    assert get('/stats')['totals']['addresses'] == 2
    later = get('/stats?since=2005-08-02')
    assert later['since'] == '2005-08-02T00:00:00'
    assert later['totals'] == _counts(2, 2, 2, 0, 0)
    earlier = get('/stats?until=2005-08-02')
    assert earlier['until'] == '2005-08-02T23:59:59.999999'
    assert earlier['totals']['events'] == 1
    # The REST server's clock stays on 2005-08-01 (Mailman's test clock).
    assert get('/stats?days=1')['since'] == '2005-08-01T00:00:00'
    assert get('/stats?days=3')['since'] == '2005-07-30T00:00:00'
    # days and since together: the later start wins.
    assert get('/stats?days=3&since=2005-07-31')['since'] \
        == '2005-07-31T00:00:00'


def test_stats_of_one_list(world):
    other = make_list('other@example.com', members=[ANNE])
    bounce(other, ANNE)
    assert get('/stats')['totals']['events'] == 10
    stats = get('/stats?list_id=other@example.com')
    assert stats['list_id'] == 'other.example.com'
    assert stats['totals'] == _counts(1, 1, 1, 0, 0)
    assert [entry['list_id'] for entry in stats['lists']] == [
        'other.example.com']
    # Only the site-wide freeze concerns the other list.
    assert [freeze['list_id'] for freeze in stats['freezes']] == [None]
    assert len(get('/stats?list_id=test.example.com')['freezes']) == 2


def test_stats_top_domains(world):
    domains = get('/stats?top=1')['domains']
    assert [entry['domain'] for entry in domains] == ['outage.example.net']


@pytest.mark.parametrize('query, named', [
    ('days=0', 'days'), ('days=36501', 'days'), ('top=0', 'top'),
    ('since=last-week', 'since'), ('until=2005-02-30', 'until'),
    ('reason=userunknown', 'reason'),
])
def test_bad_stats_queries(world, query, named):
    response = call('GET', '/stats?' + query)
    assert response.status_code == 400
    assert named in description(response)


def test_stats_are_not_paged(world):
    response = call('GET', '/stats?count=10')
    assert response.status_code == 400
    assert description(response) == 'Unexpected parameters: count'


# Freezes.

def test_freezes_in_force(world):
    content = get('/freezes')
    assert content['total_size'] == 2
    site, on_list = content['entries']
    assert site == {
        'id': 2, 'list_id': None, 'key_type': 'domain',
        'key': 'outage.example.net', 'started': '2005-08-01T07:49:23',
        'expires': '2005-08-01T09:49:23', 'lifted': None, 'lifted_by': None,
        'bouncing': 5, 'members': 5, 'active': True, 'capped': None,
        'confirmed_until': None, 'confirmed_by': None,
        'self_link': base_url() + '/freezes/2',
        'http_etag': site['http_etag']}
    assert on_list['list_id'] == 'test.example.com'
    assert get('/freezes/1') == {**on_list, 'http_etag': get('/freezes/1')[
        'http_etag']}
    assert [entry['id'] for entry in get('/freezes?count=1&page=2')[
        'entries']] == [1]


def _held_now() -> int:
    """How many events active freezes hold back now."""
    from mailman.config import config
    from mailman.utilities.datetime import now
    from sqlalchemy import func, select

    from mailman_bounces.app.outage import held_by_freeze
    from mailman_bounces.model.event import BounceEvent
    return config.db.store.execute(
        select(func.count()).select_from(BounceEvent)
        .where(held_by_freeze(now()))).scalar_one()


def test_lifting_freezes(world):
    assert _held_now() == 5
    assert call('DELETE', '/freezes/1').status_code == 204
    lifted = get('/freezes/1')
    assert (lifted['active'], lifted['lifted'], lifted['lifted_by']) == (
        False, '2005-08-01T07:49:23', 'rest')
    assert [entry['id'] for entry in get('/freezes')['entries']] == [2]
    assert [entry['id'] for entry in get('/freezes?all=true')['entries']] \
        == [2, 1]
    # The site-wide freeze still holds the events.
    assert _held_now() == 5
    # Lifting again changes nothing.
    assert call('DELETE', '/freezes/1').status_code == 204
    assert get('/freezes/1')['lifted'] == '2005-08-01T07:49:23'
    assert call('DELETE', '/freezes/2').status_code == 204
    assert get('/freezes')['entries'] == []
    assert _held_now() == 0


def test_confirming_freezes(world):
    # A site admin confirms: the freeze may go on for another
    # [outage]max_unconfirmed (24 hours) from now.
    assert call('POST', '/freezes/1/confirm').status_code == 204
    confirmed = get('/freezes/1')
    assert (confirmed['active'], confirmed['confirmed_until'],
            confirmed['confirmed_by'], confirmed['capped']) == (
        True, '2005-08-02T07:49:23', 'rest', None)
    assert confirmed['expires'] == '2005-08-01T09:49:23'
    for path in ('/freezes/99/confirm', '/freezes/one/confirm'):
        response = call('POST', path)
        assert response.status_code == 404
        assert 'No such freeze' in description(response)
    assert call('DELETE', '/freezes/2').status_code == 204
    response = call('POST', '/freezes/2/confirm')
    assert response.status_code == 400
    assert description(response) == 'Freeze 2 was lifted'
    assert get('/freezes/2')['confirmed_until'] is None


def test_lifted_freezes_stay_lifted_at_the_next_pass(world):
    from mailman_bounces.tests.helpers import events
    for freeze in (1, 2):
        assert call('DELETE', f'/freezes/{freeze}').status_code == 204
    run_pass()
    assert get('/freezes')['entries'] == []
    assert events(processed=False) == []


def test_bad_freeze_requests(world):
    # Like core's ids, what cannot name a freeze is not found, and said
    # as given.
    for method in ('GET', 'DELETE'):
        for identifier in ('99', str(2**40), '0', '-1', 'one'):
            response = call(method, f'/freezes/{identifier}')
            assert response.status_code == 404
            assert description(response) == f'No such freeze: {identifier}'
    for query in ('all=maybe', 'all=', 'count=x', 'colour=red'):
        assert call('GET', '/freezes?' + query).status_code == 400, query
    # Nothing was lifted.
    assert len(get('/freezes')['entries']) == 2


# Re-enable tokens.

@pytest.fixture
def warned(rest):
    """Anne was disabled and got her first warning; its token."""
    mlist = make_list(members=[ANNE], bounce_score_threshold=1)
    bounce(mlist, ANNE)
    run_pass()
    [subject] = [subject for _, subject, _ in virgin_messages()
                 if subject.startswith('reenable ')]
    return mlist, subject.split()[1]


def test_redeeming_a_token(warned):
    from mailman.interfaces.member import DeliveryStatus
    mlist, token = warned
    response = call('POST', f'/reenable/{token}')
    assert response.status_code == 200, response.text
    content = response.json()
    assert (content['list_id'], content['email'],
            content['was_disabled']) == ('test.example.com', ANNE, True)
    assert content['member_link'] == (
        f'{base_url()}/lists/test.example.com/members/{ANNE}')
    anne = member(mlist, ANNE)
    assert anne.preferences.delivery_status == DeliveryStatus.enabled
    assert anne.bounce_score == 0
    # The member is told, like after a reply to the warning.
    run_pass()
    assert [subject for _, subject, _ in virgin_messages()] == [
        'Delivery of Test re-enabled']
    # A token works once.
    assert call('POST', f'/reenable/{token}').status_code == 404


def test_unknown_tokens(warned):
    for token in ('0' * 40, 'not-a-token', 'x' * 300, '%00'):
        response = call('POST', f'/reenable/{token}')
        assert response.status_code == 404, token
    assert call('GET', f'/reenable/{warned[1]}').status_code == 405
    # The real token still works.
    assert call('POST', f'/reenable/{warned[1]}').status_code == 200
