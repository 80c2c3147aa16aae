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


# Events to count, by recipient domain (None: an event without one):
# the addresses' local parts, repeated for an address that bounced again.
# Two domains tie on their number of events.
BY_DOMAIN = {
    'c.example': ('ann', 'bob', 'ann', 'cid', 'ann', 'bob', 'dee'),
    'a.example': ('eve', 'eve', 'fay', 'gus', 'eve'),
    'b.example': ('hal', 'ivy', 'hal', 'jon', 'kim'),
    None: ('lou', 'lou', 'max'),
    'd.example': ('ned',),
}
# Each event's reason, severity and kind, list, day and evidence, in turn.
CLASSES = (('userunknown', 'hard', 'bounce'),
           ('mailboxfull', 'soft', 'delay'),
           ('feedback', 'none', 'complaint'),
           ('hostunknown', 'hard', 'bounce'),
           ('mailboxfull', 'soft', 'bounce'))
STAT_LISTS = ('zeta.example.com', 'alpha.example.com')
DAYS = ('2005-07-30', '2005-07-29', '2005-08-01')
EVIDENCES = ('verified', 'unverified', 'forged', 'verified')


def _stat_events() -> list[dict]:
    """The events of BY_DOMAIN, with their other columns."""
    events = []
    for domain, locals_ in BY_DOMAIN.items():
        for local in locals_:
            number = len(events)
            reason, severity, kind = CLASSES[number % len(CLASSES)]
            events.append({
                'list_id': STAT_LISTS[number % len(STAT_LISTS)],
                'email': f'{local}@{domain or "nowhere.example"}',
                'domain': domain, 'day': DAYS[number % len(DAYS)],
                'reason': reason, 'severity': severity, 'kind': kind,
                'evidence': EVIDENCES[number % len(EVIDENCES)]})
    return events


def _expected_counts(events: list[dict]) -> dict[str, int]:
    def number(key: str, value: str) -> int:
        return sum(1 for event in events if event[key] == value)
    return {'events': len(events),
            'addresses': len({event['email'] for event in events}),
            'hard': number('severity', 'hard'),
            'soft': number('severity', 'soft'),
            'complaints': number('kind', 'complaint'),
            'verified': number('evidence', 'verified'),
            'unverified': number('evidence', 'unverified'),
            'forged': number('evidence', 'forged')}


def _expected_groups(events: list[dict], key: str, most_first: bool
                     ) -> list[dict]:
    values = {event[key] for event in events}
    groups = [{key: value, **_expected_counts(
        [event for event in events if event[key] == value])}
        for value in values]
    if most_first:
        return sorted(groups, key=lambda group: (-group['events'],
                                                 group[key]))
    return sorted(groups, key=lambda group: group[key])


@pytest.fixture
def counted(rest):
    from datetime import datetime

    from mailman.config import config

    from mailman_bounces.model.event import BounceEvent
    events = _stat_events()
    for number, event in enumerate(events):
        values = {key: value for key, value in event.items()
                  if key != 'day'}
        config.db.store.add(BounceEvent(
            message_id=f'<{number}@example.net>',
            fingerprint=f'{number:016x}',
            timestamp=datetime.fromisoformat(f'{event["day"]}T0{number % 10}'
                                             ':30:00'), **values))
    config.db.commit()
    return events


@pytest.mark.parametrize('top', [3, 50])
def test_stats_count_every_grouping_of_the_events(counted, top):
    stats = get(f'/stats?top={top}')
    assert stats['totals'] == _expected_counts(counted)
    assert stats['lists'] == _expected_groups(counted, 'list_id', False)
    assert stats['reasons'] == _expected_groups(counted, 'reason', True)
    with_domain = [event for event in counted if event['domain']]
    domains = _expected_groups(with_domain, 'domain', True)
    # The events without a domain are a group of their own, after those
    # with more events.
    without = {'domain': None, **_expected_counts(
        [event for event in counted if not event['domain']])}
    domains.insert(sum(1 for group in domains
                       if group['events'] > without['events']), without)
    assert stats['domains'] == domains[:top]
    assert stats['days'] == _expected_groups(counted, 'day', False)


def test_stats_of_one_list_and_days_count_theirs(counted):
    chosen = [event for event in counted
              if event['list_id'] == STAT_LISTS[1]
              and event['day'] >= '2005-07-30']
    stats = get(f'/stats?list_id={STAT_LISTS[1]}&since=2005-07-30')
    assert stats['totals'] == _expected_counts(chosen)
    assert stats['lists'] == _expected_groups(chosen, 'list_id', False)
    assert stats['reasons'] == _expected_groups(chosen, 'reason', True)
    assert stats['days'] == _expected_groups(chosen, 'day', False)
    assert sum(group['events'] for group in stats['domains']) == len(chosen)
