"""Outbound callbacks to a real HTTP receiver on loopback that fails,
times out and answers 410/429/500 on command.  Signatures are checked
against the Standard Webhooks specification (HMAC-SHA256 of
``id.timestamp.body`` with the base64-decoded secret), not the code."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections import Counter

import pytest

from mailman_bounces.tests.helpers import bounce, make_list

pytestmark = pytest.mark.usefixtures('mailman')

KEY = b'0123456789abcdef0123456789abcdef'
SECRET = 'whsec_' + base64.b64encode(KEY).decode()


@pytest.fixture
def receiver():
    from mailman_bounces.tests.hooks_support import Receiver
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def site(receiver):
    from mailman_bounces.config import load_site_config, set_site_config
    previous = set_site_config(load_site_config(f"""
[callbacks]
timeout: 1s
attempts: 4
[callback.app]
url: {receiver.url}
secret: {SECRET}
events: bounce.registered complaint.registered member.disabled
"""))
    mlist = make_list('test@example.com', ['anne@example.org'])
    yield mlist
    set_site_config(previous)


def outbox():
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.hooks import Callback
    config.db.store.expire_all()
    return list(config.db.store.execute(
        select(Callback).order_by(Callback.id)).scalars())


def deliver():
    from mailman_bounces.app.callbacks import deliver_due
    return deliver_due()


def forward(seconds: float) -> None:
    from mailman.utilities.datetime import factory
    # On the class, as core's own fast_forward does: an instance attribute
    # would outlive the layers' reset of the clock.
    type(factory).predictable_now += datetime.timedelta(seconds=seconds)


def spec_signature(headers: dict, body: bytes) -> str:
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}."
    digest = hmac.new(KEY, signed.encode() + body, hashlib.sha256).digest()
    return 'v1,' + base64.b64encode(digest).decode()


def _register_twice(mlist, email):
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.tests.helpers import commit
    from mailman_bounces.tests.samples import dsn
    msg = specialized_message_from_string(dsn(email, status='5.1.1'))
    for _ in range(2):
        getUtility(IBounceProcessor).register(mlist, email, msg)
        commit()


def test_bounce_callback_delivered_once_and_signed(site, receiver):
    _register_twice(site, 'anne@example.org')
    # Queued in the registration's transaction, not sent yet.
    [row] = outbox()
    assert (row.state, row.event_type, receiver.received) == (
        'pending', 'bounce.registered', [])
    assert deliver() == {'delivered': 1}
    [request] = receiver.received
    headers = {k.lower(): v for k, v in request['headers'].items()}
    assert headers['webhook-signature'] == spec_signature(
        headers, request['body'])
    assert headers['webhook-id'] == row.webhook_id
    payload = json.loads(request['body'])
    assert payload['type'] == 'bounce.registered'
    assert (payload['data']['email'], payload['data']['reason']) == (
        'anne@example.org', 'userunknown')
    # Nothing is sent twice; the bounce registered twice queued one.
    assert deliver() == {}
    assert len(outbox()) == 1 and len(receiver.received) == 1


def test_a_batch_of_bounces_reads_the_endpoints_once(site, receiver):
    """The bounce runner registers a batch at a time: its callbacks are
    queued with one read of the lists' endpoints, one row per event and
    endpoint that wants it."""
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.app.callbacks import add_endpoint
    from mailman_bounces.app.processor import Registration
    from mailman_bounces.tests.helpers import commit, sent_statements
    from mailman_bounces.tests.samples import dsn
    other = make_list('other@example.com', ['bart@example.org'])
    add_endpoint(other.list_id, receiver.url, SECRET,
                 events='bounce.registered')
    add_endpoint(site.list_id, receiver.url, SECRET,
                 events='member.removed')
    commit()
    batch = [Registration(mlist.list_id, email, specialized_message_from_string(
        dsn(email, message_id=f'<b{number}@mx.example>')))
             for number, (mlist, email) in enumerate(
                 [(site, 'anne@example.org'), (other, 'bart@example.org')]
                 * 3)]
    with sent_statements() as sent:
        getUtility(IBounceProcessor).record_all(batch)
    commit()
    endpoint_reads = [s for s in sent if 'FROM bounces_callback_endpoint'
                      in s.text]
    assert len(endpoint_reads) == 1
    # The site's endpoint wants every bounce; other's list endpoint its
    # own; test's list endpoint wants no bounce.
    counts = Counter((r.list_id, r.endpoint.partition(':')[0])
                     for r in outbox())
    assert counts == {(site.list_id, 'site'): 3, (other.list_id, 'site'): 3,
                      (other.list_id, 'list'): 3}


def test_retries_follow_the_schedule_and_retry_after(site, receiver):
    from mailman.utilities.datetime import now
    receiver.answers = [(500, {}), (429, {'Retry-After': '3600'}),
                        'timeout']
    bounce(site, 'anne@example.org')
    assert deliver() == {'pending': 1}
    start = now()
    [row] = outbox()
    assert (row.attempts, row.last_status) == (1, 500)
    assert row.next_attempt == start + datetime.timedelta(seconds=5)
    forward(5)
    assert deliver() == {'pending': 1}
    [row] = outbox()
    # The receiver asked for an hour, longer than the schedule's 5 minutes.
    assert row.next_attempt == now() + datetime.timedelta(hours=1)
    forward(60)
    assert deliver() == {}          # not due yet
    forward(3600)
    assert deliver() == {'pending': 1}
    [row] = outbox()
    assert row.last_status is None and 'timed out' in row.last_error
    forward(1800)
    assert deliver() == {'delivered': 1}
    assert len(receiver.received) == 4
    assert len({r['headers']['webhook-id'] for r in receiver.received}) == 1


# Retry-After as an HTTP-date (RFC 9110 10.2.3), in its three forms, each
# for the same instant: 2 hours after the answer.
HTTP_DATES = {
    'IMF-fixdate': '%a, %d %b %Y %H:%M:%S GMT',
    'RFC 850': '%A, %d-%b-%y %H:%M:%S GMT',
    'asctime': '%a %b %e %H:%M:%S %Y',
}


@pytest.mark.parametrize('form', sorted(HTTP_DATES))
def test_retry_after_as_an_http_date(site, receiver, form):
    from mailman.utilities.datetime import now
    later = now().replace(microsecond=0) + datetime.timedelta(hours=2)
    receiver.answers = [(503, {'Retry-After': later.strftime(
        HTTP_DATES[form])})]
    bounce(site, 'anne@example.org')
    assert deliver() == {'pending': 1}
    [row] = outbox()
    # The date asked for, not the schedule's 5 seconds.
    assert row.next_attempt == later
    forward(3600)
    assert deliver() == {}
    forward(3600)
    assert deliver() == {'delivered': 1}


@pytest.mark.parametrize('offset, expected', [
    # A date already past: the schedule's 5 seconds.
    (-datetime.timedelta(hours=1), datetime.timedelta(seconds=5)),
    # Three days ahead: the cap of a day, as for delay-seconds.
    (datetime.timedelta(days=3), datetime.timedelta(days=1)),
])
def test_retry_after_dates_past_and_far(site, receiver, offset, expected):
    from mailman.utilities.datetime import now
    at = now()
    when = at.replace(microsecond=0) + offset
    receiver.answers = [(429, {'Retry-After': when.strftime(
        HTTP_DATES['IMF-fixdate'])})]
    bounce(site, 'anne@example.org')
    deliver()
    [row] = outbox()
    assert row.next_attempt == at + expected


@pytest.mark.parametrize('header', ['soon', '', '-5', '1.5',
                                    'Sun, 32 Nov 1994 08:49:37 GMT'])
def test_unreadable_retry_after_follows_the_schedule(site, receiver,
                                                     header):
    from mailman.utilities.datetime import now
    at = now()
    receiver.answers = [(503, {'Retry-After': header})]
    bounce(site, 'anne@example.org')
    deliver()
    [row] = outbox()
    assert row.next_attempt == at + datetime.timedelta(seconds=5)


def test_a_receiver_down_for_a_day_misses_nothing(receiver):
    """The issue: 'a receiver down for a day misses nothing'.  With the
    default schedule (no attempts setting) the receiver stops listening
    for 25 hours while events keep coming; the runner keeps polling; once
    it listens again every event reaches it, each once, and none was
    dead-lettered on the way."""
    from mailman.config import config
    from mailman.utilities.datetime import now

    from mailman_bounces.app.callbacks import enqueue
    from mailman_bounces.config import load_site_config, set_site_config
    from mailman_bounces.tests.hooks_support import Receiver
    previous = set_site_config(load_site_config(f"""
[callbacks]
timeout: 1s
[callback.app]
url: {receiver.url}
secret: {SECRET}
events: all
"""))
    try:
        port = int(receiver.url.split(':')[2].split('/')[0])
        receiver.close()                # down: connections refused
        start = now()
        # Events at the start, 6 hours in and 23 hours in.
        events = {datetime.timedelta(0): 'first',
                  datetime.timedelta(hours=6): 'second',
                  datetime.timedelta(hours=23): 'third'}
        back = start + datetime.timedelta(hours=25)
        step = datetime.timedelta(minutes=10)     # the runner polls
        came_back = None
        # The schedule spans about 3 days.
        while now() < start + datetime.timedelta(days=3):
            for offset, key in list(events.items()):
                if now() - start >= offset:
                    enqueue('bounce.registered', key, None, {'key': key})
                    config.db.commit()
                    del events[offset]
            if came_back is None and now() >= back:
                came_back = Receiver(port)
            deliver()
            rows = outbox()
            assert 'dead' not in {r.state for r in rows}
            if came_back is not None and {r.state for r in rows} == {
                    'delivered'}:
                break
            forward(step.total_seconds())
        rows = outbox()
        assert [r.state for r in rows] == ['delivered'] * 3
        assert sorted(json.loads(r['body'])['data']['key']
                      for r in came_back.received) == [
            'first', 'second', 'third']
        assert min(r.attempts for r in rows) > 1
        assert all(r.delivered_at >= back for r in rows)
        came_back.close()
    finally:
        set_site_config(previous)


def test_dead_letter_and_replay(site, receiver):
    from mailman_bounces.app.callbacks import dead_letters, replay
    receiver.answers = [(500, {})] * 4
    bounce(site, 'anne@example.org')
    for delay in (0, 5, 300, 1800):
        forward(delay)
        deliver()
    [row] = outbox()
    assert (row.state, row.attempts) == ('dead', 4)
    assert [r.id for r in dead_letters()] == [row.id]
    assert replay() == 1
    assert deliver() == {'delivered': 1}
    assert len(receiver.received) == 5


def test_410_disables_the_endpoint(site, receiver):
    """The issue: '410 disables the endpoint'; the list's (a row) and the
    site's (a [callback.NAME] section) alike."""
    from mailman.config import config
    from mailman.utilities.datetime import now

    from mailman_bounces.app.callbacks import enqueue
    from mailman_bounces.model.hooks import CallbackEndpoint
    endpoint = CallbackEndpoint(
        list_id=site.list_id, url=receiver.url, secret=SECRET,
        events='bounce.registered', allow_private=False, enabled=True,
        created=now())
    config.db.store.add(endpoint)
    config.db.commit()
    receiver.answers = [(410, {}), (410, {})]
    bounce(site, 'anne@example.org')
    assert len(outbox()) == 2          # site-wide and the list's
    deliver()
    config.db.store.expire_all()
    assert not config.db.store.get(CallbackEndpoint, endpoint.id).enabled
    assert {r.state for r in outbox()} == {'dead'}
    # Neither disabled endpoint gets anything new.
    assert enqueue('bounce.registered', 'another', site.list_id, {}) == 0
    config.db.commit()
    assert len(outbox()) == 2
    assert deliver() == {}
    assert len(receiver.received) == 2
    # The list's is enabled again as the site's is (by its outbox name).
    from mailman_bounces.app.callbacks import enable_endpoint
    assert enable_endpoint(f'list:{endpoint.id}')
    config.db.commit()
    row = config.db.store.get(CallbackEndpoint, endpoint.id)
    assert (row.enabled, row.disabled_reason) == (True, None)
    assert not enable_endpoint(f'list:{endpoint.id}')
    assert enqueue('bounce.registered', 'back', site.list_id, {}) == 1


def test_a_site_endpoint_gone_stays_disabled_until_enabled(site, receiver):
    """A site endpoint comes from the configuration: its 410 is kept in the
    database, so other runners and restarts see it, and a site admin
    enables it again from the command line."""
    from click.testing import CliRunner
    from mailman.config import config

    from mailman_bounces.app.callbacks import enqueue
    from mailman_bounces.commands.cli_bounces import bounces
    receiver.answers = [(410, {})]
    bounce(site, 'anne@example.org')
    [row] = outbox()
    assert deliver() == {'dead': 1}
    [row] = outbox()
    assert (row.endpoint, row.last_status) == ('site:app', 410)
    # The disabled state is in the database, not in this process.
    config.db.store.expire_all()
    result = CliRunner().invoke(bounces, ['callbacks', 'endpoints'])
    assert result.exit_code == 0, result.output
    assert f'site:app {receiver.url} disabled: 410 Gone at' in result.output
    bounce(site, 'anne@example.org', diagnostic='550 5.1.1 <{email}>: x')
    assert len(outbox()) == 1
    # A dead letter replayed to a disabled endpoint is not sent.
    result = CliRunner().invoke(bounces, ['callbacks', 'replay'])
    assert result.exit_code == 0, result.output
    deliver()
    assert len(receiver.received) == 1
    # Enabled again: new events are queued and sent.
    result = CliRunner().invoke(bounces, ['callbacks', 'enable', 'site:app'])
    assert result.exit_code == 0, result.output
    assert 'site:app enabled' in result.output
    result = CliRunner().invoke(bounces, ['callbacks', 'endpoints'])
    assert f'site:app {receiver.url} enabled' in result.output
    assert enqueue('bounce.registered', 'later', site.list_id, {}) == 1
    config.db.commit()
    assert deliver() == {'delivered': 1}
    assert len(receiver.received) == 2
    result = CliRunner().invoke(bounces, ['callbacks', 'enable', 'site:app'])
    assert 'site:app was not disabled' in result.output
    result = CliRunner().invoke(bounces, ['callbacks', 'enable', 'app'])
    assert result.exit_code != 0
    assert 'expected site:NAME or list:ID' in result.output


def test_crash_between_commit_and_call_delivers_once_later(site, receiver):
    from mailman.config import config

    from mailman_bounces.app.callbacks import _claim
    bounce(site, 'anne@example.org')
    # A runner claims the attempt, then dies before the HTTP call.
    [row] = outbox()
    from mailman.utilities.datetime import now
    assert _claim(row, now(), datetime.timedelta(seconds=61))
    config.db.abort()
    assert deliver() == {}             # still claimed by the dead runner
    forward(62)
    assert deliver() == {'delivered': 1}
    assert deliver() == {}
    assert len(receiver.received) == 1


@pytest.mark.parametrize('url, taken', [
    ('https://hooks.example.com/bounces?list=a', True),
    ('https://hooks.example.com:8443/', True),
    # RFC 3987 IRIs: the client percent-encodes the path.
    ('https://hooks.example.com/b\u00e4nde', True),
    ('https://hooks.example.com/a b', False),
    ('https://hooks.example.com/a\tb', False),
    # Python's \s has \x1c-\x1f and \x85, ECMA's has not: the schema said
    # yes and the endpoint no (found by schemathesis).
    ('https://hooks.example.com/a\x1cb', False),
    ('https://hooks.example.com/a\x1fb', False),
    ('https://hooks.example.com/a\x85b', False),
    ('https://hooks.example.com/x#part', False),
    ('https://hooks.example.com:65536/', False),
])
def test_the_endpoint_url_pattern(url, taken):
    """The endpoint (Python's re) and its OpenAPI schema (a JSON Schema
    validator's regex, as clients and schemathesis read it) agree."""
    import re

    import jsonschema_rs

    from mailman_bounces.config.hooks import CALLBACK_URL_PATTERN
    schema = jsonschema_rs.validator_for(
        {'type': 'string', 'pattern': CALLBACK_URL_PATTERN})
    assert (re.fullmatch(CALLBACK_URL_PATTERN, url) is not None) is taken
    assert schema.is_valid(url) is taken


def test_private_and_plain_http_urls_refused():
    from mailman_bounces.config.hooks import callback_url_problem
    assert callback_url_problem('http://127.0.0.1:8080/x') is None
    assert 'https only' in callback_url_problem('http://203.0.113.9/x')
    assert 'private' in callback_url_problem('https://10.1.2.3/x')
    assert callback_url_problem('https://10.1.2.3/x', True) is None
    assert 'private' in callback_url_problem('https://169.254.169.254/')
    assert callback_url_problem('https://user:pw@example.com/') is not None


def test_dead_letters_over_rest_and_replay_from_the_cli(site, receiver,
                                                        rest):
    from click.testing import CliRunner

    from mailman_bounces.commands.cli_bounces import bounces
    from mailman_bounces.tests.test_rest_api import get
    receiver.answers = [(500, {})] * 4
    bounce(site, 'anne@example.org')
    for delay in (0, 5, 300, 1800):
        forward(delay)
        deliver()
    [dead] = get('/callbacks?state=dead')['entries']
    assert (dead['state'], dead['attempts'], dead['last_status']) == (
        'dead', 4, 500)
    assert dead['payload']['data']['email'] == 'anne@example.org'
    assert get('/callbacks?state=pending')['total_size'] == 0
    result = CliRunner().invoke(bounces, ['callbacks', 'replay'])
    assert result.exit_code == 0, result.output
    assert '1 callbacks to send again' in result.output
    assert deliver() == {'delivered': 1}
    assert get('/callbacks?state=delivered')['total_size'] == 1


def test_list_endpoints_over_rest(site, receiver, rest):
    from mailman_bounces.tests.test_rest_api import call, description, get
    path = '/lists/test.example.com/callbacks'
    refused = [
        ({'url': 'http://203.0.113.7/x', 'secret': SECRET}, 'https URL'),
        ({'url': 'https://10.0.0.8/x', 'secret': SECRET}, 'host name'),
        ({'url': receiver.url, 'secret': 'not base64!'}, 'whsec_'),
        ({'url': receiver.url, 'secret': SECRET, 'events': 'member.eaten'},
         'expected event names'),
        ({'url': receiver.url}, 'Missing Parameter: secret'),
        ({'url': receiver.url, 'secret': SECRET, 'colour': 'red'},
         'Unknown attribute: colour'),
    ]
    for body, why in refused:
        response = call('POST', path, json=body)
        assert response.status_code == 400, body
        assert why in description(response)
    response = call('POST', path, json={
        'url': receiver.url, 'secret': SECRET,
        'events': 'bounce.registered member.removed'})
    assert response.status_code == 201
    location = response.headers['Location']
    [entry] = get(path)['entries']
    assert (entry['url'], entry['events'], entry['enabled']) == (
        receiver.url, ['bounce.registered', 'member.removed'], True)
    assert 'secret' not in entry
    assert location.endswith(f'{path}/{entry["id"]}')
    # The list's endpoint and the site's both get the bounce.
    bounce(site, 'anne@example.org')
    assert sorted(r.endpoint for r in outbox()) == [
        f'list:{entry["id"]}', 'site:app']
    assert call('DELETE', f'{path}/{entry["id"]}').status_code == 204
    assert call('GET', f'{path}/{entry["id"]}').status_code == 404


def test_member_lifecycle_is_reported(site, receiver):
    """Disabled, warned and removed by the pass; re-enabled by hand: each
    is queued in the transaction that does it."""
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.callbacks import add_endpoint
    from mailman_bounces.app.reenable import reenable_member
    from mailman_bounces.tests.helpers import (
        commit,
        fast_forward,
        member,
        run_pass,
    )
    site.bounce_score_threshold = 1
    site.bounce_you_are_disabled_warnings = 1
    site.bounce_you_are_disabled_warnings_interval = datetime.timedelta(
        days=1)
    add_endpoint(site.list_id, receiver.url, SECRET)
    commit()
    bounce(site, 'anne@example.org')
    run_pass()
    assert member(site, 'anne@example.org').delivery_status == (
        DeliveryStatus.by_bounces)
    kinds = [(r.event_type, r.endpoint) for r in outbox()
             if r.endpoint.startswith('list:')]
    assert [k for k, _ in kinds] == [
        'bounce.registered', 'member.disabled', 'member.warned']
    reenable_member(member(site, 'anne@example.org'))
    commit()
    assert outbox()[-1].event_type == 'member.reenabled'
    bounce(site, 'anne@example.org', diagnostic='550 5.1.1 <{email}>: gone')
    run_pass()
    fast_forward(days=2)
    run_pass()
    assert member(site, 'anne@example.org') is None
    list_types = [r.event_type for r in outbox()
                  if r.endpoint.startswith('list:')]
    assert list_types[-1] == 'member.removed'
    assert list_types.count('member.disabled') == 2
    deliver()
    assert len(receiver.received) == len(outbox())


def test_member_warned_means_a_warning_was_sent(site, receiver):
    """'member.warned' is queued when the warning is sent, with the notice
    marked sent; not for a warning queued and then not sent (the member
    re-enabled meanwhile)."""
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.callbacks import add_endpoint
    from mailman_bounces.app.notices import deliver_notices, queue_notice
    from mailman_bounces.interfaces.notice import NoticeKind
    from mailman_bounces.tests.helpers import commit, member
    add_endpoint(site.list_id, receiver.url, SECRET)
    site.subscribe(_address('bart@example.org'))
    for email in ('anne@example.org', 'bart@example.org'):
        found = member(site, email)
        found.preferences.delivery_status = DeliveryStatus.by_bounces
        queue_notice(NoticeKind.warning, list_id=site.list_id, email=email,
                     member_id=found.id, warning_number=1)
    commit()
    # Queued, not sent: nobody was warned yet.
    assert [r for r in outbox() if r.event_type == 'member.warned'] == []
    member(site, 'bart@example.org').preferences.delivery_status = (
        DeliveryStatus.enabled)
    commit()
    deliver_notices()
    warned = [json.loads(r.payload)['data'] for r in outbox()
              if r.event_type == 'member.warned']
    assert warned == [{'list_id': site.list_id, 'email': 'anne@example.org',
                       'warning_number': 1}]


def _address(email: str):
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    return getUtility(IUserManager).create_address(email)


def test_tracking_reports_can_be_chosen_like_any_event():
    """One list of events: the configuration, REST's pattern (and the
    OpenAPI schema made from it) all know 'tracking.report'."""
    import re

    from mailman_bounces.config.hooks import EVENTS_PATTERN, parse_events
    assert parse_events('tracking.report') == {'tracking.report'}
    assert 'tracking.report' in parse_events('all')
    assert re.fullmatch(EVENTS_PATTERN, 'bounce.registered tracking.report')
    assert not re.fullmatch(EVENTS_PATTERN, 'tracking.reports')
