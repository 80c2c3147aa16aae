"""Hand-written bounces (not from the corpus) proving the parsers generalise.

Each sample follows the real layout of its MTA or provider with fresh addresses,
hosts and wording variations.
"""

from __future__ import annotations

import json

from mailman_bounces.detect import Kind, Severity, detect

POSTFIX = """\
Return-Path: <>
From: MAILER-DAEMON@smtp.lists.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: team-bounces@lists.example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4C2A81E0D1.1700000000/smtp.lists.example.org"

This is a MIME-encapsulated message.

--4C2A81E0D1.1700000000/smtp.lists.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host smtp.lists.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<carol@shop.example.net>: host mx1.shop.example.net[198.51.100.7] said: 550
    5.1.1 <carol@shop.example.net>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

<dave@full.example.net>: host mx.full.example.net[198.51.100.9] said: 452
    4.2.2 Mailbox full (in reply to RCPT TO command)

--4C2A81E0D1.1700000000/smtp.lists.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; smtp.lists.example.org
X-Postfix-Queue-ID: 4C2A81E0D1
Arrival-Date: Tue, 14 Nov 2023 10:00:00 +0100 (CET)

Final-Recipient: rfc822; carol@shop.example.net
Original-Recipient: rfc822;carol.old@shop.example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.shop.example.net
Diagnostic-Code: smtp; 550 5.1.1 <carol@shop.example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; dave@full.example.net
Action: delayed
Status: 4.2.2
Remote-MTA: dns; mx.full.example.net
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--4C2A81E0D1.1700000000/smtp.lists.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: team@lists.example.org
To: team@lists.example.org
Subject: [Team] weekly notes

--4C2A81E0D1.1700000000/smtp.lists.example.org--
"""

EXIM = """\
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@relay.example.net>
To: team-bounces+erin=corp.example.com@lists.example.org
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: erin@corp.example.com
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  erin@corp.example.com
    host mx.corp.example.com [203.0.113.40]
    SMTP error from remote mail server after RCPT TO:<erin@corp.example.com>:
    550 5.2.1 The email account that you tried to reach is disabled.
  frank@gone.example
    Unrouteable address

------ This is a copy of the message, including all the headers. ------

From: team@lists.example.org
To: team@lists.example.org
Subject: hello
"""

EXIM_DELAY = """\
From: Mail Delivery System <Mailer-Daemon@relay.example.net>
To: team-bounces@lists.example.org
Subject: Warning: message 1rXyZ1-0001Ab-3C delayed 24 hours

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on relay.example.net.

The message identifier is:     1rXyZ1-0001Ab-3C

The address to which the message has not yet been delivered is:

  gina@slow.example.com
    host mx.slow.example.com [192.0.2.50]
    Delay reason: SMTP error from remote mail server after RCPT TO:<gina@slow.example.com>:
    451 4.7.1 Greylisted, please try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered.
"""

SENDMAIL = """\
From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.edu>
To: <team-bounces@lists.example.org>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

The original message was received at Wed, 1 Mar 2023 09:00:00 -0500
from lists.example.org [192.0.2.10]

   ----- The following addresses had permanent fatal errors -----
<henry@dept.example.edu>
    (reason: 550 5.1.1 <henry@dept.example.edu>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.dept.example.edu.:
>>> RCPT To:<henry@dept.example.edu>
<<< 550 5.1.1 <henry@dept.example.edu>... User unknown
550 5.1.1 <henry@dept.example.edu>... User unknown

   ----- Original message follows -----

From: team@lists.example.org
To: team@lists.example.org
"""

QMAIL = """\
From: MAILER-DAEMON@qmail.example.com
To: team-bounces@lists.example.org
Subject: failure notice

Hi. This is the qmail-send program at qmail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ivy@box.example.com>:
203.0.113.77 does not like recipient.
Remote host said: 552 5.2.2 Mailbox quota exceeded
Giving up on 203.0.113.77.

<jack@nowhere.example.com>:
Sorry, I couldn't find any host named nowhere.example.com. (#5.1.2)

--- Below this line is a copy of the message.

From: team@lists.example.org
To: team@lists.example.org
"""

OFFICE365 = """\
From: Microsoft Outlook <postmaster@contoso.example.com>
To: <team-bounces@lists.example.org>
Subject: Undeliverable: [Team] agenda
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_NDR_b_"

--_000_NDR_b_
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups:

kate@contoso.example.com<mailto:kate@contoso.example.com>
The email address you entered couldn't be found. Please check the recipient's email
address and try to resend the message.

Diagnostic information for administrators:

Generating server: BN0PR01MB0001.prod.outlook.com

kate@contoso.example.com
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'

--_000_NDR_b_
Content-Type: message/delivery-status

Reporting-MTA: dns;BN0PR01MB0001.prod.outlook.com
Received-From-MTA: dns;lists.example.org
Arrival-Date: Mon, 4 Dec 2023 08:00:00 +0000

Final-Recipient: rfc822;kate@contoso.example.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
X-Display-Name: Kate

--_000_NDR_b_--
"""

GMAIL = """\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: team-bounces@lists.example.org
Subject: Delivery Status Notification (Failure)
X-Failed-Recipients: leo@mail.example.org
Message-ID: <abc.123.GMR@mx.google.com>

Delivery to the following recipient failed permanently:

     leo@mail.example.org

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for the recipient
domain mail.example.org by mx.mail.example.org. [192.0.2.99].

The error that the other server returned was:
550 5.7.1 Message rejected: listed on a DNS blocklist

----- Original message -----

From: team@lists.example.org
"""

MIXED_RFC3464 = """\
From: postmaster@gateway.example.jp
To: team-bounces@lists.example.org
Subject: Delivery Status Notification
Content-Type: multipart/report; report-type=delivery-status; boundary=ZZ

--ZZ
Content-Type: text/plain

Some recipients could not be reached.

--ZZ
Content-Type: message/delivery-status

Reporting-MTA: dns; gateway.example.jp

Final-Recipient: rfc822; mia@a.example.jp
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; ned@b.example.jp
Action: delayed
Status: 4.4.1
Diagnostic-Code: smtp; 421 4.4.1 Connection timed out
Will-Retry-Until: Fri, 8 Dec 2023 10:00:00 +0900

Final-Recipient: rfc822; olga@c.example.jp
X-Actual-Recipient: rfc822; olga.list@c.example.jp
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Over quota

Final-Recipient: rfc822; pat@d.example.jp
Action: delivered
Status: 2.0.0

--ZZ--
"""

ARF = """\
From: feedbackloop@isp.example.net
To: fbl@lists.example.org
Subject: FW: [Team] offers
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf"

--arf
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.10.

--arf
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/2.1
Version: 1
Original-Mail-From: <team-bounces@lists.example.org>
Original-Rcpt-To: <quinn@isp.example.net>
Arrival-Date: Thu, 7 Dec 2023 11:00:00 +0000

--arf
Content-Type: message/rfc822

From: team@lists.example.org
To: team@lists.example.org
Subject: [Team] offers

--arf--
"""

VACATION = """\
From: Rosa Example <rosa@home.example.com>
To: team@lists.example.org
Subject: Out of Office: [Team] weekly notes
Auto-Submitted: auto-replied
X-Autoreply: yes

I am on leave until January 8th and will answer when I am back.
"""

SES_JSON = json.dumps({
    'notificationType': 'Bounce',
    'bounce': {
        'bounceType': 'Permanent',
        'bounceSubType': 'General',
        'reportingMTA': 'dns; a1-2.smtp-out.amazonses.com',
        'bouncedRecipients': [
            {'emailAddress': 'sam@corp.example.com', 'action': 'failed', 'status': '5.1.1',
             'diagnosticCode': 'smtp; 550 5.1.1 user unknown'},
            {'emailAddress': '"broken json" <not-an-address>', 'action': 'failed', 'status': '5.0.0'},
        ],
    },
    'mail': {'source': 'team@lists.example.org', 'destination': ['sam@corp.example.com']},
})
SES = f"""\
From: AWS Notifications <no-reply@sns.amazonaws.com>
To: ses-bounces@lists.example.org
Subject: AWS Notification Message
Content-Type: text/plain; charset=UTF-8

{SES_JSON}
--
If you wish to stop receiving notifications from this topic, please click the link below.
"""


def _by_address(report):
    return {recipient.address: recipient for recipient in report.recipients}


def test_postfix_dsn_with_mixed_results() -> None:
    report = detect(POSTFIX)
    assert report.kind is Kind.bounce
    people = _by_address(report)
    assert set(people) == {'carol@shop.example.net', 'dave@full.example.net'}
    carol, dave = people['carol@shop.example.net'], people['dave@full.example.net']
    assert carol.original == 'carol.old@shop.example.net'
    assert (carol.reason, carol.severity, carol.status) == ('userunknown', Severity.hard, '5.1.1')
    assert carol.remote_mta == 'mx1.shop.example.net'
    assert (dave.reason, dave.severity, dave.action) == ('mailboxfull', Severity.soft, 'delayed')


def test_exim_permanent_failures() -> None:
    report = detect(EXIM)
    assert report.kind is Kind.bounce
    assert report.detector == 'exim'
    people = _by_address(report)
    assert set(people) == {'erin@corp.example.com', 'frank@gone.example'}
    assert people['erin@corp.example.com'].status == '5.2.1'
    assert people['erin@corp.example.com'].reason == 'suspend'
    assert people['frank@gone.example'].reason == 'hostunknown'
    assert people['frank@gone.example'].severity is Severity.hard


def test_exim_delay_warning_is_a_delay() -> None:
    report = detect(EXIM_DELAY)
    assert report.kind is Kind.delay
    [gina] = report.recipients
    assert gina.address == 'gina@slow.example.com'
    assert gina.status == '4.7.1'
    assert gina.severity is Severity.soft


def test_sendmail_without_dsn_part() -> None:
    report = detect(SENDMAIL)
    assert report.kind is Kind.bounce
    [henry] = report.recipients
    assert henry.address == 'henry@dept.example.edu'
    assert (henry.reason, henry.status, henry.severity) == ('userunknown', '5.1.1', Severity.hard)


def test_qmail_two_recipients_two_reasons() -> None:
    report = detect(QMAIL)
    assert report.detector == 'qmail'
    people = _by_address(report)
    assert people['ivy@box.example.com'].reason == 'mailboxfull'
    assert people['ivy@box.example.com'].severity is Severity.soft
    assert people['jack@nowhere.example.com'].reason == 'hostunknown'
    assert people['jack@nowhere.example.com'].status == '5.1.2'


def test_office365_ndr() -> None:
    report = detect(OFFICE365)
    assert report.kind is Kind.bounce
    [kate] = report.recipients
    assert kate.address == 'kate@contoso.example.com'
    assert kate.reason == 'userunknown'
    assert kate.severity is Severity.hard


def test_gmail_plain_text_failure() -> None:
    report = detect(GMAIL)
    assert report.kind is Kind.bounce
    [leo] = report.recipients
    assert leo.address == 'leo@mail.example.org'
    assert leo.status == '5.7.1'
    assert leo.reason == 'blocked'
    assert leo.severity is Severity.soft


def test_rfc3464_mixed_temporary_and_permanent() -> None:
    report = detect(MIXED_RFC3464)
    assert report.kind is Kind.bounce
    people = _by_address(report)
    assert people['mia@a.example.jp'].severity is Severity.hard
    assert people['ned@b.example.jp'].action == 'delayed'
    assert people['ned@b.example.jp'].severity is Severity.soft
    # Sisimai's convention, followed here: a connection that keeps timing out is 'expired'.
    assert people['ned@b.example.jp'].reason == 'expired'
    assert people['olga@c.example.jp'].original == 'olga.list@c.example.jp'
    assert people['olga@c.example.jp'].reason == 'mailboxfull'
    assert people['pat@d.example.jp'].reason == 'delivered'
    assert people['pat@d.example.jp'].severity is Severity.none


def test_only_delays_make_a_delay_report() -> None:
    only_delay = MIXED_RFC3464.replace('Action: failed', 'Action: delivered').replace(
        'Status: 5.1.1', 'Status: 2.0.0').replace('Status: 5.2.2', 'Status: 2.0.0')
    assert detect(only_delay).kind is Kind.delay


def test_success_only_dsn_is_not_a_bounce() -> None:
    success = MIXED_RFC3464.replace('Action: failed', 'Action: delivered').replace(
        'Action: delayed', 'Action: relayed').replace('Status: 5.1.1', 'Status: 2.0.0').replace(
        'Status: 5.2.2', 'Status: 2.0.0').replace('Status: 4.4.1', 'Status: 2.0.0')
    report = detect(success)
    assert report.kind is Kind.none
    assert {r.reason for r in report.recipients} == {'delivered'}


def test_arf_complaint() -> None:
    report = detect(ARF)
    assert report.kind is Kind.complaint
    assert report.feedback_type == 'abuse'
    [quinn] = report.recipients
    assert (quinn.address, quinn.reason, quinn.severity) == ('quinn@isp.example.net', 'feedback', Severity.none)


def test_vacation_is_an_autoreply_never_a_bounce() -> None:
    report = detect(VACATION)
    assert report.kind is Kind.autoreply
    [rosa] = report.recipients
    assert (rosa.address, rosa.reason, rosa.severity) == ('rosa@home.example.com', 'vacation', Severity.none)


def test_ses_json_bounce_parses_json_not_fragments() -> None:
    report = detect(SES)
    assert report.kind is Kind.bounce
    assert report.detector == 'amazonses'
    assert report.addresses == ['sam@corp.example.com']
    assert report.recipients[0].reason == 'userunknown'


def test_ses_json_complaint() -> None:
    complaint = SES.replace(SES_JSON, json.dumps({
        'notificationType': 'Complaint',
        'complaint': {'complainedRecipients': [{'emailAddress': 'tom@corp.example.com'}],
                      'complaintFeedbackType': 'abuse'},
    }))
    report = detect(complaint)
    assert report.kind is Kind.complaint
    assert report.addresses == ['tom@corp.example.com']


def test_line_endings_do_not_matter() -> None:
    for text in (POSTFIX, EXIM, QMAIL):
        expected = detect(text).addresses
        assert detect(text.replace('\n', '\r\n')).addresses == expected
        assert detect(text.replace('\n', '\r')).addresses == expected


LEGACY_COMPLAINT = """\
From: staff@hotmail.example.com
To: abuse@lists.example.org
Subject: complaint about message from 192.0.2.10
Content-Type: multipart/mixed; boundary="jmrp"

--jmrp
Content-Type: message/rfc822

From: team@lists.example.org
To: uma@hotmail.example.com
Subject: [Team] news

--jmrp--
"""


def test_legacy_hotmail_complaint_without_feedback_report() -> None:
    report = detect(LEGACY_COMPLAINT)
    assert report.kind is Kind.complaint
    assert report.addresses == ['uma@hotmail.example.com']
