"""Hand-written samples, one or more per format module added for the text
layouts of named MTAs and providers, proving each parser reads the layout and
not the corpus file it was written from: other addresses, hosts, codes and
causes than the corpus has.
"""

from __future__ import annotations

import pytest

from mailman_bounces.detect import detect

POSTFIX_TEXT = """\
From: MAILER-DAEMON@out.lists.example.org (Mail Delivery System)
To: devel-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host out.lists.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<ana@mail.example.com>: host mx2.mail.example.com[198.51.100.23] said: 552
    5.2.2 <ana@mail.example.com>: Mailbox quota exceeded (in reply to RCPT TO
    command)

<bert@example.net> (expanded from <bert.old@example.net>): host
    in.example.net[203.0.113.8] said: 550 5.1.1 <bert@example.net>: Recipient
    address rejected: User unknown in local recipient table (in reply to RCPT
    TO command)

--b1
Content-Type: message/rfc822

From: devel@lists.example.org
To: devel@lists.example.org
Subject: [Devel] release plan

--b1--
"""

POSTFIX_NO_REPORT = """\
From: MAILER-DAEMON@relay.example.org (Mail Delivery System)
To: devel-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2"

--b2
Content-Type: text/plain

This is the mail system at host relay.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

\t--- Delivery report unavailable ---

--b2
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org
X-Postfix-Queue-ID: 9F1E2C3D4

--b2
Content-Type: message/rfc822

From: devel@lists.example.org
To: carla@members.example.com
Subject: [Devel] hello

--b2--
"""

OPENSMTPD_ERROR = """\
From: Mailer Daemon <MAILER-DAEMON@smtpd.example.org>
To: devel-bounces@lists.example.org
Subject: Delivery status notification: error

    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

    An error has occurred while attempting to deliver a message for
    the following list of recipients:

dora@shop.example.com: 550 5.7.1 Message rejected as spam by content filter

    Below is a copy of the original message:

From: devel@lists.example.org
To: dora@shop.example.com
"""

OPENSMTPD_DELAY = """\
From: Mailer Daemon <MAILER-DAEMON@smtpd.example.org>
To: devel-bounces@lists.example.org
Subject: Delivery status notification: warning

    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

    A message is delayed for more than 4 hours for the following
    list of recipients:

egon@far.example.net: Connection refused

    Please note that this is only a temporary failure report.

    Below is a copy of the original message:
"""

EXCHANGE_TEXT = """\
From: postmaster@corp.example.com
To: devel-bounces@lists.example.org
Subject: Undeliverable: [Devel] agenda
Content-Type: text/plain; charset=utf-8

Delivery has failed to these recipients or groups:

fritz@corp.example.com<mailto:fritz@corp.example.com>
The recipient's mailbox is full and can't accept messages now.

Diagnostic information for administrators:

Generating server: EX01.corp.example.com

fritz@corp.example.com
#552 5.2.2 STOREDRV.Deliver; recipient mailbox is full ##

Original message headers:

From: devel@lists.example.org
"""

IMAIL = """\
From: "Postmaster" <postmaster@mail.example.biz>
To: <devel-bounces@lists.example.org>
Subject: Undeliverable Mail
X-Mailer: <SMTP32 v12.5>

Unknown user: greta@example.biz


Original message follows.

From: devel@lists.example.org
To: greta@example.biz
"""

MAILFOUNDRY = """\
From: MAILER-DAEMON@gw.example.com
To: devel-bounces@lists.example.org
Subject: Message delivery has failed

Unable to deliver message to: <hugo@example.com>
Delivery failed for the following reason:
Server in.example.com[192.0.2.77] failed with: 554 5.7.1 Rejected: listed at zen.spamhaus.org

This has been a permanent failure.  No further delivery attempts will be made.
"""

MIMECAST = """\
From: "postmaster" <postmaster@corp.example.org>
To: devel-bounces@lists.example.org
Subject: [Postmaster] Email Delivery Failure

This is an automated alert notification. Please do not reply.

An email that you attempted to send to the following address could not be delivered:
-- ida@corp.example.org

The problem appears to be :
-- Recipient mailbox is full

Additional information follows :
-- 552 5.2.2 Mailbox full

This condition occurred after 3 attempt(s) to deliver over
a period of 1 hour(s).
"""

INTERSCAN = """\
From: postmaster@example.co ("InterScan Notification")
To: devel-bounces@lists.example.org
Subject: Mail could not be delivered

*************************************************************

Message from InterScan Messaging Security Suite

Sent <<< RCPT TO:<jonas@example.co>
Received >>> 550 5.1.1 <jonas@example.co>... No such mailbox

*************************************************************
"""

BIGLOBE = """\
From: postmaster@biglobe.ne.jp
To: devel-bounces@lists.example.org
Subject: Returned mail: Service unavailable

   ----- The following addresses had delivery problems -----
kaito@example.ne.jp

   ----- Non-delivered information -----
User unknown.

"""

VERIZON = """\
From: MMSC NDR Administrator <sysadmin@mms.vzwpix.com>
To: devel-bounces@lists.example.org
Subject: Undeliverable Message

Message could not be delivered to mobile.
Error: Message size exceeds the maximum allowed for this device


Original Message:
From: devel@lists.example.org
To: 5550001234@vzwpix.com
Subject: photo
"""

HAD_DELIVERY_ERRORS = """\
From: "Mail Deliver System" <MAILER-DAEMON@relay.example.jp>
To: devel-bounces@lists.example.org
Subject: Returned Mail: Mailbox full

The original message was received at Mon, 4 Mar 2024 10:00:00 +0900 (JST)
from devel-bounces@lists.example.org

---The following addresses had delivery errors---

lena@example.jp [Mailbox full]

"""

UNABLE_TO_DELIVER_QMAILISH = """\
From: MAILER-DAEMON@mx.example.com
To: devel-bounces@lists.example.org
Subject: failed delivery

Message from  mx.example.com.
Unable to deliver message to the following address(es).

<milo@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Original message follows.

From: devel@lists.example.org
"""

UNABLE_TO_DELIVER_NOTICE = """\
From: postmaster@gw.example.jp
To: devel-bounces@lists.example.org
Subject: Delivery failure

NOTICE: Delivery Failure.

Your delivery to the following address has been failed.
Please refer to the below for details.
------------------------------------------------------

Delivery failed: nora@example.jp
203.0.113.9 does not like recipient.
Remote host said[Response Message]: 550 5.1.1 <nora@example.jp>: Recipient address rejected: User unknown
STEP: RCPT SEND
"""

TECHNICAL_DETAILS_EXPIRED = """\
From: Mail Delivery System <Mail.Delivery.System@mx.example.com>
To: devel-bounces@lists.example.org
Subject: Delivery status notification

============================================================================
      This is an automatically generated Delivery Status Notification.

Delivery to the following recipients was aborted after 48.0 hour(s):

  * otto@example.org


============================================================================
                             Technical details:

SMTP:RCPT host 192.0.2.31: 421 4.4.2 Connection dropped


============================================================================
"""

COULD_NOT_BE_DELIVERED = """\
From: MAILER-DAEMON@smtp.example.net
To: devel-bounces@lists.example.org
Subject: failure notice

Your mail message to the following address(es) could not be delivered. This
is a permanent error. Please verify the addresses and try again.

<paula@example.net>:
No mailbox by that name here. (#5.1.1)

--- Below this line is a copy of the message.
"""

TROUBLE_DELIVERING = """\
From: mailer-daemon
To: devel-bounces@lists.example.org
Subject: There was an error sending your mail

We had trouble delivering your message. Full details follow:

Subject: 'minutes'
Date: 'Tue, 5 Mar 2024 08:00:00 +0000'

2 error(s):

SMTP Server <mx.example.org> rejected recipient <quinn@example.org> (Error following RCPT command). It responded as follows: [552 5.2.2 Mailbox over quota]
The following recipients returned permanent errors: rosa@example.com, sven@example.com. Reason: SMTP Server <192.0.2.5> refused to accept your message (DATA), with the following error message: [554 5.7.1 Message rejected as spam]
"""

ZOHO = """\
From: mailer-daemon@mail.zoho.com
To: devel-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
X-Mailer: Zoho Mail

This message was created automatically by mail delivery software.
A message that you sent could not be delivered to one or more of its recipients. This is a permanent error.

tina@example.org Invalid Address, ERROR_CODE :552, ERROR_CODE :5.2.2 <tina@example.org>... Mailbox Full
uwe@example.net Error, ERROR_CODE :451, ERROR_CODE :, Temporary local problem.
"""

GMAIL_NOTICE = """\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: devel-bounces@lists.example.org
Subject: Delivery Status Notification (Failure)
X-Failed-Recipients: vera@example.com
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="g1"

--g1
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to vera@example.com because the address couldn't be found, or is unable to receive mail.

The response from the remote server was:
550 5.1.1 <vera@example.com>: Recipient address rejected: User unknown

--g1
Content-Type: message/delivery-status


--g1--
"""

SENDMAIL_V5 = """\
From: Mail Delivery Subsystem <MAILER-DAEMON@old.example.edu>
To: devel-bounces@lists.example.org
Subject: Returned mail: Cannot send message for 5 days

   ----- Transcript of session follows -----
421 example.edu (smtp)... Deferred: Connection timed out with mx.example.edu

   ----- Unsent message follows -----
From: devel@lists.example.org
To: walt@example.edu
Subject: digest
"""

# (sample, detector, kind, [(address, status class, reason, severity), ...])
SAMPLES = {
    'postfix-text': (POSTFIX_TEXT, 'postfix', 'bounce', [
        ('ana@mail.example.com', '5', 'mailboxfull', 'soft'),
        ('bert@example.net', '5', 'userunknown', 'hard')]),
    'postfix-no-report': (POSTFIX_NO_REPORT, 'postfix', 'bounce', [
        ('carla@members.example.com', '5', 'undefined', 'soft')]),
    'opensmtpd-error': (OPENSMTPD_ERROR, 'opensmtpd', 'bounce', [
        ('dora@shop.example.com', '5', 'spamdetected', 'soft')]),
    'opensmtpd-delay': (OPENSMTPD_DELAY, 'opensmtpd', 'delay', [
        ('egon@far.example.net', '4', 'networkerror', 'soft')]),
    'exchange-text': (EXCHANGE_TEXT, 'office365', 'bounce', [
        ('fritz@corp.example.com', '5', 'mailboxfull', 'soft')]),
    'imailserver': (IMAIL, 'imailserver', 'bounce', [('greta@example.biz', '5', 'userunknown', 'hard')]),
    'mailfoundry': (MAILFOUNDRY, 'mailfoundry', 'bounce', [('hugo@example.com', '5', 'blocked', 'soft')]),
    'mimecast': (MIMECAST, 'mimecast', 'bounce', [('ida@corp.example.org', '5', 'mailboxfull', 'soft')]),
    'trendmicro': (INTERSCAN, 'trendmicro', 'bounce', [('jonas@example.co', '5', 'userunknown', 'hard')]),
    'biglobe': (BIGLOBE, 'biglobe', 'bounce', [('kaito@example.ne.jp', '5', 'userunknown', 'hard')]),
    'verizon': (VERIZON, 'verizon', 'bounce', [('5550001234@vzwpix.com', '5', 'mesgtoobig', 'soft')]),
    'had_delivery_errors': (HAD_DELIVERY_ERRORS, 'had_delivery_errors', 'bounce', [('lena@example.jp', '5', 'mailboxfull', 'soft')]),
    'unable_to_deliver-qmail-like': (UNABLE_TO_DELIVER_QMAILISH, 'unable_to_deliver', 'bounce', [('milo@example.com', '5', 'userunknown', 'hard')]),
    'unable_to_deliver-notice': (UNABLE_TO_DELIVER_NOTICE, 'unable_to_deliver', 'bounce', [('nora@example.jp', '5', 'userunknown', 'hard')]),
    # Gave up after a temporary answer: a bounce, the last answer's class kept.
    'technical_details-expired': (TECHNICAL_DETAILS_EXPIRED, 'technical_details', 'bounce', [('otto@example.org', '4', 'expired', 'soft')]),
    'could_not_be_delivered': (COULD_NOT_BE_DELIVERED, 'could_not_be_delivered', 'bounce', [('paula@example.net', '5', 'userunknown', 'hard')]),
    'trouble_delivering': (TROUBLE_DELIVERING, 'trouble_delivering', 'bounce', [
        ('quinn@example.org', '5', 'mailboxfull', 'soft'),
        ('rosa@example.com', '5', 'spamdetected', 'soft'),
        ('sven@example.com', '5', 'spamdetected', 'soft')]),
    'zoho': (ZOHO, 'zoho', 'bounce', [
        ('tina@example.org', '5', 'mailboxfull', 'soft'),
        ('uwe@example.net', '4', 'expired', 'soft')]),
    'gmail-notice': (GMAIL_NOTICE, 'gmail', 'bounce', [('vera@example.com', '5', 'userunknown', 'hard')]),
    'sendmail-v5-host-only': (SENDMAIL_V5, 'sendmail', 'delay', [('walt@example.edu', '4', 'expired', 'soft')]),
}


@pytest.mark.parametrize('name', sorted(SAMPLES))
def test_format_sample(name: str) -> None:
    raw, detector, kind, expected = SAMPLES[name]
    report = detect(raw)
    assert report.detector == detector
    assert report.kind.value == kind
    got = [(r.address, (r.status or '')[:1] or None, r.reason, r.severity.value) for r in report.recipients]
    assert sorted(got) == sorted(expected)


def test_postfix_text_keeps_alias_remote_and_command() -> None:
    bert = next(r for r in detect(POSTFIX_TEXT).recipients if r.address == 'bert@example.net')
    assert bert.original == 'bert.old@example.net'
    assert bert.remote_mta == 'in.example.net'
    assert bert.reply_code == '550'
    assert bert.status == '5.1.1'


def test_exchange_text_prefers_the_administrators_answer() -> None:
    (fritz,) = detect(EXCHANGE_TEXT).recipients
    assert fritz.diagnostic == '552 5.2.2 STOREDRV.Deliver; recipient mailbox is full'
    assert fritz.status == '5.2.2'


def test_x6_records_the_remote_server() -> None:
    quinn = next(r for r in detect(TROUBLE_DELIVERING).recipients if r.address == 'quinn@example.org')
    assert quinn.remote_mta == 'mx.example.org'


def _dsn(headers: str, opening: str, recipient: str = 'xavier@example.net',
         diagnostic: str = 'smtp; 550 5.1.1 <xavier@example.net>... User unknown') -> str:
    """A standard DSN with the given top-level *headers* and text-part *opening*."""
    return f"""\
{headers}
To: devel-bounces@lists.example.org
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="d1"

--d1
Content-Type: text/plain; charset=utf-8

{opening}

--d1
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: {diagnostic}

--d1--
"""


# sender module -> (top-level headers, opening of the text part)
DSN_SENDERS = {
    'amavis': ('From: "Content-filter at gate.example.org" <postmaster@gate.example.org>\nSubject: Undeliverable mail',
               'The message WAS NOT relayed to:\n<xavier@example.net>: 550 5.1.1 User unknown'),
    'amazonses': ('From: MAILER-DAEMON@eu-west-1.amazonses.com\nSubject: Delivery Status Notification (Failure)',
                  'An error occurred while trying to deliver the mail to the following recipients:'),
    'amazonworkmail': (('From: MAILER-DAEMON@eu-west-1.amazonses.com\nX-Mailer: Amazon WorkMail\n'
                       'Subject: Delivery Status Notification (Failure)'),
                       'An error occurred while trying to deliver the mail to the following recipients:'),
    'aol': ('From: Mail Delivery System <MAILER-DAEMON@aol.com>\nSubject: Undelivered Mail Returned to Sender',
            'This is the mail system at host omr-x1.mx.aol.com.'),
    'au': ('From: Mail Administrator <Postmaster@ezweb.ne.jp>\nSubject: Mail System Error - Returned Mail',
           'The user(s) account is disabled.'),
    'barracuda': ('From: MAILER-DAEMON\nSubject: **Message you sent blocked by our bulk email filter**',
                  'Your message to: xavier@example.net\nwas blocked by our Spam Firewall.'),
    'courier': ('From: postmaster@mail.example.net\nSubject: NOTICE: mail delivery status.',
                ('This is a delivery status notification from mail.example.net,\n'
                'running the Courier mail server, version 1.1.')),
    'exchange2007': ('From: postmaster@example.net\nSubject: Undeliverable: minutes',
                     'Delivery has failed to these recipients or distribution lists:\n\nxavier@example.net'),
    'exim': ('From: Mail Delivery System <Mailer-Daemon@relay.example.net>\nSubject: Mail delivery failed',
             'This message was created automatically by mail delivery software.'),
    'facebook': ('From: Mail Delivery Subsystem <mailer-daemon@mx.facebook.com>\nSubject: Delivery failure',
                 'This message was created automatically by Facebook.'),
    'gmail': (('From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n'
              'Subject: Delivery Status Notification (Failure)'), '** Address not found **'),
    'mcafee': ('From: <mailer-daemon@gw.example.net>\nSubject: Delivery Status',
               '--- The following addresses had delivery problems ---\n<xavier@example.net>   (User unknown)'),
    'messagelabs': ('From: MAILER-DAEMON@messagelabs.com\nSubject: Mail Delivery Failure',
                    'This is the mail delivery agent at Symantec Email Security.cloud.'),
    'messagingserver': ('From: postmaster@ms.example.net\nSubject: Delivery Notification: Delivery has failed',
                        'This report relates to a message you sent with the following header fields:'),
    'office365': (('From: postmaster@contoso.onmicrosoft.com\nSubject: Undeliverable: minutes\n'
                  'Message-ID: <abc123@AM0PR01MB1234.eurprd01.prod.outlook.com>'),
                  'Delivery has failed to these recipients or groups:\n\nxavier@example.net'),
    'opensmtpd': (('From: Mailer Daemon <MAILER-DAEMON@smtpd.example.org>\n'
                  'Subject: Delivery status notification: failed'),
                  '    This is the MAILER-DAEMON, please DO NOT REPLY to this email.'),
    'outlook': ('From: postmaster@mail.hotmail.com\nSubject: Delivery Status Notification (Failure)',
                'This is an automatically generated Delivery Status Notification.'),
    'postfix': (('From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n'
                'Subject: Undelivered Mail Returned to Sender'),
                'This is the mail system at host mx.example.org.'),
    'powermta': ('From: postmaster@mta9.example.com\nSubject: Delivery report',
                 ('Hello, this is the mail server on mta9.example.com.\n\nI am sending you this message to '
                 'inform you on the delivery status of a\nmessage you previously sent.')),
    'sendgrid': ('From: MAILER-DAEMON@o1.example.com\nSubject: Undelivered Mail Returned to Sender',
                 'This is an automatically generated message from SendGrid.'),
    'sendmail': (('From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.edu>\n'
                 'Subject: Returned mail: see transcript for details'),
                 ('The original message was received at Fri, 1 Mar 2024 09:00:00 GMT\n\n'
                 '   ----- The following addresses had permanent fatal errors -----\n<xavier@example.net>')),
    'surfcontrol': ('From: <>\nX-Mailer: SurfControl E-mail Filter\nSubject: Returned mail',
                    'Your message could not be sent.'),
    'yandex': ('From: mailer-daemon@yandex.ru\nSubject: Undelivered message',
               'This message was sent by the yandex.ru mail server.'),
}


@pytest.mark.parametrize('sender', sorted(DSN_SENDERS))
def test_dsn_sender_is_named(sender: str) -> None:
    headers, opening = DSN_SENDERS[sender]
    report = detect(_dsn(headers, opening))
    assert report.detector == f'rfc3464/{sender}'
    assert report.addresses == ['xavier@example.net']
    assert report.recipients[0].reason == 'userunknown'


def test_dsn_from_an_unknown_sender_is_plain_rfc3464() -> None:
    report = detect(_dsn('From: MAILER-DAEMON@box.example.org\nSubject: failure', 'Delivery failed.'))
    assert report.detector == 'rfc3464'
