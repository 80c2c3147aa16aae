"""Message tracking with DSN and MDN: a tracked post goes per recipient
with the ESMTP DSN parameters, and the DSNs and MDNs that come back over
LMTP are matched to its copies; only failures score."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mailman_bounces.tests.samples import mdn, tracking_dsn

MEMBERS = ['anne@example.org', 'bart@example.org', 'cris@example.org',
           'dave+lists@example.org', 'erin@example.org']
POST_ID = '<tracked-post@example.net>'


@pytest.fixture
def sink(mailman):
    """A DSN-capable SMTP sink standing in for the MTA, for this test."""
    from mailman.config import config

    from mailman_bounces.testing.smtp_sink import Sink
    controller = Sink(advertise_dsn=True).start()
    config.push('tracking sink', f"""
[mta]
smtp_port: {controller.port}
""")
    try:
        yield controller
    finally:
        config.pop('tracking sink')
        controller.stop()


def _list(mode: str, members=MEMBERS):
    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.tests.helpers import commit, make_list
    mlist = make_list(members=members)
    change_settings(mlist, {'tracking': mode})
    commit()
    return mlist


def _post(mlist, recipients=MEMBERS, message_id: str = POST_ID) -> dict:
    """Deliver a post through the plugin's outgoing delivery, as the
    outgoing runner does; the recipients refused."""
    from mailman.config import config
    from mailman.interfaces.mta import SomeRecipientsFailed
    from mailman.testing.helpers import specialized_message_from_string
    from mailman.utilities.modules import find_name

    from mailman_bounces.tests.helpers import commit
    msg = specialized_message_from_string(
        'From: cris@example.net\nTo: test@example.com\nSubject: Hello list\n'
        f'Message-ID: {message_id}\n\nHello.\n')
    try:
        find_name(config.mta.outgoing)(
            mlist, msg, {'recipients': list(recipients), 'to_list': True})
    except SomeRecipientsFailed as error:
        return {'temporary': error.temporary_failures,
                'permanent': error.permanent_failures}
    finally:
        commit()
    return {}


def _deliveries(mlist) -> dict:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.tracking import TrackedDelivery
    config.db.abort()
    return {row.email: row for row in config.db.store.execute(
        select(TrackedDelivery).where(
            TrackedDelivery.list_id == mlist.list_id)).scalars()}


def _xtext(address: str) -> str:
    # RFC 3461 4.2: '+' and '=' (and controls, space) as +XX, by hand.
    return address.replace('+', '+2B').replace('=', '+3D')


def _dsn_parameters(parameters: list[str]) -> list[str]:
    # smtplib adds SIZE= for a server advertising SIZE (RFC 1870).
    return [p for p in parameters if not p.lower().startswith('size=')]


# Setting.

@pytest.mark.parametrize('value', ['on', 'DSN', 'yes', 3, ''])
def test_a_bad_tracking_value_is_refused_with_field_and_reason(mailman,
                                                                value):
    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.policy.settings import SettingError
    from mailman_bounces.tests.helpers import make_list
    mlist = make_list()
    if value == '':
        # Empty resets to the site default, which is off.
        assert change_settings(mlist, {'tracking': value})['tracking'] \
            == 'off'
        return
    with pytest.raises(SettingError) as raised:
        change_settings(mlist, {'tracking': value})
    assert raised.value.field == 'tracking'
    assert raised.value.allowed == 'one of: off, dsn, mdn'


def test_defaults(mailman):
    from mailman_bounces.app.settings import get_settings
    from mailman_bounces.tests.helpers import make_list
    values = get_settings(make_list())
    assert values['tracking'] == 'off'
    assert values['tracking_retention'] == timedelta(days=90)


# Outgoing.

@pytest.mark.parametrize('mode', ['dsn', 'mdn'])
def test_a_tracked_post_goes_per_recipient_with_the_dsn_parameters(
        sink, mode):
    from email import message_from_bytes

    from mailman_bounces.app.signing import check_address
    mlist = _list(mode)
    assert _post(mlist) == {}
    received = sink.take()
    deliveries = _deliveries(mlist)
    # One transaction per recipient.
    assert sorted(r for m in received for r, _ in m.recipients) == sorted(
        MEMBERS)
    for message in received:
        [(recipient, rcpt_parameters)] = message.recipients
        delivery = deliveries[recipient]
        checked = check_address(mlist, message.mail_from)
        assert (checked.evidence, checked.kind, checked.ident,
                checked.email) == ('verified', 't', delivery.id, recipient)
        token = message.mail_from.partition('+')[2].partition('@')[0]
        assert _dsn_parameters(message.mail_parameters) == [
            'RET=HDRS', f'ENVID={token}']
        assert rcpt_parameters == ['NOTIFY=SUCCESS,FAILURE,DELAY',
                                   f'ORCPT=rfc822;{_xtext(recipient)}']
        copy = message_from_bytes(message.content)
        assert copy['X-Mailman-Bounces-Token'] == token
        if mode == 'mdn':
            # Unfolded (RFC 5322 2.2.3): the name and value are long.
            assert ''.join(copy['Disposition-Notification-To'].split()) \
                == message.mail_from
        else:
            assert copy['Disposition-Notification-To'] is None
        assert delivery.dsn_supported is True
        assert delivery.state == 'sent'
    assert _xtext('dave+lists@example.org') == 'dave+2Blists@example.org'


def test_without_dsn_at_the_relay_the_post_still_goes_and_says_so(sink):
    sink.advertise_dsn = False
    mlist = _list('dsn')
    assert _post(mlist) == {}
    received = sink.take()
    assert sorted(r for m in received for r, _ in m.recipients) == sorted(
        MEMBERS)
    for message in received:
        assert _dsn_parameters(message.mail_parameters) == []
        assert [p for _, p in message.recipients] == [[]]
        assert message.mail_from.startswith('test-bounces+')
    assert {email: row.dsn_supported
            for email, row in _deliveries(mlist).items()} == dict.fromkeys(
                MEMBERS, False)


def test_tracking_off_is_the_plain_bulk_delivery(sink):
    mlist = _list('off')
    _post(mlist)
    [message] = sink.take()
    assert message.mail_from == 'test-bounces@example.com'
    assert _deliveries(mlist) == {}


def test_a_recipient_refused_at_smtp_time_is_failed(sink):
    from mailman.testing.layers import SMTPLayer  # noqa: F401 - the layer is up
    mlist = _list('dsn', MEMBERS[:2])
    # The sink refuses bart with 550 5.1.1.
    sink.handler.refused = 'bart'
    failed = _post(mlist, MEMBERS[:2])
    assert [r for r, _, _ in failed['permanent']] == ['bart@example.org']
    rows = _deliveries(mlist)
    assert (rows['bart@example.org'].state, rows['bart@example.org'].status
            ) == ('failed', '550')
    assert 'no such user' in rows['bart@example.org'].diagnostic
    assert rows['anne@example.org'].state == 'sent'


# Incoming, over LMTP.

def _lmtp(recipient: str, message: str) -> None:
    from mailman.testing.helpers import get_lmtp_client
    client = get_lmtp_client(quiet=True)
    try:
        client.lhlo('remote.example.org')
        assert client.sendmail('MAILER-DAEMON@remote.example.org',
                               [recipient], message) == {}
    finally:
        client.quit()


def _run_bounce_runner_and_pass() -> None:
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.helpers import run_pass
    make_testable_runner(BounceRunner, 'bounces').run()
    run_pass()


def _senders(sink) -> dict[str, str]:
    """The signed return path of each recipient's copy."""
    return {recipient: message.mail_from for message in sink.take()
            for recipient, _ in message.recipients}


def _events(mlist) -> set:
    from mailman_bounces.tests.helpers import events
    return {(e.email, e.evidence, e.outcome) for e in events()}


def _reports() -> list:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.tracking import ReceivedReport
    return config.db.store.execute(
        select(ReceivedReport).order_by(ReceivedReport.id)).scalars().all()


def test_reports_over_lmtp_are_matched_and_only_failures_score(sink, lmtp):
    from mailman_bounces.tests.helpers import member
    mlist = _list('mdn')
    mlist.bounce_score_threshold = 5
    _post(mlist)
    sender = _senders(sink)
    anne, bart, cris, dave = MEMBERS[:4]
    # (envelope recipient, report): erin's copy gets no answer at all.
    reports = [
        (sender[anne], tracking_dsn(
            anne, 'delivered', '2.0.0', to=sender[anne],
            arrival='Mon, 01 Aug 2005 08:00:00 +0000')),
        (sender[anne], mdn(anne, 'displayed', to=sender[anne],
                           original_id=POST_ID,
                           date='Mon, 01 Aug 2005 09:30:00 +0000')),
        (sender[bart], tracking_dsn(
            bart, 'failed', '5.1.1', to=sender[bart],
            diagnostic='550 5.1.1 <bart@example.org>: nosuchuser',
            arrival='Mon, 01 Aug 2005 08:01:00 +0000')),
        (sender[cris], tracking_dsn(
            cris, 'delayed', '4.2.2', to=sender[cris],
            diagnostic='452 4.2.2 mailbox full, deferring',
            arrival='Mon, 01 Aug 2005 08:02:00 +0000')),
        (sender[dave], tracking_dsn(
            dave, 'relayed', '2.0.0', to=sender[dave],
            arrival='Mon, 01 Aug 2005 08:03:00 +0000')),
        (sender[dave], mdn(dave, 'deleted', to=sender[dave],
                           original_id=POST_ID)),
    ]
    for recipient, report in reports:
        _lmtp(recipient, report)
    _run_bounce_runner_and_pass()
    rows = _deliveries(mlist)
    assert {email: (row.state, row.state_at, row.disposition)
            for email, row in rows.items()} == {
        anne: ('delivered', datetime(2005, 8, 1, 8, 0), 'displayed'),
        bart: ('failed', datetime(2005, 8, 1, 8, 1), None),
        cris: ('delayed', datetime(2005, 8, 1, 8, 2), None),
        dave: ('relayed', datetime(2005, 8, 1, 8, 3), 'deleted'),
        'erin@example.org': ('sent', rows['erin@example.org'].sent_at,
                             None)}
    assert rows[anne].disposition_at == datetime(2005, 8, 1, 9, 30)
    assert (rows[bart].status, rows[bart].diagnostic) == (
        '5.1.1', '550 5.1.1 <bart@example.org>: nosuchuser')
    assert rows[cris].status == '4.2.2'
    # Every report record is kept, verified, with its copy.
    assert [(r.delivery_id, r.kind, r.value, r.evidence)
            for r in _reports()] == [
        (rows[anne].id, 'dsn', 'delivered', 'verified'),
        (rows[anne].id, 'mdn', 'displayed', 'verified'),
        (rows[bart].id, 'dsn', 'failed', 'verified'),
        (rows[cris].id, 'dsn', 'delayed', 'verified'),
        (rows[dave].id, 'dsn', 'relayed', 'verified'),
        (rows[dave].id, 'mdn', 'deleted', 'verified')]
    # Only bart's failure is a bounce, verified, and scores.
    assert {(email, evidence) for email, evidence, _ in _events(mlist)} \
        == {(bart, 'verified')}
    assert member(mlist, bart).bounce_score > 0
    for email in (anne, cris, dave):
        assert member(mlist, email).bounce_score == 0


def test_a_forged_token_changes_nothing(sink, lmtp):
    mlist = _list('dsn')
    _post(mlist)
    anne = MEMBERS[0]
    signed = _senders(sink)[anne]
    local, _, domain = signed.partition('@')
    forged = local[:-1] + ('a' if local[-1] != 'a' else 'b') + '@' + domain
    _lmtp(forged, tracking_dsn(anne, 'delivered', '2.0.0', to=forged))
    _lmtp(forged, tracking_dsn(anne, 'failed', '5.1.1', to=forged))
    _run_bounce_runner_and_pass()
    row = _deliveries(mlist)[anne]
    assert (row.state, row.status) == ('sent', None)
    assert [(r.delivery_id, r.value, r.evidence) for r in _reports()] == [
        (None, 'delivered', 'forged'), (None, 'failed', 'forged')]
    # The failure is recorded against anne as forged, never scored.
    assert _events(mlist) == {(anne, 'forged', 'forged')}


def test_the_envelope_id_names_the_copy_when_the_address_does_not(
        sink, lmtp):
    mlist = _list('dsn')
    _post(mlist)
    anne = MEMBERS[0]
    token = _senders(sink)[anne].partition('+')[2].partition('@')[0]
    _lmtp('test-bounces@example.com', tracking_dsn(
        anne, 'delivered', '2.0.0', envelope_id=token))
    _run_bounce_runner_and_pass()
    assert _deliveries(mlist)[anne].state == 'delivered'
    assert _events(mlist) == set()


def test_a_failure_in_other_words_is_still_a_bounce(sink, lmtp):
    mlist = _list('dsn')
    _post(mlist)
    anne, bart = MEMBERS[:2]
    sender = _senders(sink)
    # 'failure' is how some MTAs write RFC 3464's 'failed'.
    _lmtp(sender[anne], tracking_dsn(anne, 'failure', '5.1.1',
                                     to=sender[anne]))
    _run_bounce_runner_and_pass()
    assert _deliveries(mlist)[anne].state == 'failed'
    assert {(email, evidence) for email, evidence, _ in _events(mlist)} == {
        (anne, 'verified')}
    # A delivered record beside one whose action nobody knows is left to
    # the bounce engine (whatever it makes of it), not taken as a success.
    from mailman.testing.helpers import specialized_message_from_string

    from mailman_bounces.app.intake import intake
    text = tracking_dsn(bart, 'delivered', '2.0.0').replace(
        'Remote-MTA: dns; mx.remote.example.org\n',
        'Remote-MTA: dns; mx.remote.example.org\n\n'
        f'Final-Recipient: rfc822; {bart}\nAction: gone\n'
        'Status: 5.1.1\n', 1)
    found = intake(mlist, specialized_message_from_string(text), {})
    assert found.outcome != 'tracking'
    assert intake(mlist, specialized_message_from_string(
        tracking_dsn(bart, 'delivered', '2.0.0')), {}).outcome == 'tracking'


def test_a_report_fetched_from_a_bounce_mailbox_is_tracked(sink):
    from mailman_bounces.app.mailboxes.messages import examine
    from mailman_bounces.app.tracking import record_tracking
    from mailman_bounces.config.mailboxes import MailboxConfig
    from mailman_bounces.tests.helpers import commit
    mlist = _list('mdn')
    _post(mlist)
    anne = MEMBERS[0]
    signed = _senders(sink)[anne]
    box = MailboxConfig(name='box', host='localhost', user='bounces')
    # The mailbox finds the list (and the signed address) in To:.
    fetched = examine(box, '1', mdn(anne, 'displayed', to=signed).encode())
    assert (fetched.outcome, fetched.processed, fetched.registrations) == (
        'tracking', True, [])
    record_tracking(fetched.tracking)
    commit()
    assert _deliveries(mlist)[anne].disposition == 'displayed'


def test_success_dsns_and_mdns_at_the_plain_address_never_score(mailman,
                                                               lmtp):
    from mailman_bounces.tests.helpers import member
    mlist = _list('off')
    mlist.bounce_score_threshold = 1
    anne = MEMBERS[0]
    for report in (tracking_dsn(anne, 'delivered', '2.0.0'),
                   tracking_dsn(anne, 'relayed', '2.0.0'),
                   tracking_dsn(anne, 'expanded', '2.0.0'),
                   mdn(anne, 'displayed'), mdn(anne, 'deleted')):
        _lmtp('test-bounces@example.com', report)
    _run_bounce_runner_and_pass()
    assert _events(mlist) == set()
    assert member(mlist, anne).bounce_score == 0
    assert _reports() == []


def test_a_post_to_fifty_members(sink, lmtp):
    """Most copies delivered, one failed (nosuchuser), one deferring."""
    members = [f'reader{n:02d}@example.org' for n in range(50)]
    nosuchuser, deferring = members[13], members[31]
    mlist = _list('dsn', members)
    _post(mlist, members)
    sender = _senders(sink)
    assert sorted(sender) == members
    for email in members:
        if email == nosuchuser:
            report = tracking_dsn(email, 'failed', '5.1.1', to=sender[email],
                                  diagnostic='550 5.1.1 nosuchuser')
        elif email == deferring:
            report = tracking_dsn(email, 'delayed', '4.4.1',
                                  to=sender[email],
                                  diagnostic='451 4.4.1 try again later')
        else:
            report = tracking_dsn(email, 'delivered', '2.0.0',
                                  to=sender[email])
        _lmtp(sender[email], report)
    _run_bounce_runner_and_pass()
    states = {email: row.state for email, row in _deliveries(mlist).items()}
    expected = dict.fromkeys(members, 'delivered')
    expected[nosuchuser], expected[deferring] = 'failed', 'delayed'
    assert states == expected
    assert {email for email, _, _ in _events(mlist)} == {nosuchuser}


# REST, the command, retention.

def _queue_report(mlist, recipient: str, text: str) -> None:
    """Queue a report as the LMTP runner does (envelope kept)."""
    from mailman.config import config
    from mailman.testing.helpers import specialized_message_from_string
    config.switchboards['bounces'].enqueue(
        specialized_message_from_string(text), listid=mlist.list_id,
        envelope_recipients=[recipient.lower()])


def _tracked_world(sink):
    """Two tracked posts on the list; the second's copies: anne delivered
    and displayed, bart failed, cris delayed, dave relayed, erin nothing."""
    mlist = _list('mdn')
    _post(mlist, message_id='<first@example.net>')
    sink.take()
    _post(mlist, message_id=POST_ID)
    sender = _senders(sink)
    anne, bart, cris, dave = MEMBERS[:4]
    for recipient, text in [
            (anne, tracking_dsn(anne, 'delivered', '2.0.0', to=sender[anne])),
            (anne, mdn(anne, 'displayed', to=sender[anne])),
            (bart, tracking_dsn(bart, 'failed', '5.1.1', to=sender[bart])),
            (cris, tracking_dsn(cris, 'delayed', '4.2.2', to=sender[cris])),
            (dave, tracking_dsn(dave, 'relayed', '2.0.0', to=sender[dave]))]:
        _queue_report(mlist, sender[recipient], text)
    _run_bounce_runner_and_pass()
    return mlist


# What the second post's counts must be, from the reports above.
SECOND_COUNTS = {'recipients': 5, 'delivered': 1, 'relayed': 1,
                 'delayed': 1, 'failed': 1, 'displayed': 1, 'no_answer': 1}
FIRST_COUNTS = {'recipients': 5, 'delivered': 0, 'relayed': 0, 'delayed': 0,
                'failed': 0, 'displayed': 0, 'no_answer': 5}


def test_rest(sink, rest):
    from mailman_bounces.tests.test_rest_api import call, description, get
    _tracked_world(sink)
    posts = get('/lists/test.example.com/tracking')
    assert posts['total_size'] == 2
    # Newest first (same time: the later id first).
    second, first = posts['entries']
    assert second['message_id'] == POST_ID
    assert first['message_id'] == '<first@example.net>'
    assert {name: second[name] for name in SECOND_COUNTS} == SECOND_COUNTS
    assert {name: first[name] for name in FIRST_COUNTS} == FIRST_COUNTS
    assert (second['mode'], second['subject']) == ('mdn', 'Hello list')
    assert second['copies_link'].endswith(
        '/lists/test.example.com/tracking/tracked-post@example.net')
    copies = get('/lists/test.example.com/tracking/'
                 'tracked-post@example.net?count=2&page=2')
    assert (copies['total_size'], copies['start']) == (5, 2)
    # By address: anne, bart | cris, dave | erin.
    assert [(c['email'], c['state'], c['disposition'])
            for c in copies['entries']] == [
        ('cris@example.org', 'delayed', None),
        ('dave+lists@example.org', 'relayed', None)]
    everyone = get('/lists/test.example.com/tracking/'
                   'tracked-post%40example.net')
    assert {c['email']: (c['state'], c['status'], c['dsn_supported'])
            for c in everyone['entries']} == {
        'anne@example.org': ('delivered', '2.0.0', True),
        'bart@example.org': ('failed', '5.1.1', True),
        'cris@example.org': ('delayed', '4.2.2', True),
        'dave+lists@example.org': ('relayed', '2.0.0', True),
        'erin@example.org': ('sent', None, True)}
    for path, text in [
            ('/lists/test.example.com/tracking/nothing@example.net',
             'No such tracked post: nothing@example.net'),
            # Outside the BMP: MariaDB's utf8 columns refuse to compare
            # with it (a 500 before; found by schemathesis).
            ('/lists/test.example.com/tracking/%F2%89%B2%99',
             'No such tracked post: \U00089c99'),
            ('/lists/nolist.example.com/tracking',
             'No such list: nolist.example.com')]:
        response = call('GET', path)
        assert response.status_code == 404
        assert description(response) == text
    response = call('GET', '/lists/test.example.com/tracking?count=0')
    assert response.status_code == 400
    assert 'count' in description(response)


def test_the_command(sink):
    from click.testing import CliRunner

    from mailman_bounces.commands.cli_bounces import bounces
    _tracked_world(sink)
    result = CliRunner().invoke(bounces, ['tracking', '-l', 'test.example.com'])
    assert result.exit_code == 0, result.output
    header, second, first, total = result.output.splitlines()
    assert header.split() == ['SENT', 'MESSAGE-ID', 'RECIPIENTS',
                              'DELIVERED', 'RELAYED', 'DELAYED', 'FAILED',
                              'DISPLAYED', 'NO', 'ANSWER']
    assert second.split()[2:] == [POST_ID, *map(str, SECOND_COUNTS.values())]
    assert first.split()[2:] == ['<first@example.net>',
                                 *map(str, FIRST_COUNTS.values())]
    assert total == '2 of 2 tracked posts'
    result = CliRunner().invoke(
        bounces, ['tracking', '-l', 'test@example.com', POST_ID])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f'{POST_ID} (mdn), sent ')
    assert lines[0].endswith(
        ': recipients 5, delivered 1, relayed 1, delayed 1, failed 1, '
        'displayed 1, no answer 1')
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows['anne@example.org'][1] == 'delivered'
    assert rows['anne@example.org'][-2:] == ['displayed', 'yes']
    assert rows['bart@example.org'][1] == 'failed'
    assert rows['erin@example.org'][1:2] + rows['erin@example.org'][-3:] \
        == ['sent', '-', '-', 'yes']
    result = CliRunner().invoke(
        bounces, ['tracking', '-l', 'test.example.com', '<no@example.net>'])
    assert result.exit_code == 2
    assert 'No tracked post <no@example.net> on test.example.com' \
        in result.output


def _copies(mlist) -> int:
    from mailman.config import config
    from sqlalchemy import func, select

    from mailman_bounces.model.tracking import TrackedDelivery
    return config.db.store.execute(
        select(func.count()).select_from(TrackedDelivery).where(
            TrackedDelivery.list_id == mlist.list_id)).scalar_one()


def test_retention_evicts_posts_copies_and_reports_per_list(sink):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.retention import evict
    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.tests.helpers import commit, fast_forward, make_list
    mlist = _tracked_world(sink)
    other = make_list('other@example.com', members=MEMBERS[:2])
    change_settings(other, {'tracking': 'dsn', 'tracking_retention': '5d'})
    commit()
    _post(other, MEMBERS[:2], message_id='<other@example.net>')
    # 10 days on: past other's 5 days, within test's default 90.
    fast_forward(days=10)
    assert evict(now()).tracked == 1
    commit()
    assert _deliveries(other) == {}
    assert _copies(mlist) == 10
    assert len(_reports()) == 5
    # 91 days on: past the default too.
    fast_forward(days=81)
    assert evict(now()).tracked == 2
    commit()
    assert _deliveries(mlist) == {}
    assert _reports() == []


# Callbacks: each report stored against a tracked copy is one
# 'tracking.report' callback.

CALLBACK_SECRET = 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='


@pytest.fixture
def callbacks(sink):
    """Two site-wide receivers: one for tracking reports, one for bounce
    events only."""
    from mailman_bounces.config import load_site_config, set_site_config
    from mailman_bounces.tests.hooks_support import Receiver
    tracker, bouncer = Receiver(), Receiver()
    previous = set_site_config(load_site_config(f"""
[callback.tracker]
url: {tracker.url}
secret: {CALLBACK_SECRET}
events: tracking.report
[callback.bouncer]
url: {bouncer.url}
secret: {CALLBACK_SECRET}
events: bounce.registered complaint.registered member.disabled
"""))
    try:
        yield tracker, bouncer
    finally:
        set_site_config(previous)
        tracker.close()
        bouncer.close()


def _outbox() -> list:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.hooks import Callback
    config.db.store.expire_all()
    return list(config.db.store.execute(
        select(Callback).order_by(Callback.id)).scalars())


def _sent(receiver) -> list[tuple[str, dict]]:
    """(webhook id, data) of what `receiver` got, after sending what is
    due."""
    import json

    from mailman_bounces.app.callbacks import deliver_due
    deliver_due()
    return [(request['headers']['webhook-id'],
             json.loads(request['body'])) for request in receiver.received]


def test_a_dsn_and_an_mdn_are_one_callback_each(sink, callbacks, lmtp):
    tracker, bouncer = callbacks
    mlist = _list('mdn')
    _post(mlist)
    anne = MEMBERS[0]
    sender = _senders(sink)[anne]
    _lmtp(sender, tracking_dsn(anne, 'delivered', '2.0.0', to=sender,
                               arrival='Mon, 01 Aug 2005 08:00:00 +0000'))
    _lmtp(sender, mdn(anne, 'displayed', to=sender, original_id=POST_ID,
                      date='Mon, 01 Aug 2005 09:30:00 +0000'))
    _run_bounce_runner_and_pass()
    # Queued with the reports, for the tracking receiver only.
    rows = _outbox()
    assert [(r.event_type, r.endpoint, r.state) for r in rows] == [
        ('tracking.report', 'site:tracker', 'pending')] * 2
    reports = _reports()
    delivery = _deliveries(mlist)[anne]
    sent = _sent(tracker)
    assert [identifier for identifier, _ in sent] == [
        r.webhook_id for r in rows]
    assert len({identifier for identifier, _ in sent}) == 2
    assert [payload['type'] for _, payload in sent] == [
        'tracking.report'] * 2
    common = {'list_id': mlist.list_id, 'message_id': POST_ID,
              'email': anne, 'delivery_id': delivery.id}
    dsn_data, mdn_data = (payload['data'] for _, payload in sent)
    assert dsn_data == {
        **common, 'report_id': reports[0].id, 'kind': 'dsn',
        'value': 'delivered', 'status': '2.0.0', 'diagnostic': None,
        'reported': '2005-08-01T08:00:00',
        'received': reports[0].received.isoformat(),
        # The copy as this report left it: no read receipt yet.
        'state': 'delivered', 'state_at': '2005-08-01T08:00:00',
        'disposition': None}
    assert mdn_data == {
        **common, 'report_id': reports[1].id, 'kind': 'mdn',
        'value': 'displayed', 'status': None, 'diagnostic': None,
        'reported': '2005-08-01T09:30:00',
        'received': reports[1].received.isoformat(),
        'state': 'delivered', 'state_at': '2005-08-01T08:00:00',
        'disposition': 'displayed'}
    # Sent once; the bounce-only receiver got nothing.
    assert _sent(tracker) == sent
    assert bouncer.received == []


def test_a_report_received_twice_is_stored_and_sent_once(
        sink, callbacks, lmtp):
    """The same message received again (the MTA delivered it twice) is
    one report and one callback; a report the MTA sends again (a new
    message in the same words) is a new report, and a new callback."""
    from mailman_bounces.app.callbacks import enqueue
    from mailman_bounces.tests.helpers import commit
    tracker, _ = callbacks
    mlist = _list('dsn')
    _post(mlist)
    anne = MEMBERS[0]
    sender = _senders(sink)[anne]
    report = tracking_dsn(anne, 'delayed', '4.2.2', to=sender,
                          diagnostic='452 4.2.2 mailbox full')
    for _ in range(2):
        _lmtp(sender, report)
        _run_bounce_runner_and_pass()
    # Twice in one batch as well.
    _lmtp(sender, report)
    _lmtp(sender, report)
    _run_bounce_runner_and_pass()
    [first] = _reports()
    assert [payload['data']['report_id']
            for _, payload in _sent(tracker)] == [first.id]
    _lmtp(sender, tracking_dsn(anne, 'delayed', '4.2.2', to=sender,
                               diagnostic='452 4.2.2 mailbox full'))
    _run_bounce_runner_and_pass()
    first, second = _reports()
    sent = _sent(tracker)
    assert [payload['data']['report_id'] for _, payload in sent] == [
        first.id, second.id]
    assert sent[0][0] != sent[1][0]
    assert {(p['data']['value'], p['data']['status'], p['data']['state'])
            for _, p in sent} == {('delayed', '4.2.2', 'delayed')}
    # Queuing a stored report's callback again queues nothing.
    enqueue('tracking.report', f'report:{first.id}', mlist.list_id, {})
    commit()
    assert len(_outbox()) == 2
    assert len(_sent(tracker)) == 2


def test_a_forged_report_is_no_callback(sink, callbacks, lmtp):
    tracker, _ = callbacks
    mlist = _list('dsn')
    _post(mlist)
    anne = MEMBERS[0]
    local, _, domain = _senders(sink)[anne].partition('@')
    forged = local[:-1] + ('a' if local[-1] != 'a' else 'b') + '@' + domain
    _lmtp(forged, tracking_dsn(anne, 'delivered', '2.0.0', to=forged))
    _run_bounce_runner_and_pass()
    assert [r.evidence for r in _reports()] == ['forged']
    assert _outbox() == []
    assert _sent(tracker) == []


def test_a_failure_is_a_tracking_report_and_a_bounce(sink, callbacks, lmtp):
    """Each receiver gets what it asked for: the tracking one the report,
    the bounce-only one the bounce it also is."""
    tracker, bouncer = callbacks
    mlist = _list('dsn')
    _post(mlist)
    bart = MEMBERS[1]
    sender = _senders(sink)[bart]
    _lmtp(sender, tracking_dsn(bart, 'failed', '5.1.1', to=sender,
                               diagnostic='550 5.1.1 no such user'))
    _run_bounce_runner_and_pass()
    [(_, report)] = _sent(tracker)
    assert (report['type'], report['data']['email'], report['data']['value'],
            report['data']['status'], report['data']['diagnostic'],
            report['data']['state']) == (
        'tracking.report', bart, 'failed', '5.1.1',
        '550 5.1.1 no such user', 'failed')
    assert [(p['type'], p['data']['email']) for _, p in _sent(bouncer)] == [
        ('bounce.registered', bart)]
