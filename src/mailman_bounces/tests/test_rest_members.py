"""Members' bounce standing through REST, and resetting a member."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    make_list,
    member,
    run_pass,
    state,
)
from mailman_bounces.tests.test_rest_api import (
    ANNE,
    BART,
    CRIS,
    DAVE,
    MAILBOX_FULL,
    base_url,
    call,
    description,
    get,
)

MEMBERS = '/lists/test.example.com/members'
ERIN = 'erin@example.org'


@pytest.fixture
def mlist(rest):
    """Anne disabled by bounces, Bart with half a point, Cris and Dave
    clean; Erin subscribed through her user record, with delivery
    disabled by herself."""
    from mailman.interfaces.member import DeliveryStatus
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    mlist = make_list(members=[ANNE, BART, CRIS, DAVE],
                      bounce_score_threshold=1)
    users = getUtility(IUserManager)
    erin = users.create_user(ERIN, 'Erin Example')
    address = erin.addresses[0]
    address.verified_on = address.registered_on
    erin.preferred_address = address
    address.preferences.delivery_status = DeliveryStatus.by_user
    mlist.subscribe(erin)
    users.get_address(ANNE).display_name = 'Anne Person'
    commit()
    bounce(mlist, ANNE)
    bounce(mlist, BART, **MAILBOX_FULL)
    run_pass()
    return mlist


def emails(content: dict) -> list[str]:
    return [entry['email'] for entry in content['entries']]


def test_members_and_their_standing(mlist):
    content = get(MEMBERS)
    assert content['total_size'] == 5
    assert emails(content) == [ANNE, BART, CRIS, DAVE, ERIN]
    anne, bart, cris, _, erin = content['entries']
    assert anne['display_name'] == 'Anne Person'
    assert anne['delivery_status'] == 'by_bounces'
    # Disabling starts the score afresh, as in core.
    assert (anne['bounce_score'], anne['score']) == (0, 0.0)
    assert anne['last_reason'] == anne['disabled_reason'] == 'userunknown'
    assert anne['disabled_at'] == '2005-08-01T07:49:23'
    assert anne['last_bounce_received'] == '2005-08-01T07:49:23'
    # Disabled and warned in the same pass.
    assert anne['total_warnings_sent'] == 1
    assert anne['last_warning_sent'] == '2005-08-01T07:49:23'
    assert (bart['bounce_score'], bart['score']) == (0, 0.5)
    assert bart['delivery_status'] == 'enabled'
    assert (cris['score'], cris['last_reason'], cris['disabled_at']) == (
        0.0, None, None)
    assert cris['last_warning_sent'] is None
    assert 'last_event_link' not in cris
    # Subscribed as a user: her preferred address and her own preferences.
    assert erin['display_name'] == 'Erin Example'
    assert erin['delivery_status'] == 'by_user'
    assert anne['self_link'] == f'{base_url()}{MEMBERS}/{ANNE}'
    assert anne['member_link'].endswith(
        '/3.1/members/' + member(mlist, ANNE).member_id.hex)


@pytest.mark.parametrize('query, expected', [
    ('bouncing=true', [ANNE, BART]),
    ('bouncing=false', [CRIS, DAVE, ERIN]),
    # Booleans are spelled as for Mailman's settings (as_boolean).
    ('bouncing=Yes', [ANNE, BART]),
    ('bouncing=off', [CRIS, DAVE, ERIN]),
    ('delivery_status=by_bounces', [ANNE]),
    ('delivery_status=enabled', [BART, CRIS, DAVE]),
    ('delivery_status=by_user', [ERIN]),
    ('delivery_status=by_moderator', []),
    ('bouncing=false&delivery_status=enabled', [CRIS, DAVE]),
    ('count=2&page=2', [CRIS, DAVE]),
    ('count=2&page=4', []),
])
def test_member_filters_and_paging(mlist, query, expected):
    content = get(f'{MEMBERS}?{query}')
    assert emails(content) == expected


@pytest.mark.parametrize('query, named', [
    ('bouncing=maybe', 'bouncing'),
    ('bouncing=y', 'bouncing'),
    ('delivery_status=disabled', 'delivery_status'),
    ('count=-2', 'count'),
    ('page=first', 'page'),
    ('role=owner', 'role'),
])
def test_bad_member_queries_are_400(mlist, query, named):
    response = call('GET', f'{MEMBERS}?{query}')
    assert response.status_code == 400
    assert named in description(response)


def test_one_member_and_their_events(mlist):
    anne = get(f'{MEMBERS}/{ANNE}')
    assert anne['email'] == ANNE
    assert anne == {**get(MEMBERS)['entries'][0],
                    'http_etag': anne['http_etag']}
    # The link to her events finds exactly hers.
    events = get(anne['events_link'][len(base_url()):])
    assert [event['email'] for event in events['entries']] == [ANNE]
    last = get(anne['last_event_link'][len(base_url()):])
    assert (last['email'], last['reason']) == (ANNE, 'userunknown')
    # By posting address, in any case, and percent-encoded.
    assert get(f'/lists/test@example.com/members/{quote(ANNE.upper())}'
               )['email'] == ANNE


def test_unknown_members_are_404(mlist):
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    owner = getUtility(IUserManager).create_address('owner@example.org')
    from mailman.interfaces.member import MemberRole
    mlist.subscribe(owner, MemberRole.owner)
    commit()
    for path in (f'{MEMBERS}/nobody@example.org',
                 f'{MEMBERS}/owner@example.org',
                 f'/lists/nope.example.com/members/{ANNE}',
                 '/lists/nope.example.com/members'):
        assert call('GET', path).status_code == 404, path
    for path in (f'{MEMBERS}/owner@example.org/reset',
                 f'/lists/nope.example.com/members/{ANNE}/reset'):
        assert call('POST', path).status_code == 404, path


def test_reset_reenables_and_clears(mlist):
    from mailman.interfaces.member import DeliveryStatus
    response = call('POST', f'{MEMBERS}/{ANNE}/reset')
    assert response.status_code == 204
    assert response.content == b''
    anne = member(mlist, ANNE)
    assert anne.preferences.delivery_status == DeliveryStatus.enabled
    assert (anne.bounce_score, anne.total_warnings_sent) == (0, 0)
    assert anne.last_bounce_received is None
    assert state(mlist, ANNE).score == 0.0
    standing = get(f'{MEMBERS}/{ANNE}')
    assert (standing['delivery_status'], standing['score']) == (
        'enabled', 0.0)
    assert emails(get(f'{MEMBERS}?bouncing=true')) == [BART]
    # Resetting a member who was not disabled clears the score.
    assert call('POST', f'{MEMBERS}/{BART}/reset').status_code == 204
    assert get(f'{MEMBERS}/{BART}')['score'] == 0.0


def test_list_resource_links(mlist):
    content = get('/lists/test.example.com')
    assert content['fqdn_listname'] == 'test@example.com'
    for name in ('settings', 'members', 'events', 'stats'):
        link = content[name + '_link'][len(base_url()):]
        assert call('GET', link).status_code == 200
    assert get('/lists/test@example.com') == content


# Subscribed in this order, which is not the order of their addresses:
# each an address, whether they subscribed through their user record (then
# their preferred address is the one listed), their display name and the
# delivery status they set on their subscription, address or user.
SUBSCRIBERS = (
    ('mona@example.org', 'user', 'Mona', ('user', 'by_user')),
    ('carl@example.net', 'address', 'Carl', None),
    ('xena@example.com', 'user', '', None),
    ('beth@example.org', 'address', '', ('member', 'by_moderator')),
    ('hugo@example.com', 'address', 'Hugo', ('address', 'by_user')),
    ('fred@example.org', 'user', 'Fred', None),
    ('wendy@example.com', 'address', '', None),
    ('gina@example.net', 'user', 'Gina', ('member', 'by_user')),
    ('carl@example.com', 'address', '', None),
    ('olga@example.org', 'address', 'Olga', None),
)
# Who has a score (a soft bounce each).
BOUNCERS = ('xena@example.com', 'carl@example.com', 'hugo@example.com',
            'beth@example.org')


def _subscribe(mlist, email: str, how: str, name: str, status) -> None:
    from mailman.interfaces.member import DeliveryStatus
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    users = getUtility(IUserManager)
    if how == 'user':
        user = users.create_user(email, name)
        address = user.addresses[0]
        address.verified_on = address.registered_on
        user.preferred_address = address
        subscribed = mlist.subscribe(user)
    else:
        address = users.create_address(email, name)
        user = None
        subscribed = mlist.subscribe(address)
    if status is not None:
        level, value = status
        holder = {'member': subscribed, 'address': address,
                  'user': user}[level]
        holder.preferences.delivery_status = DeliveryStatus[value]


@pytest.fixture
def shuffled(rest):
    mlist = make_list('shuffled@example.com')
    for subscriber in SUBSCRIBERS:
        _subscribe(mlist, *subscriber)
    commit()
    for email in BOUNCERS:
        bounce(mlist, email, **MAILBOX_FULL)
    run_pass()
    return mlist


def _every_page(path: str, count: int) -> list[dict]:
    """The entries of all pages of `path`, `count` at a time, checking
    each page's size and that the page after the last is empty."""
    entries, page = [], 1
    while True:
        content = get(f'{path}&count={count}&page={page}')
        if not content.get('entries'):
            break
        assert len(content['entries']) <= count
        entries += content['entries']
        page += 1
    assert page == -(-content['total_size'] // count) + 1
    assert content['total_size'] == len(entries)
    return entries


@pytest.mark.parametrize('count', [1, 3, 4, 10, 50])
def test_pages_list_the_members_by_address(shuffled, count):
    entries = _every_page('/lists/shuffled.example.com/members?', count)
    assert [entry['email'] for entry in entries] == sorted(
        email for email, *_ in SUBSCRIBERS)
    expected = {email: (name, status[1] if status else 'enabled')
                for email, _, name, status in SUBSCRIBERS}
    assert {entry['email']: (entry['display_name'], entry['delivery_status'])
            for entry in entries} == expected
    for entry in entries:
        assert entry['self_link'].endswith(
            f'/lists/shuffled.example.com/members/{entry["email"]}')
        assert (entry['score'] > 0) == (entry['email'] in BOUNCERS)


@pytest.mark.parametrize('query, chosen', [
    ('bouncing=true', lambda email, status: email in BOUNCERS),
    ('bouncing=false', lambda email, status: email not in BOUNCERS),
    ('delivery_status=by_user',
     lambda email, status: status is not None and status[1] == 'by_user'),
])
def test_filtered_pages_list_the_members_by_address(shuffled, query, chosen):
    entries = _every_page(f'/lists/shuffled.example.com/members?{query}', 2)
    assert [entry['email'] for entry in entries] == sorted(
        email for email, _, _, status in SUBSCRIBERS if chosen(email, status))
