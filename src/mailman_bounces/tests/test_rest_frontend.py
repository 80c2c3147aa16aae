"""The REST resources the web front end reads (``frontend/...``), on
Mailman's real REST server."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    make_list,
    member,
    run_pass,
    virgin_messages,
)
from mailman_bounces.tests.test_rest_api import call, description, get

ANNE, BART = 'anne@example.org', 'bart@example.org'


@pytest.fixture
def disabled(rest):
    """Anne disabled by a hard bounce (threshold 1) and warned once;
    Bart with one soft bounce."""
    mlist = make_list(members=[ANNE, BART], bounce_score_threshold=1)
    bounce(mlist, ANNE)
    bounce(mlist, BART, status='4.2.2', action='delayed',
           diagnostic='452 4.2.2 Mailbox full')
    run_pass()
    warnings = [msg for to, subject, msg in virgin_messages()
                if subject.startswith('reenable ')]
    assert len(warnings) == 1
    token = str(warnings[0]['subject']).split()[1]
    return mlist, token


def test_preview_shows_the_subscription_and_keeps_the_token(disabled):
    mlist, token = disabled
    preview = get(f'/frontend/reenable/{token}')
    assert preview['list_id'] == 'test.example.com'
    assert preview['fqdn_listname'] == 'test@example.com'
    assert preview['email'] == ANNE
    assert preview['delivery_status'] == 'by_bounces'
    assert preview['disabled_reason'] == 'userunknown'
    assert preview['threshold'] == 1.0
    assert preview['warnings'] == 3
    assert preview['total_warnings_sent'] == 1
    # Looking twice is fine: the token is still there to redeem.
    assert get(f'/frontend/reenable/{token}')['email'] == ANNE
    redeemed = call('POST', f'/reenable/{token}')
    assert redeemed.status_code == 200, redeemed.text
    from mailman.interfaces.member import DeliveryStatus
    assert member(mlist, ANNE).delivery_status == DeliveryStatus.enabled
    # Once redeemed, there is nothing to show.
    gone = call('GET', f'/frontend/reenable/{token}')
    assert gone.status_code == 404
    assert description(gone) == 'Unknown, used or expired token'


def test_an_expired_token_shows_nothing_and_reenables_no_one(disabled):
    """Core's pendings answer for an expired token until its task runner
    deletes it; the plugin does not."""
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.tests.helpers import commit, expire_pending
    mlist, token = disabled
    expire_pending(token)
    commit()
    preview = call('GET', f'/frontend/reenable/{token}')
    assert preview.status_code == 404
    assert description(preview) == 'Unknown, used or expired token'
    assert call('POST', f'/reenable/{token}').status_code == 404
    assert member(mlist, ANNE).delivery_status == DeliveryStatus.by_bounces


@pytest.mark.parametrize('token', ['0' * 40, 'not-a-token', 'x' * 65])
def test_unknown_tokens_are_404(rest, token):
    assert call('GET', f'/frontend/reenable/{token}').status_code == 404


def test_readable_message(disabled):
    events = get('/events?address=' + ANNE)['entries']
    assert len(events) == 1
    message = get(f"/frontend/events/{events[0]['id']}/message")
    headers = dict(message['headers'])
    # From the DSN of tests/samples.py.
    assert headers['Subject'] == 'Undelivered Mail Returned to Sender'
    assert 'Content-Type' in headers
    assert message['event_id'] == events[0]['id']
    raw = call('GET', f"/events/{events[0]['id']}/message")
    assert message['size'] == len(raw.content)
    assert message['truncated'] is False
    # The human-readable part, not the machine-readable status.
    assert 'Final-Recipient' not in message['text']
    assert message['text'].strip()


@pytest.mark.parametrize('path', ['/frontend/events/999/message',
                                  '/frontend/events/x/message',
                                  '/frontend/events/1',
                                  '/frontend/nothing'])
def test_missing_frontend_resources_are_404(rest, path):
    assert call('GET', path).status_code == 404


def test_daily_counts_by_severity_and_reason(disabled):
    from mailman.utilities.datetime import now
    daily = get('/frontend/daily?list_id=test@example.com&days=7')
    today = now().date().isoformat()
    assert daily['list_id'] == 'test.example.com'
    assert sorted((entry['day'], entry['severity'], entry['reason'],
                   entry['events']) for entry in daily['entries']) == [
        (today, 'hard', 'userunknown', 1),
        (today, 'soft', 'mailboxfull', 1)]
    bad = call('GET', '/frontend/daily?days=0')
    assert bad.status_code == 400
    assert 'days' in description(bad)
    assert call('GET', '/frontend/daily?top=5').status_code == 400


def test_bouncing_lists_most_first(disabled):
    quiet = make_list('quiet@example.com', members=['carl@example.org'])
    other = make_list('other@example.com', members=[ANNE])
    bounce(other, ANNE)
    run_pass()
    entries = get('/frontend/lists')['entries']
    assert [(entry['list_id'], entry['members'], entry['bouncing'],
             entry['disabled']) for entry in entries] == [
        ('test.example.com', 2, 2, 1), ('other.example.com', 1, 1, 0)]
    assert quiet.list_id not in [entry['list_id'] for entry in entries]


def test_members_evidence(disabled):
    """Per address asked for: its events on each evidence and the
    newest's.  In-process registrations (the fixture's) are verified."""
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.app.processor import Registration
    from mailman_bounces.tests.helpers import commit
    from mailman_bounces.tests.samples import dsn
    mlist, _ = disabled
    msg = specialized_message_from_string(dsn(BART))
    getUtility(IBounceProcessor).record_all([Registration(
        mlist.list_id, BART, msg, evidence='forged')])
    commit()
    content = get('/frontend/lists/test@example.com/evidence'
                  f'?addresses={ANNE.upper()},{BART},nobody@example.org')
    assert content['list_id'] == 'test.example.com'
    assert content['entries'] == [
        {'email': ANNE, 'verified': 1, 'unverified': 0, 'forged': 0,
         'last': 'verified'},
        {'email': BART, 'verified': 1, 'unverified': 0, 'forged': 1,
         'last': 'forged'}]
    missing = call('GET', '/frontend/lists/nope@example.com/evidence')
    assert missing.status_code == 404
    assert call('GET', '/frontend/lists/test@example.com/evidence'
                '?address=x').status_code == 400
    # The events filter takes the evidence too.
    forged = get('/events?evidence=forged')['entries']
    assert [event['email'] for event in forged] == [BART]
    assert call('GET', '/events?evidence=trusted').status_code == 400


def test_list_scoring_is_the_lists_threshold_and_warnings(disabled):
    """What the member tables measure against: core's threshold (1 in the
    fixture) until the plugin's score_threshold is set, which wins; the
    warnings before removal (core's default, 3)."""
    scoring = get('/frontend/lists/test@example.com')
    assert scoring['list_id'] == 'test.example.com'
    assert (scoring['threshold'], scoring['warnings']) == (1.0, 3)
    assert scoring['self_link'].endswith(
        '/plugins/bounces/frontend/lists/test.example.com')
    changed = call('PATCH', '/lists/test.example.com/settings',
                   data={'score_threshold': '2.5',
                         'bounce_you_are_disabled_warnings': '5'})
    assert changed.status_code == 204, changed.text
    scoring = get('/frontend/lists/test.example.com')
    assert (scoring['threshold'], scoring['warnings']) == (2.5, 5)
    # And the re-enable preview says the same.
    _, token = disabled
    preview = get(f'/frontend/reenable/{token}')
    assert (preview['threshold'], preview['warnings']) == (2.5, 5)
    assert call('GET', '/frontend/lists/nope@example.com').status_code == 404
    assert call('GET', '/frontend/lists/test.example.com/more')\
        .status_code == 404


def test_callback_outbox_per_endpoint(disabled):
    from mailman_bounces.app.callbacks import add_endpoint
    from mailman_bounces.tests.helpers import commit
    from mailman_bounces.tests.test_callbacks import SECRET
    mlist, _ = disabled
    assert get('/frontend/callbacks').get('entries', []) == []
    endpoint = add_endpoint(mlist.list_id, 'http://127.0.0.1:9/x', SECRET,
                            events='bounce.registered')
    commit()
    bounce(mlist, BART)
    [entry] = get('/frontend/callbacks')['entries']
    assert entry == {
        'endpoint': f'list:{endpoint.id}', 'url': 'http://127.0.0.1:9/x',
        'list_id': 'test.example.com', 'enabled': True,
        'pending': 1, 'delivered': 0, 'dead': 0}
