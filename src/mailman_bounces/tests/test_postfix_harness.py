"""The private Postfix of ``mailman_bounces.testing.postfix``.

One message with DSN parameters (RFC 3461) goes through a real Postfix,
with plain smtplib, to a recipient of each kind; the DSNs (RFC 3464)
Postfix writes come back by LMTP to a stand-in for Mailman's LMTP runner
and are read with the email package.  A last test hands a real DSN to
Mailman's own LMTP runner.  Without Postfix (or root) the tests skip with
a note, unless MAILMAN_BOUNCES_REQUIRE names ``postfix``.
"""

from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime

import pytest

from mailman_bounces.testing import postfix as postfix_module
from mailman_bounces.testing.postfix import Postfix
from mailman_bounces.testing.smtp_sink import Received, Sink

SENDER = 'sender@example.com'


def _message(message_id: str) -> bytes:
    return (f'From: {SENDER}\r\nTo: list@example.com\r\n'
            f'Subject: harness {message_id}\r\n'
            f'Message-ID: <{message_id}@example.com>\r\n\r\n'
            'A post.\r\n').encode()


@pytest.fixture(scope='module')
def stand_in() -> Iterator[Sink]:
    """The stand-in for Mailman's LMTP runner: an LMTP server."""
    with Sink(lmtp=True) as sink:
        yield sink


@pytest.fixture(scope='module')
def postfix(stand_in: Sink) -> Iterator[Postfix]:
    postfix_module.skip_unless_available()
    with Postfix(lmtp_port=stand_in.port) as server:
        yield server


def _send(postfix: Postfix, envid: str, recipients: list[str],
          message_id: str) -> str:
    """Submit one message with RET=HDRS, `envid` and, for every
    recipient, NOTIFY=SUCCESS,FAILURE,DELAY and its ORCPT; its queue ID."""
    with smtplib.SMTP('127.0.0.1', postfix.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn('dsn')
        code, reply = smtp.mail(SENDER, ['RET=HDRS', f'ENVID={envid}'])
        assert code == 250, reply
        for address in recipients:
            code, reply = smtp.rcpt(address, [
                'NOTIFY=SUCCESS,FAILURE,DELAY', f'ORCPT=rfc822;{address}'])
            # Accepted: every outcome is reported later, by DSN.
            assert code == 250, (address, reply)
        code, reply = smtp.data(_message(message_id))
        assert code == 250, reply
    return reply.decode().rpartition(' ')[2]


def _report(received: Received) -> list[Message]:
    """The message/delivery-status fields of a DSN: the per-message group,
    then one group per recipient (RFC 3464 2.1)."""
    message = received.message
    assert message.get_content_type() == 'multipart/report'
    assert message.get_param('report-type') == 'delivery-status'
    [status] = [part for part in message.walk()
                if part.get_content_type() == 'message/delivery-status']
    return status.get_payload()


def _envid(envid: str):
    def match(received: Received) -> bool:
        return (received.message.get_content_type() == 'multipart/report'
                and _report(received)[0]['Original-Envelope-Id'] == envid)
    return match


def _outcomes(reports: list[Received]) -> dict[str, tuple[str, str]]:
    """Original recipient → (Action, Status), over all `reports`."""
    outcomes = {}
    for received in reports:
        for group in _report(received)[1:]:
            kind, _, address = group['Original-Recipient'].partition(';')
            assert kind.strip().lower() == 'rfc822'
            assert address.strip() not in outcomes
            outcomes[address.strip()] = (group['Action'], group['Status'])
    return outcomes


def test_a_dsn_for_each_outcome(postfix: Postfix, stand_in: Sink) -> None:
    sent = datetime.now(UTC)
    queue_id = _send(postfix, 'env123', ['anne@final.test', 'bart@example.org',
                              'nosuchuser@example.org',
                              'slowpoke@example.org'], 'outcomes')
    # Three reports: success (both successes in one), failure, delay.
    reports = stand_in.wait(3, 20, _envid('env123'))
    assert _outcomes(reports) == {
        'anne@final.test': ('delivered', '2.0.0'),
        'bart@example.org': ('relayed', '2.0.0'),
        'nosuchuser@example.org': ('failed', '5.1.1'),
        'slowpoke@example.org': ('delayed', '4.2.0'),
    }
    for received in reports:
        # To the envelope sender, from the null sender (RFC 3464 2, RFC
        # 5321 4.5.5), with the arrival date of our message.
        assert received.mail_from == '<>'
        assert received.rcpt_tos == [SENDER]
        fields = _report(received)[0]
        arrived = parsedate_to_datetime(fields['Arrival-Date'])
        assert abs(arrived - sent) < timedelta(minutes=1)
        # RET=HDRS: the headers come back, not the body (RFC 3462 / 3464).
        [returned] = [part for part in received.message.walk()
                      if part.get_content_type() == 'text/rfc822-headers']
        headers = returned.get_payload()
        assert 'Message-ID: <outcomes@example.com>' in headers
        assert 'A post.' not in headers
    # The relayed copy reached the sink with its envelope; the delivered
    # one the final domain's mailbox.
    [copy] = postfix.sink.wait(1, 5, lambda r: b'<outcomes@' in r.content)
    assert (copy.mail_from, copy.rcpt_tos) == (SENDER, ['bart@example.org'])
    assert copy.message['Subject'] == 'harness outcomes'
    [delivered] = [m for m in postfix.delivered()
                   if m['Message-ID'] == '<outcomes@example.com>']
    assert delivered['Delivered-To'] == 'anne@final.test'
    # The sink refused and deferred at RCPT time.
    assert ('nosuchuser@example.org', 550) in postfix.sink.handler.attempts
    assert ('slowpoke@example.org', 450) in postfix.sink.handler.attempts
    [delay] = [r.message for r in reports
               if _report(r)[1]['Action'] == 'delayed']
    assert re.search(r'for more than\s+1 second\(s\)',
                     delay.get_payload(0).get_payload())
    # Only the message with the deferred recipient stays in the queue (the
    # DSNs are removed once delivered, a moment after).
    deadline = time.monotonic() + 10
    while postfix.queued() != [queue_id] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert postfix.queued() == [queue_id]
    # The configuration is complete: Postfix complained of nothing.
    assert not re.search(r'(warning|error|fatal|panic):', postfix.log()), (
        postfix.log())


def test_the_final_domain_refuses_and_defers_too(
        postfix: Postfix, stand_in: Sink) -> None:
    _send(postfix, 'env-final', ['nosuchuser@final.test',
                                 'slowpoke@final.test'], 'final')
    reports = stand_in.wait(2, 20, _envid('env-final'))
    assert _outcomes(reports) == {
        'nosuchuser@final.test': ('failed', '5.1.1'),
        'slowpoke@final.test': ('delayed', '4.2.0'),
    }


def test_mail_for_the_list_domain_goes_to_lmtp(
        postfix: Postfix, stand_in: Sink) -> None:
    with smtplib.SMTP('127.0.0.1', postfix.port, timeout=10) as smtp:
        smtp.sendmail('someone@example.org',
                      ['test-bounces@example.com', 'x@lists.example.com'],
                      _message('to-lmtp'))
    # Both go to one next hop, so Postfix may hand them over in one LMTP
    # transaction or two: its log says when both are done.
    for address in ('test-bounces@example.com', 'x@lists.example.com'):
        postfix.wait_for_log(
            rf'to=<{re.escape(address)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:'
            rf'{stand_in.port},.* status=sent')
    copies = [r for r in stand_in.received if b'<to-lmtp@' in r.content]
    assert sorted(a for r in copies for a in r.rcpt_tos) == [
        'test-bounces@example.com', 'x@lists.example.com']
    assert {r.mail_from for r in copies} == {'someone@example.org'}


def test_missing_postfix_skips_with_a_note(monkeypatch) -> None:
    monkeypatch.setattr(postfix_module, 'POSTFIX', '/nonexistent/postfix')
    assert 'postfix is not installed' in postfix_module.unavailable()
    assert 'postfix/main_mailer_type select No configuration' in (
        postfix_module.unavailable())
    with pytest.raises(pytest.skip.Exception, match='Postfix tests skipped'):
        postfix_module.skip_unless_available(
            {'MAILMAN_BOUNCES_REQUIRE': 'dovecot,chromium'})


def test_missing_postfix_fails_when_required(monkeypatch) -> None:
    monkeypatch.setattr(postfix_module, 'POSTFIX', '/nonexistent/postfix')
    with pytest.raises(pytest.fail.Exception,
                       match='which MAILMAN_BOUNCES_REQUIRE requires'):
        postfix_module.skip_unless_available(
            {'MAILMAN_BOUNCES_REQUIRE': 'dovecot, postfix'})


def test_a_real_dsn_reaches_mailmans_lmtp_runner(lmtp) -> None:
    # The harness next to Mailman's real LMTP runner: under Mailman's umask
    # (007), with its master reaping children.  The failure DSN Postfix
    # writes for a post of the list becomes the member's bounce event.
    postfix_module.skip_unless_available()
    from mailman.config import config

    from mailman_bounces.tests.helpers import events, make_list
    make_list('test@example.com', members=('nosuchuser@example.org',))
    with Postfix(lmtp_port=int(config.mta.lmtp_port)) as server:
        with smtplib.SMTP('127.0.0.1', server.port, timeout=10) as smtp:
            smtp.sendmail('test-bounces@example.com',
                          ['nosuchuser@example.org'], _message('post'),
                          mail_options=['ENVID=post-1'],
                          rcpt_options=['NOTIFY=FAILURE'])
        server.wait_for_log(r'to=<test-bounces@example\.com>, relay=.*'
                            rf':{config.mta.lmtp_port},.* status=sent')
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    make_testable_runner(BounceRunner, 'bounces').run()
    [event] = events()
    assert (event.email, event.list_id, event.status) == (
        'nosuchuser@example.org', 'test.example.com', '5.1.1')
