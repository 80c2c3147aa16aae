"""End to end: real bounces over a real LMTP socket into the plugin's
runners."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.samples import dsn, mixed_dsn

pytestmark = pytest.mark.usefixtures('lmtp')


@pytest.fixture
def mlist(mailman):
    from mailman.app.lifecycle import create_list
    from mailman.database.transaction import transaction
    from mailman.testing.helpers import subscribe
    with transaction():
        mlist = create_list('test@example.com')
        mlist.send_welcome_message = False
        subscribe(mlist, 'Anne', email='anne@example.org')
        subscribe(mlist, 'Bart', email='bart@example.org')
    return mlist


def _deliver(recipient: str, message: str) -> dict:
    from mailman.testing.helpers import get_lmtp_client
    client = get_lmtp_client(quiet=True)
    try:
        client.lhlo('remote.example.org')
        return client.sendmail('MAILER-DAEMON@remote.example.org',
                               [recipient], message)
    finally:
        client.quit()


def _run_bounce_runner() -> None:
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    make_testable_runner(BounceRunner, 'bounces').run()


def _events():
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    config.db.abort()
    return config.db.store.execute(
        select(BounceEvent).order_by(BounceEvent.id)).scalars().all()


def _stored_ids() -> list[int]:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import StoredBounce
    return list(config.db.store.execute(
        select(StoredBounce.id).order_by(StoredBounce.id)).scalars())


def test_rfc3464_dsn_over_lmtp_is_registered(mlist):
    refused = _deliver('test-bounces@example.com', dsn(
        'anne@example.org', status='5.1.1',
        diagnostic='550 5.1.1 <anne@example.org>: Recipient address '
                   'rejected: User unknown in local recipient table'))
    assert refused == {}
    _run_bounce_runner()
    [event] = _events()
    assert event.list_id == 'test.example.com'
    assert event.email == 'anne@example.org'
    assert event.status == '5.1.1'
    assert event.reply_code == '550'
    assert event.severity == 'hard'
    assert event.reason == 'userunknown'
    assert event.kind == 'bounce'
    assert event.processed is False
    assert event.stored_message_id is not None


def test_same_bounce_delivered_twice_is_one_event(mlist):
    message = dsn('anne@example.org', status='5.1.1',
                  diagnostic='550 5.1.1 user unknown')
    _deliver('test-bounces@example.com', message)
    _deliver('test-bounces@example.com', message)
    _run_bounce_runner()
    [event] = _events()
    assert event.stored_message_id is not None
    assert _stored_ids() == [event.stored_message_id]


def test_mixed_dsn_registers_each_recipient_with_its_severity(mlist):
    _deliver('test-bounces@example.com', mixed_dsn(
        ('anne@example.org', 'failed', '5.1.1',
         ('550 5.1.1 The email account that you tried to reach does not '
          'exist')),
        ('bart@example.org', 'delayed', '4.2.2',
         '452 4.2.2 Mailbox full'),
    ))
    _run_bounce_runner()
    events = {event.email: event for event in _events()}
    assert set(events) == {'anne@example.org', 'bart@example.org'}
    assert events['anne@example.org'].severity == 'hard'
    assert events['anne@example.org'].kind == 'bounce'
    assert events['bart@example.org'].severity == 'soft'
    assert events['bart@example.org'].kind == 'delay'
    assert events['bart@example.org'].status == '4.2.2'
    # One message about two recipients is stored once, for both events.
    [stored] = _stored_ids()
    assert {event.stored_message_id for event in events.values()} == {stored}


def test_verp_address_only_in_the_envelope_is_decoded(mlist):
    # The DSN reports a forwarding target, and its headers were rewritten:
    # only the envelope recipient still says whose bounce it is.
    message = dsn('anne.forwarded@elsewhere.example.net', status='5.1.1',
                  diagnostic='550 5.1.1 no such user',
                  to='srs0=abcd=ef=example.com=test-bounces@forwarder.example')
    _deliver('test-bounces+anne=example.org@example.com', message)
    _run_bounce_runner()
    [event] = _events()
    assert event.email == 'anne@example.org'
    assert event.final_recipient == 'anne.forwarded@elsewhere.example.net'
    assert event.reason == 'userunknown'


def test_unknown_sub_address_is_still_refused(mlist):
    from smtplib import SMTPRecipientsRefused
    with pytest.raises(SMTPRecipientsRefused):
        _deliver('test-nonsense@example.com', dsn('anne@example.org'))


def test_posting_address_still_reaches_core(mlist):
    from mailman.testing.helpers import get_queue_messages
    _deliver('test@example.com', 'From: anne@example.org\n'
             'To: test@example.com\nSubject: hi\nMessage-ID: <post1@x>\n\n'
             'Hello\n')
    [item] = get_queue_messages('in', expected_count=1)
    assert item.msg['message-id'] == '<post1@x>'
    assert 'envelope_recipients' not in item.msgdata


def test_the_bytes_detection_reads_are_kept_beyond_the_stored_size(mlist):
    # The bounce runner detects from the bytes the LMTP runner keeps, so
    # they cover what the engine reads (MAX_INPUT_BYTES), even when the
    # site stores less of each message.
    from mailman.testing.helpers import get_queue_messages

    from mailman_bounces.app.store import RAW_KEY
    from mailman_bounces.config import site_config
    from mailman_bounces.detect import MAX_INPUT_BYTES
    assert site_config().max_message_size < MAX_INPUT_BYTES
    padding = ('x' * 76 + '\n') * (3 * MAX_INPUT_BYTES // 77)
    message = dsn('anne@example.org', status='5.1.1') + '\n' + padding
    _deliver('test-bounces@example.com', message)
    [item] = get_queue_messages('bounces', expected_count=1)
    kept = item.msgdata[RAW_KEY]
    assert len(kept) == MAX_INPUT_BYTES
    assert b'Final-Recipient: rfc822; anne@example.org' in kept
