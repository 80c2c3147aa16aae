"""The ESP webhook listener over real HTTP on loopback: every provider's
verification, the normalisation of its notifications, storage once per
provider event id, and the HTTP answers.

Expected reasons come from the providers' documented classifications
(e.g. SES NoEmail = the mailbox does not exist = userunknown)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from importlib.resources import files

import pytest

from mailman_bounces.tests.helpers import make_list, run_pass

pytestmark = pytest.mark.usefixtures('mailman')

TOPIC = 'arn:aws:sns:us-east-1:123456789012:bounces'
MAILGUN_KEY = 'key-mailgun-signing'
SECRET = 's3cret-basic'
VECTORS = json.loads(files('mailman_bounces.tests.data.sendgrid')
                     .joinpath('vectors.json').read_text())


@pytest.fixture
def site(tmp_path):
    """The listener with one endpoint per provider, the SNS host faked by
    an HTTPS server with a CA made here."""
    from mailman_bounces.config import load_site_config, set_site_config
    from mailman_bounces.esp.sns import CertificateFetcher, set_fetcher
    from mailman_bounces.runners.bouncehook import make_listener
    from mailman_bounces.tests.hooks_support import (
        FakeAWS,
        SNSServer,
        sendgrid_key,
    )
    aws = FakeAWS()
    sns = SNSServer(aws, tmp_path)
    key, public = sendgrid_key()
    previous = set_site_config(load_site_config(f"""
[webhooks]
enabled: yes
max_body: 4096
[webhook.ses1]
provider: ses
list: test.example.com
topics: {TOPIC}
[webhook.sg]
provider: sendgrid
public_key: {public}
[webhook.vector]
provider: sendgrid
list: test.example.com
public_key: {VECTORS[0]['public_key']}
[webhook.mg]
provider: mailgun
list: test.example.com
secret: {MAILGUN_KEY}
[webhook.pm]
provider: postmark
secret: {SECRET}
[webhook.sp]
provider: sparkpost
list: test.example.com
secret: {SECRET}
"""))
    old_fetcher = set_fetcher(CertificateFetcher(
        aws.client_context(), {aws.host: sns.address}))
    server = make_listener('127.0.0.1', 0)
    make_list('test@example.com', ['anne@example.org', 'bart@example.org'])
    try:
        yield {'server': server, 'aws': aws, 'sns': sns, 'sendgrid': key}
    finally:
        server.server_close()
        sns.close()
        set_fetcher(old_fetcher)
        set_site_config(previous)


def events():
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    return list(config.db.store.execute(
        select(BounceEvent).order_by(BounceEvent.id)).scalars())


def _epoch() -> int:
    from mailman.utilities.datetime import now
    return int(now().replace(tzinfo=datetime.UTC).timestamp())


# SES via SNS.

def _sns(message: dict, kind: str = 'Notification', topic: str = TOPIC):
    return {'Type': kind, 'MessageId': 'sns-1', 'TopicArn': topic,
            'Message': json.dumps(message), 'Timestamp':
            '2005-08-01T07:49:23.000Z'}


SES_BOUNCE = {
    'notificationType': 'Bounce',
    'mail': {'messageId': 'ses-msg-1', 'headers': [
        {'name': 'List-Id', 'value': 'Test <test.example.com>'}]},
    'bounce': {
        'feedbackId': 'fb-1', 'bounceType': 'Permanent',
        'bounceSubType': 'General', 'reportingMTA': 'dsn; a.example',
        'bouncedRecipients': [
            {'emailAddress': 'anne@example.org', 'status': '5.1.1',
             'diagnosticCode': 'smtp; 550 5.1.1 user unknown'},
            {'emailAddress': 'bart@example.org', 'status': '5.2.2',
             'diagnosticCode': 'smtp; 552 5.2.2 mailbox full'}]}}


def test_ses_bounce_all_recipients_once(site):
    from mailman_bounces.tests.hooks_support import post
    body = json.dumps(site['aws'].sign(_sns(SES_BOUNCE))).encode()
    assert post(site['server'], '/webhooks/ses/ses1', body)[0] == 200
    got = [(e.email, e.kind, e.severity, e.reason, e.status) for e in
           events()]
    assert got == [
        ('anne@example.org', 'bounce', 'hard', 'userunknown', '5.1.1'),
        ('bart@example.org', 'bounce', 'soft', 'mailboxfull', '5.2.2')]
    assert events()[0].provider_event_id == 'fb-1/anne@example.org'
    assert events()[0].detector == 'webhook:ses'
    # SNS retries (and the SHA256 signature version) count once.
    body = json.dumps(site['aws'].sign(_sns(SES_BOUNCE), '2')).encode()
    status, answer = post(site['server'], '/webhooks/ses/ses1', body)
    assert (status, answer['stored'], len(events())) == (200, 0, 2)
    # The certificate was fetched once (cached).
    assert [p for p in site['sns'].requests if p.endswith('.pem')] == [
        '/SimpleNotificationService-test.pem']


def test_ses_signature_and_topic_are_required(site):
    from mailman_bounces.tests.hooks_support import post
    signed = site['aws'].sign(_sns(SES_BOUNCE))
    tampered = {**signed, 'Message': signed['Message'].replace(
        'anne', 'zoe')}
    foreign = site['aws'].sign(_sns(SES_BOUNCE, topic=TOPIC + '-other'))
    elsewhere = {**signed, 'SigningCertURL':
                 'https://evil.example.com/cert.pem'}
    for message in (tampered, foreign, elsewhere):
        status, _ = post(site['server'], '/webhooks/ses/ses1',
                         json.dumps(message).encode())
        assert status == 401
    assert events() == []


def _published(minutes: float) -> str:
    """An SNS Timestamp `minutes` before now (negative: after)."""
    from mailman.utilities.datetime import now
    stamp = now() - datetime.timedelta(minutes=minutes)
    return stamp.strftime('%Y-%m-%dT%H:%M:%S.') + '000Z'


def test_ses_replay_refused_by_its_signed_timestamp(site):
    # SNS retries a delivery for at most an hour; [webhooks]window (5m)
    # is allowed on top, and ahead, for clock skew.
    from mailman_bounces.tests.hooks_support import post
    for minutes, expected in ((66, 401), (-6, 401), (64, 200), (-4, 200)):
        message = {**_sns(SES_BOUNCE), 'Timestamp': _published(minutes)}
        status, answer = post(site['server'], '/webhooks/ses/ses1',
                              json.dumps(site['aws'].sign(message)).encode())
        assert (minutes, status) == (minutes, expected)
        if expected == 401:
            assert answer['status'].startswith('stale')
    # Only the two in time were taken (the second as a retry of the first).
    assert len(events()) == 2


def test_ses_event_ids_outlive_a_short_retention(site):
    # A list keeping nothing (retention 0) must not forget the ids before
    # a replay of their message is refused by its age.
    from mailman.utilities.datetime import now

    from mailman_bounces.app.retention import _evict_hook_memory
    from mailman_bounces.tests.helpers import commit, fast_forward
    from mailman_bounces.tests.hooks_support import post
    body = json.dumps(site['aws'].sign(_sns(SES_BOUNCE))).encode()
    assert post(site['server'], '/webhooks/ses/ses1', body)[1]['stored'] == 2
    fast_forward(hours=0.5)
    _evict_hook_memory(now(), datetime.timedelta(0))
    commit()
    status, answer = post(site['server'], '/webhooks/ses/ses1', body)
    assert (status, answer['stored'], answer['ignored']) == (200, 0, 2)
    fast_forward(hours=1)
    assert post(site['server'], '/webhooks/ses/ses1', body)[0] == 401


def test_ses_subscription_confirmed_for_allowed_topic(site):
    from mailman_bounces.tests.hooks_support import post
    url = (f'https://{site["aws"].host}/?Action=ConfirmSubscription'
           '&Token=tok')
    message = {'Type': 'SubscriptionConfirmation', 'MessageId': 'm',
               'Token': 'tok', 'TopicArn': TOPIC, 'Message': 'confirm',
               'SubscribeURL': url, 'Timestamp': '2005-08-01T07:49:23Z'}
    status, _ = post(site['server'], '/webhooks/ses/ses1',
                     json.dumps(site['aws'].sign(message)).encode())
    assert status == 200
    assert '/?Action=ConfirmSubscription&Token=tok' in site['sns'].requests
    foreign = {**message, 'TopicArn': TOPIC + '-other'}
    status, _ = post(site['server'], '/webhooks/ses/ses1',
                     json.dumps(site['aws'].sign(foreign)).encode())
    assert status == 401


def test_ses_suppression_complaint_and_delay(site):
    from mailman_bounces.tests.hooks_support import post
    suppressed = {'notificationType': 'Bounce', 'mail': {}, 'bounce': {
        'feedbackId': 'fb-2', 'bounceType': 'Permanent',
        'bounceSubType': 'OnAccountSuppressionList',
        'bouncedRecipients': [{
            'emailAddress': 'anne@example.org',
            'diagnosticCode': 'Amazon SES did not send the message to this '
                              'address because it is on the suppression '
                              'list for your account (invalid address)'}]}}
    complaint = {'notificationType': 'Complaint', 'mail': {}, 'complaint': {
        'feedbackId': 'fb-3', 'complaintFeedbackType': 'abuse',
        'complainedRecipients': [{'emailAddress': 'bart@example.org'}]}}
    delay = {'eventType': 'DeliveryDelay', 'mail': {'messageId': 'x'},
             'deliveryDelay': {'delayType': 'MailboxFull', 'timestamp': 't',
                               'delayedRecipients': [{
                                   'emailAddress': 'anne@example.org',
                                   'status': '4.2.2'}]}}
    for message in (suppressed, complaint, delay):
        body = json.dumps(site['aws'].sign(_sns(message))).encode()
        assert post(site['server'], '/webhooks/ses/ses1', body)[0] == 200
    got = [(e.email, e.kind, e.reason) for e in events()]
    assert got == [('anne@example.org', 'bounce', 'policyviolation'),
                   ('bart@example.org', 'complaint', 'feedback'),
                   ('anne@example.org', 'delay', 'mailboxfull')]
    # The suppression answer is recorded but not held against Anne.
    run_pass()
    assert events()[0].outcome == 'ignored'


# SendGrid.

def test_sendgrid_published_vector_verifies():
    from mailman_bounces.esp import Unverified
    from mailman_bounces.esp.sendgrid import check_signature
    for vector in VECTORS:
        check_signature(vector['public_key'], vector['payload'].encode(),
                        vector['signature'], vector['timestamp'])
        with pytest.raises(Unverified):
            check_signature(vector['public_key'],
                            vector['payload'].encode() + b' ',
                            vector['signature'], vector['timestamp'])


def test_sendgrid_vector_through_the_listener(site):
    from mailman.utilities.datetime import factory

    from mailman_bounces.tests.hooks_support import post
    vector = VECTORS[0]
    headers = {'X-Twilio-Email-Event-Webhook-Signature': vector['signature'],
               'X-Twilio-Email-Event-Webhook-Timestamp': vector['timestamp']}
    make_list('world@example.com', ['hello@world.com'])
    # Outside the window (Mailman's test clock is in 2005): refused.
    status, _ = post(site['server'], '/webhooks/sendgrid/vector',
                     vector['payload'].encode(), headers)
    assert status == 401
    type(factory).predictable_now = datetime.datetime.fromtimestamp(
        int(vector['timestamp']) + 60, datetime.UTC).replace(tzinfo=None)
    status, answer = post(site['server'], '/webhooks/sendgrid/vector',
                          vector['payload'].encode(), headers)
    assert (status, answer['stored']) == (200, 1)
    # A 'dropped' event (Bounced Address: SendGrid's suppression list).
    [event] = events()
    assert (event.email, event.reason, event.severity) == (
        'hello@world.com', 'policyviolation', 'soft')


def test_sendgrid_signed_events(site):
    from mailman_bounces.tests.hooks_support import post, sendgrid_sign
    payload = json.dumps([
        {'email': 'anne@example.org', 'event': 'bounce', 'type': 'bounce',
         'status': '5.1.1', 'reason': '550 5.1.1 No such user',
         'sg_event_id': 'e1', 'mailman_list': 'test.example.com'},
        {'email': 'bart@example.org', 'event': 'spamreport',
         'sg_event_id': 'e2', 'mailman_list': 'test.example.com'},
        {'email': 'anne@example.org', 'event': 'open', 'sg_event_id': 'e3'},
    ]).encode()
    stamp = str(_epoch())
    headers = {'X-Twilio-Email-Event-Webhook-Signature':
               sendgrid_sign(site['sendgrid'], stamp, payload),
               'X-Twilio-Email-Event-Webhook-Timestamp': stamp}
    status, answer = post(site['server'], '/webhooks/sendgrid/sg', payload,
                          headers)
    assert (status, answer['stored'], answer['ignored']) == (200, 2, 1)
    assert [(e.email, e.kind, e.reason) for e in events()] == [
        ('anne@example.org', 'bounce', 'userunknown'),
        ('bart@example.org', 'complaint', 'feedback')]
    # Unsigned, or signed by another key: 401.
    assert post(site['server'], '/webhooks/sendgrid/sg', payload)[0] == 401


# Mailgun.

def _mailgun(token: str, stamp: str, key: str = MAILGUN_KEY, **data):
    signature = hmac.new(key.encode(), (stamp + token).encode(),
                         hashlib.sha256).hexdigest()
    return json.dumps({'signature': {'timestamp': stamp, 'token': token,
                                     'signature': signature},
                       'event-data': data}).encode()


def test_mailgun_signature_window_and_replay(site):
    from mailman_bounces.tests.hooks_support import post
    stamp = str(_epoch())
    failed = {'event': 'failed', 'id': 'mg-1', 'severity': 'permanent',
              'recipient': 'anne@example.org', 'reason': 'bounce',
              'delivery-status': {'code': 550, 'message':
                                  '5.1.1 The email account does not exist'}}
    body = _mailgun('tok-1', stamp, **failed)
    assert post(site['server'], '/webhooks/mailgun/mg', body)[0] == 200
    # The same request again: its token was used.
    assert post(site['server'], '/webhooks/mailgun/mg', body)[0] == 401
    # Old timestamp, wrong key: refused.
    old = str(_epoch() - 3600)
    assert post(site['server'], '/webhooks/mailgun/mg',
                _mailgun('tok-2', old, **failed))[0] == 401
    assert post(site['server'], '/webhooks/mailgun/mg',
                _mailgun('tok-3', stamp, 'other', **failed))[0] == 401
    suppressed = {**failed, 'id': 'mg-2', 'reason': 'suppress-bounce',
                  'recipient': 'bart@example.org'}
    assert post(site['server'], '/webhooks/mailgun/mg',
                _mailgun('tok-4', stamp, **suppressed))[0] == 200
    assert [(e.email, e.reason, e.severity) for e in events()] == [
        ('anne@example.org', 'userunknown', 'hard'),
        ('bart@example.org', 'policyviolation', 'soft')]


# Postmark.

def _auth(password: str) -> dict:
    token = base64.b64encode(f'bounces:{password}'.encode()).decode()
    return {'Authorization': f'Basic {token}'}


def test_postmark_basic_auth_and_dmarc(site):
    from mailman_bounces.tests.hooks_support import post
    dmarc = {'RecordType': 'Bounce', 'ID': 4323372036854775807,
             'Type': 'DMARCPolicy', 'Email': 'anne@example.org',
             'Description': 'Rejected by the DMARC policy of the sender',
             'Details': '550 5.7.1 Unauthenticated email is not accepted',
             'Metadata': {'mailman_list': 'test.example.com'}}
    body = json.dumps(dmarc).encode()
    assert post(site['server'], '/webhooks/postmark/pm', body)[0] == 401
    assert post(site['server'], '/webhooks/postmark/pm', body,
                _auth('wrong'))[0] == 401
    assert post(site['server'], '/webhooks/postmark/pm', body,
                _auth(SECRET))[0] == 200
    [event] = events()
    assert (event.reason, event.status, event.provider_event_id) == (
        'authfailure', '5.7.1', '4323372036854775807')
    run_pass()
    # listmonk counts these as soft bounces; here they weigh nothing.
    assert events()[0].outcome == 'ignored'


# SparkPost.

def test_sparkpost_batch_is_taken_once(site):
    from mailman_bounces.tests.hooks_support import post
    batch = json.dumps([
        {'msys': {'message_event': {
            'type': 'bounce', 'event_id': 'sp-1', 'bounce_class': '10',
            'rcpt_to': 'anne@example.org',
            'raw_reason': '550 5.1.1 <anne@example.org>: unknown'}}},
        {'msys': {'message_event': {
            'type': 'bounce', 'event_id': 'sp-2', 'bounce_class': '25',
            'rcpt_to': 'bart@example.org',
            'raw_reason': '554 5.7.1 recipient on suppression list'}}},
        {'msys': {'track_event': {'type': 'open', 'event_id': 'sp-3'}}},
    ]).encode()
    headers = {**_auth(SECRET), 'X-MessageSystems-Batch-ID': 'batch-1'}
    status, answer = post(site['server'], '/webhooks/sparkpost/sp', batch,
                          headers)
    assert (status, answer['stored'], answer['ignored']) == (200, 2, 1)
    status, answer = post(site['server'], '/webhooks/sparkpost/sp', batch,
                          headers)
    assert (status, answer['stored']) == (200, 0)
    assert [(e.email, e.reason, e.status) for e in events()] == [
        ('anne@example.org', 'userunknown', '5.1.1'),
        ('bart@example.org', 'policyviolation', '5.7.1')]


# Policy and reputation blocks, per provider: the receiver refused the
# sender, its host or the message, not the address.  Each carries a text
# the classifier alone finds vague ('550 Rejected', 5.0.0: a bounce of
# unknown cause, which scores); the provider's own classification makes it
# one of the engine's block reasons, which weigh nothing.

def _send_ses(site, name, diagnostic, **fields):
    from mailman_bounces.tests.hooks_support import post
    message = {'notificationType': 'Bounce', 'mail': {}, 'bounce': {
        'feedbackId': f'fb-{name}', 'bounceType': 'Permanent',
        'bouncedRecipients': [{'emailAddress': 'anne@example.org',
                               'status': '5.0.0',
                               'diagnosticCode': f'smtp; {diagnostic}'}],
        **fields}}
    body = json.dumps(site['aws'].sign(_sns(message))).encode()
    return post(site['server'], '/webhooks/ses/ses1', body)


def _send_sendgrid(site, name, diagnostic, **fields):
    from mailman_bounces.tests.hooks_support import post, sendgrid_sign
    payload = json.dumps([{
        'email': 'anne@example.org', 'event': 'bounce', 'status': '5.0.0',
        'reason': diagnostic, 'sg_event_id': f'sg-{name}',
        'mailman_list': 'test.example.com', **fields}]).encode()
    stamp = str(_epoch())
    return post(site['server'], '/webhooks/sendgrid/sg', payload, {
        'X-Twilio-Email-Event-Webhook-Signature':
            sendgrid_sign(site['sendgrid'], stamp, payload),
        'X-Twilio-Email-Event-Webhook-Timestamp': stamp})


def _send_mailgun(site, name, diagnostic, **fields):
    from mailman_bounces.tests.hooks_support import post
    code, _, message = diagnostic.partition(' ')
    return post(site['server'], '/webhooks/mailgun/mg', _mailgun(
        f'tok-{name}', str(_epoch()), event='failed', id=f'mg-{name}',
        severity='permanent', recipient='anne@example.org',
        **{'delivery-status': {'code': int(code), 'message': message,
                               'enhanced-code': '5.0.0'}}, **fields))


def _send_postmark(site, name, diagnostic, **fields):
    from mailman_bounces.tests.hooks_support import post
    record = {'RecordType': 'Bounce', 'ID': abs(hash(name)) % 10**9,
              'Email': 'anne@example.org', 'Details': diagnostic,
              'Metadata': {'mailman_list': 'test.example.com'}, **fields}
    return post(site['server'], '/webhooks/postmark/pm',
                json.dumps(record).encode(), _auth(SECRET))


def _send_sparkpost(site, name, diagnostic, **fields):
    from mailman_bounces.tests.hooks_support import post
    batch = [{'msys': {'message_event': {
        'type': 'bounce', 'event_id': f'sp-{name}',
        'rcpt_to': 'anne@example.org', 'raw_reason': diagnostic,
        **fields}}}]
    return post(site['server'], '/webhooks/sparkpost/sp',
                json.dumps(batch).encode(), _auth(SECRET))


VAGUE = '550 5.0.0 Rejected'

# (provider, the provider's fields, the reason its documentation implies)
BLOCKS = [
    # SES: the recipient's ISP rejected the content.
    ('ses', {'bounceSubType': 'ContentRejected'}, 'contenterror'),
    # SendGrid: 'blocked' is a block of the sender; its classification
    # says which when it gives one.
    ('sendgrid', {'type': 'blocked'}, 'blocked'),
    ('sendgrid', {'type': 'blocked', 'bounce_classification': 'Reputation'},
     'badreputation'),
    ('sendgrid', {'type': 'blocked', 'bounce_classification': 'Content'},
     'contenterror'),
    ('sendgrid', {'type': 'blocked',
                  'bounce_classification': 'Frequency or Volume'},
     'speeding'),
    # A block whose text blames the address (some receivers answer a
    # blocked sender 'user unknown') still is a block, not a dead address.
    ('sendgrid', {'type': 'blocked', 'reason':
                  '550 5.1.1 Recipient address rejected: User unknown'},
     'blocked'),
    # Mailgun: its own ESP block.
    ('mailgun', {'reason': 'espblock'}, 'blocked'),
    # Postmark: 'Blocked' (ISP block).
    ('postmark', {'Type': 'Blocked'}, 'blocked'),
    # SparkPost: 50 Mail Block, 51 Spam Block, 52 Spam Content,
    # 53 Prohibited Attachment, 54 Relaying Denied.
    ('sparkpost', {'bounce_class': '50'}, 'blocked'),
    ('sparkpost', {'bounce_class': '51'}, 'blocked'),
    ('sparkpost', {'bounce_class': '52'}, 'spamdetected'),
    ('sparkpost', {'bounce_class': '53'}, 'policyviolation'),
    ('sparkpost', {'bounce_class': '54'}, 'norelaying'),
]


@pytest.mark.parametrize('provider, fields, reason', BLOCKS)
def test_policy_blocks_do_not_count_against_the_member(site, provider,
                                                       fields, reason):
    from mailman.interfaces.listmanager import IListManager
    from mailman.interfaces.member import DeliveryStatus
    from zope.component import getUtility

    from mailman_bounces.tests.helpers import member
    mlist = getUtility(IListManager).get_by_list_id('test.example.com')
    # One bounce that scored at all would disable Anne.
    mlist.bounce_score_threshold = 0.1
    fields = dict(fields)
    send = globals()[f'_send_{provider}']
    diagnostic = fields.pop('reason', VAGUE) if provider == 'sendgrid' \
        else VAGUE
    assert send(site, reason, diagnostic, **fields)[0] == 200
    [event] = events()
    assert (event.email, event.kind, event.severity, event.reason) == (
        'anne@example.org', 'bounce', 'soft', reason)
    run_pass()
    assert events()[0].outcome == 'ignored'
    assert member(mlist, 'anne@example.org').delivery_status == (
        DeliveryStatus.enabled)


# HTTP answers.

def test_http_answers(site):
    from mailman_bounces.tests.hooks_support import post
    server = site['server']
    assert post(server, '/webhooks/ses/nope', b'{}')[0] == 404
    assert post(server, '/webhooks/postmark/pm', b'not json',
                _auth(SECRET))[0] == 400
    assert post(server, '/webhooks/postmark/pm', b'x' * 5000,
                _auth(SECRET))[0] == 413
    # Announced too large: refused before reading.
    assert post(server, '/webhooks/postmark/pm', b'{}', _auth(SECRET),
                length=10**9)[0] == 413


def test_503_while_the_database_cannot_store(site):
    from mailman.config import config

    from mailman_bounces.tests.hooks_support import post
    record = {'RecordType': 'Bounce', 'ID': 7, 'Type': 'HardBounce',
              'Email': 'anne@example.org',
              'Metadata': {'mailman_list': 'test.example.com'}}
    config.db.store.execute(__import__('sqlalchemy').text(
        'ALTER TABLE bounces_webhook_seen RENAME TO bounces_webhook_gone'))
    config.db.commit()
    try:
        status, _ = post(site['server'], '/webhooks/postmark/pm',
                         json.dumps(record).encode(), _auth(SECRET))
    finally:
        config.db.store.execute(__import__('sqlalchemy').text(
            'ALTER TABLE bounces_webhook_gone RENAME TO '
            'bounces_webhook_seen'))
        config.db.commit()
    assert status == 503
    status, _ = post(site['server'], '/webhooks/postmark/pm',
                     json.dumps(record).encode(), _auth(SECRET))
    assert status == 200
    assert [e.reason for e in events()] == ['userunknown']


def test_complaints_follow_complaint_action(site):
    from mailman.interfaces.listmanager import IListManager
    from mailman.interfaces.member import DeliveryStatus
    from zope.component import getUtility

    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.tests.helpers import commit, member
    from mailman_bounces.tests.hooks_support import post
    mlist = getUtility(IListManager).get_by_list_id('test.example.com')
    change_settings(mlist, {'complaint_action': 'disable'})
    commit()
    complaint = {'RecordType': 'SpamComplaint', 'ID': 99,
                 'Type': 'SpamComplaint', 'Email': 'bart@example.org',
                 'Metadata': {'mailman_list': 'test.example.com'}}
    assert post(site['server'], '/webhooks/postmark/pm',
                json.dumps(complaint).encode(), _auth(SECRET))[0] == 200
    run_pass()
    [event] = events()
    assert (event.kind, event.outcome) == ('complaint', 'complaint')
    assert member(mlist, 'bart@example.org').delivery_status == (
        DeliveryStatus.by_bounces)
    assert member(mlist, 'anne@example.org').delivery_status == (
        DeliveryStatus.enabled)
