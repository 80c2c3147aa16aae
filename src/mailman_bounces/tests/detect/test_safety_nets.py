"""The rules that keep a bounce from being lost or misread when formats fall short.

* no format recognises the message: flufl.bounce (Mailman core's detector)
  is asked, and the detector is recorded;
* a delivery failure naming no usable address is still a bounce;
* AOL names its members by screen name;
* a message from nobody saying the address does not exist is a bounce even
  when it says ``Auto-Submitted: auto-replied``;
* a notice that says delivery will be retried is a delay, whatever the class
  digit, and one that says the sender gave up is a failure.
"""

from __future__ import annotations

import os

from mailman_bounces.detect import Kind, Severity, detect

FLUFL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'flufl')


def _flufl(name: str) -> bytes:
    with open(os.path.join(FLUFL, name), 'rb') as handle:
        return handle.read()


def test_flufl_bounce_answers_when_no_format_does() -> None:
    # Sina's notice: no format of the engine reads its bare "<address>:" lines
    # under "sina.com."; it names two addresses and says nothing about why.
    report = detect(_flufl('sina_01.txt'))
    assert report.kind is Kind.bounce
    assert sorted(report.addresses) == ['userx@sina.com', 'usery@sina.com']
    assert {r.detector for r in report.recipients} == {'flufl.bounce'}
    # No status, no wording: undefined (weighted as such), class 5 because
    # flufl.bounce reports the failures as permanent.
    assert {(r.reason, r.status, r.severity) for r in report.recipients} == {
        ('undefined', '5.0.0', Severity.soft)}


def test_flufl_bounce_addresses_are_classified_from_the_text() -> None:
    # simple_35: a warning ("will continue to attempt delivery") about a full
    # mailbox; flufl.bounce reports calvin@ as a temporary failure.
    report = detect(_flufl('simple_35.txt'))
    [recipient] = report.recipients
    assert (recipient.address, recipient.detector) == ('calvin@example.com', 'flufl.bounce')
    assert report.kind is Kind.delay
    assert recipient.reason == 'mailboxfull'


def test_exchange_smtp_equals_prefix_is_not_part_of_the_address() -> None:
    # Exchange lists recipients as "SMTP=userx@example.COM".
    assert detect(_flufl('microsoft_01.txt')).addresses == ['userx@example.com']


ANONYMOUS = b"""\
From: System Administrator <postmaster@example.net>
To: list-bounces@example.com
Subject: Undeliverable: hello
MIME-Version: 1.0
Content-Type: text/plain

Your message

did not reach the following recipient(s):

Anne Person on Fri, 14 Sep 2007 18:52:54 +0300
"""


def test_a_failure_naming_only_a_display_name_is_a_bounce() -> None:
    report = detect(ANONYMOUS)
    assert (report.kind, report.recipients, report.detector) == (Kind.bounce, [], 'generic')


def test_a_notice_that_states_no_failure_is_not_a_bounce() -> None:
    # From a postmaster, but it says nothing failed.
    text = ANONYMOUS.replace(b'did not reach the following recipient(s):', b'was read by:')
    text = text.replace(b'Undeliverable: hello', b'Read: hello')
    assert detect(text).kind is Kind.none


AOL = b"""\
From: "Mail Delivery Subsystem" <MAILER-DAEMON@AOL.com>
To: <test-bounces@example.com>
Subject: Mail Delivery Problem
Content-Type: text/plain

Your mail to the following recipients could not be delivered because they are not accepting mail from test@example.com:
\tscreenname
\tanne@example.org

"""


def test_aol_screen_names_are_aol_mailboxes() -> None:
    report = detect(AOL)
    assert report.detector == 'aol'
    assert report.addresses == ['screenname@aol.com', 'anne@example.org']
    # The recipient's own block list refuses the sender.
    assert {r.reason for r in report.recipients} == {'filtered'}


AUTO_REPLIED_FAILURE = b"""\
From: <>
To: test-bounces+anne=example.org@example.com
Subject: Re: [Test] hello
Auto-Submitted: auto-replied

<anne@example.org>: That's not a valid user here.
"""


def test_text_of_a_failure_wins_over_auto_submitted() -> None:
    report = detect(AUTO_REPLIED_FAILURE)
    assert report.kind is Kind.bounce
    [recipient] = report.recipients
    assert (recipient.address, recipient.reason, recipient.severity) == (
        'anne@example.org', 'userunknown', Severity.hard)


def test_a_real_auto_reply_stays_an_auto_reply() -> None:
    text = AUTO_REPLIED_FAILURE.replace(b'From: <>', b'From: Anne <anne@example.org>')
    text = text.replace(b"<anne@example.org>: That's not a valid user here.", b'I am away until Monday.')
    assert detect(text).kind is Kind.autoreply


WILL_RETRY = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: test-bounces@example.com
Subject: Delivery Status Notification (Delay)
Content-Type: text/plain

There was a temporary problem delivering your message to anne@example.org:
  552 5.2.2 The recipient's mailbox is full.
The server will retry for 47 more hours.
"""


def test_will_retry_is_a_delay_and_keeps_its_status_and_reason() -> None:
    report = detect(WILL_RETRY)
    assert report.kind is Kind.delay
    [recipient] = report.recipients
    assert (recipient.action, recipient.status, recipient.reason) == ('delayed', '5.2.2', 'mailboxfull')


GAVE_UP = b"""\
From: MAILER-DAEMON@mx.example.net
To: test-bounces@example.com
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<anne@example.org>:
Connection refused. (#4.4.1)
I'm not going to try again; this message has been in the queue too long.
"""


def test_given_up_after_a_temporary_answer_is_a_bounce() -> None:
    report = detect(GAVE_UP)
    assert report.kind is Kind.bounce
    [recipient] = report.recipients
    assert (recipient.action, recipient.status) == ('failed', '4.4.1')
