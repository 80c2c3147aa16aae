"""The plugin's REST API on Mailman's real REST server: the root,
authentication, bounce events and their stored messages.

The other test_rest_* modules (and test_openapi, test_cli) share the
world built here.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import requests

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    complain,
    fast_forward,
    make_list,
    run_pass,
)

AUTH = ('restadmin', 'restpass')
ANNE, BART, CRIS, DAVE = (f'{name}@example.org'
                          for name in ('anne', 'bart', 'cris', 'dave'))
OUTAGE = [f'user{number}@outage.example.net' for number in range(5)]
MAILBOX_FULL = {'status': '4.2.2', 'action': 'delayed',
                'diagnostic': '452 4.2.2 <{email}>: Mailbox full'}
DMARC = {'status': '5.7.26', 'diagnostic': (
    "550 5.7.26 Unauthenticated email from example.com is not accepted "
    "due to domain's DMARC policy")}


def base_url() -> str:
    from mailman.config import config
    return f'http://localhost:{config.webservice.port}/3.1/plugins/bounces'


def call(method: str, path: str, auth=AUTH, **kws) -> requests.Response:
    """Call the plugin's API (relative `path`) on the test REST server."""
    response = requests.request(method, base_url() + path, auth=auth,
                                timeout=30, **kws)
    # The REST server committed its own transaction; end ours so that the
    # next read sees what it did (MySQL reads from a snapshot).
    commit()
    return response


def get(path: str, **kws) -> dict:
    response = call('GET', path, **kws)
    assert response.status_code == 200, response.text
    return response.json()


def description(response: requests.Response) -> str:
    return response.json()['description']


def outage_bounce(mlist, email: str, number: int):
    """A hard bounce of `email` from the `number`th of a provider's many
    receiving servers (so that only the recipient domain is an outage)."""
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.tests.samples import dsn
    text = dsn(email, diagnostic=f'550 5.1.1 <{email}>: user unknown')
    text = text.replace('mx.remote.example.org',
                        f'mx{number}.outage.example.net')
    getUtility(IBounceProcessor).register(
        mlist, email, specialized_message_from_string(text))
    commit()


def populate():
    """A list with a hard, a soft and a DMARC bounce, a complaint, and an
    outage of one recipient domain (which starts a list and a site-wide
    freeze, holding those five events back)."""
    mlist = make_list(members=[ANNE, BART, CRIS, DAVE, *OUTAGE])
    bounce(mlist, ANNE)
    bounce(mlist, BART, **MAILBOX_FULL)
    bounce(mlist, CRIS, **DMARC)
    complain(mlist, DAVE)
    for number, email in enumerate(OUTAGE):
        outage_bounce(mlist, email, number)
    run_pass()
    return mlist


@pytest.fixture
def world(rest):
    return populate()


def ids(content: dict) -> list[int]:
    return [entry['id'] for entry in content['entries']]


# The root and authentication.

def test_root_links_to_the_resources(rest):
    from mailman_bounces import __version__
    root = get('')
    assert root['name'] == 'mailman-bounces'
    assert root['version'] == __version__
    for name in ('events', 'stats', 'freezes', 'openapi.json'):
        link = root[name.partition('.')[0] + '_link']
        assert link == f'{base_url()}/{name}'
        assert call('GET', link[len(base_url()):]).status_code == 200
    assert root['self_link'] == base_url()


@pytest.mark.parametrize('method, path', [
    ('GET', ''),
    ('GET', '/events'),
    ('GET', '/events/1'),
    ('GET', '/events/1/message'),
    ('GET', '/lists/test.example.com/settings'),
    ('PATCH', '/lists/test.example.com/settings'),
    ('GET', '/lists/test.example.com/members'),
    ('POST', f'/lists/test.example.com/members/{ANNE}/reset'),
    ('POST', '/reenable/0123abcd'),
    ('GET', '/stats'),
    ('GET', '/freezes'),
    ('DELETE', '/freezes/1'),
    ('GET', '/openapi.json'),
])
@pytest.mark.parametrize('auth', [None, ('restadmin', 'wrong')])
def test_every_resource_needs_admin_credentials(world, method, path, auth):
    response = call(method, path, auth=auth,
                    data={'score_mode': 'sympa'} if method == 'PATCH'
                    else None)
    assert response.status_code == 401
    assert 'Basic realm' in response.headers['www-authenticate']
    # Nothing was done either.
    assert get('/lists/test.example.com/settings')['score_mode'] == 'mailman'
    assert len(get('/freezes')['entries']) == 2


def test_unknown_resources_are_404(rest):
    for path in ('/nothing', '/events/1/nothing', '/lists',
                 '/lists/test.example.com', '/stats/more', '/freezes/1/2',
                 '/reenable', '/reenable/a/b'):
        assert call('GET', path).status_code == 404, path


def test_wrong_methods_are_405(world):
    for method, path in (('DELETE', '/events'), ('POST', '/events/1'),
                         ('PUT', '/events/1/message'), ('POST', '/stats'),
                         ('POST', '/freezes'), ('PATCH', '/freezes/1'),
                         ('GET', f'/lists/test.example.com/members/{ANNE}/'
                                 + 'reset'),
                         ('GET', '/reenable/abc'), ('POST', '')):
        response = call(method, path)
        assert response.status_code == 405, (method, path)
        assert method not in response.headers['allow']


# Events.

def test_events_newest_first_with_every_field(world):
    content = get('/events')
    assert content['total_size'] == 9
    assert content['start'] == 0
    assert content['self_link'] == base_url() + '/events'
    # Registered in the same second: then by id, newest first.
    assert ids(content) == list(range(9, 0, -1))
    anne = content['entries'][-1]
    assert anne == {
        'id': 1, 'list_id': 'test.example.com', 'email': ANNE,
        'original_recipient': None, 'final_recipient': ANNE,
        'domain': 'example.org', 'timestamp': '2005-08-01T07:49:23',
        'message_id': anne['message_id'], 'context': 'normal',
        'processed': True, 'processed_at': '2005-08-01T07:49:23',
        'kind': 'bounce', 'severity': 'hard', 'reason': 'userunknown',
        'status': '5.1.1', 'reply_code': '550',
        'diagnostic': f'smtp; 550 5.1.1 <{ANNE}>: user unknown',
        'remote_mta': 'mx.remote.example.org', 'detector': 'rfc3464/postfix',
        'feedback_type': None, 'outcome': 'scored', 'score_delta': 1.0,
        # Registered in process (core's interface): trusted, see verp.rst.
        'evidence': 'verified',
        'self_link': base_url() + '/events/1',
        'message_link': base_url() + '/events/1/message',
        'http_etag': anne['http_etag'],
    }
    assert anne['message_id'].startswith('<dsn-')


def test_the_later_event_comes_first(rest):
    mlist = make_list(members=[ANNE, BART])
    bounce(mlist, BART)
    fast_forward(days=1)
    bounce(mlist, ANNE)
    entries = get('/events')['entries']
    assert [entry['email'] for entry in entries] == [ANNE, BART]
    assert entries[0]['timestamp'] == '2005-08-02T07:49:23'


@pytest.mark.parametrize('query, expected', [
    ('list_id=test.example.com', list(range(9, 0, -1))),
    ('list_id=test@example.com', list(range(9, 0, -1))),
    ('list_id=other.example.com', []),
    (f'address={ANNE}', [1]),
    ('address=ANNE@Example.ORG', [1]),
    ('domain=outage.example.net', [9, 8, 7, 6, 5]),
    ('reason=mailboxfull', [2]),
    ('severity=soft', [3, 2]),
    ('kind=complaint', [4]),
    ('kind=delay', [2]),
    ('context=probe', []),
    ('processed=false', [9, 8, 7, 6, 5]),
    ('processed=true&severity=hard', [1]),
    # Booleans are spelled as for Mailman's settings (as_boolean).
    ('processed=no', [9, 8, 7, 6, 5]),
    ('processed=ENABLED&severity=hard', [1]),
    ('outcome=ignored', [3]),
    ('since=2005-08-01T07:49:23Z&until=2005-08-01', list(range(9, 0, -1))),
    ('since=2005-08-01T07:49:24', []),
    ('until=2005-07-31', []),
    # 09:49:23+02:00 is 07:49:23 UTC.
    ('until=2005-08-01T09:49:23%2B02:00', list(range(9, 0, -1))),
    ('until=2005-08-01T09:49:22%2B02:00', []),
])
def test_event_filters(world, query, expected):
    content = get('/events?' + query)
    assert ids(content) == expected
    assert content['total_size'] == len(expected)


def test_probe_context(rest):
    from mailman.interfaces.bounce import BounceContext
    mlist = make_list(members=[ANNE, BART])
    bounce(mlist, ANNE, context=BounceContext.probe)
    bounce(mlist, BART)
    [probe] = get('/events?context=probe')['entries']
    assert (probe['email'], probe['context']) == (ANNE, 'probe')
    [normal] = get('/events?context=normal')['entries']
    assert normal['email'] == BART


@pytest.mark.parametrize('query, named', [
    ('reason=nope', 'reason'),
    ('severity=HARD', 'severity'),
    ('kind=bounced', 'kind'),
    ('context=test', 'context'),
    ('processed=maybe', 'processed'),
    ('since=yesterday', 'since'),
    ('since=2005-13-01', 'since'),
    ('until=2005-08-01T25:00:00', 'until'),
    ('until=2005-08-01T07:00:00%2B99:00', 'until'),
    ('address=', 'address'),
    ('reason=userunknown&reason=hostunknown', 'reason'),
    ('adress=anne@example.org', 'adress'),
    ('count=-1', 'count'),
    ('count=two', 'count'),
    ('page=0', 'page'),
    ('page=1.5', 'page'),
])
def test_bad_event_queries_are_400(world, query, named):
    response = call('GET', '/events?' + query)
    assert response.status_code == 400
    assert named in description(response)


def test_paging_like_core(world):
    first = get('/events?count=4&page=1')
    assert (first['start'], first['total_size']) == (0, 9)
    assert ids(first) == [9, 8, 7, 6]
    last = get('/events?count=4&page=3')
    assert (last['start'], ids(last)) == (8, [1])
    assert get('/events?count=4&page=4')['entries'] == []
    # A page far past the end (but a page number a listing could reach)
    # costs nothing and is simply empty.
    far = get(f'/events?count=500&page={2**31 - 1}')
    assert (far['entries'], far['total_size']) == ([], 9)
    # Without count, a page of the default size (more than 9).
    assert len(get('/events?page=1')['entries']) == 9
    assert get('/events?page=2')['entries'] == []
    # Filters and paging together.
    assert ids(get('/events?severity=hard&count=2&page=3')) == [5, 1]


def test_one_event(world):
    event = get('/events/2')
    assert (event['email'], event['reason'], event['kind']) == (
        BART, 'mailboxfull', 'delay')
    assert event['self_link'] == base_url() + '/events/2'
    # Like core's ids, what cannot name an event is simply not found,
    # and said as given (not as the number it was read as).
    for identifier in ('99', str(10**20), '0', '-1', 'two', '1_0', '+1',
                       '%D9%A1', '9' * 4000):
        response = call('GET', f'/events/{identifier}')
        assert response.status_code == 404, identifier
        assert description(response) == (
            f'No such event: {unquote(identifier)}')


def test_the_stored_bounce_message(world):
    from mailman_bounces.tests.helpers import events
    response = call('GET', '/events/1/message')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'message/rfc822'
    [event] = events(id=1)
    assert f'Message-ID: {event.message_id}' in response.text
    assert 'Final-Recipient: rfc822; anne@example.org' in response.text
    assert call('GET', '/events/99/message').status_code == 404
    assert call('GET', '/events/x/message').status_code == 404


def test_no_message_link_once_the_message_is_gone(world):
    from mailman.config import config
    from sqlalchemy import delete, update

    from mailman_bounces.model.event import BounceEvent, StoredBounce
    stored = config.db.store.get(BounceEvent, 2).stored_message_id
    config.db.store.execute(update(BounceEvent).where(
        BounceEvent.stored_message_id == stored).values(
            stored_message_id=None))
    config.db.store.execute(delete(StoredBounce).where(
        StoredBounce.id == stored))
    commit()
    assert 'message_link' not in get('/events/2')
    assert 'message_link' in get('/events/1')
    assert call('GET', '/events/2/message').status_code == 404


# A character outside the BMP (MySQL's utf8mb3 columns cannot hold one, nor
# be compared with one) and a NUL (PostgreSQL refuses them) match nothing,
# on every backend.
ODD = ('%F0%93%BC%A4', 'anne%00@example.org')


@pytest.mark.parametrize('odd', ODD)
def test_odd_characters_match_nothing(world, odd):
    for name in ('list_id', 'address', 'domain', 'outcome'):
        assert get(f'/events?{name}={odd}'.replace('%00', '%01'))[
            'entries'] == []
    stats = get(f'/stats?list_id={odd}'.replace('%00', '%01'))
    assert stats['totals']['events'] == 0
    assert [freeze['list_id'] for freeze in stats['freezes']] == [None]
    for path in (f'/lists/{odd}', f'/lists/{odd}/settings',
                 f'/lists/{odd}/members',
                 f'/lists/test.example.com/members/{odd}'):
        assert call('GET', path).status_code == 404, path
    assert call('POST', f'/lists/test.example.com/members/{odd}/reset'
                ).status_code == 404
    assert call('POST', f'/reenable/{odd}').status_code == 404


def test_nul_in_a_query_is_400(world):
    response = call('GET', '/events?address=anne%00@example.org')
    assert response.status_code == 400
    assert 'NUL' in description(response)


def test_no_events(rest):
    content = get('/events')
    assert (content['total_size'], content['entries']) == (0, [])
