"""Hand-written bounce messages for the Mailman-side tests."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def dsn(recipient: str, status: str = '5.1.1',
        diagnostic: str = '550 5.1.1 User unknown',
        action: str = 'failed', to: str = 'test-bounces@example.com',
        original: str | None = None, message_id: str | None = None) -> str:
    """An RFC 3464 DSN (Postfix style) about one recipient."""
    return mixed_dsn((recipient, action, status, diagnostic), to=to,
                     original=original, message_id=message_id)


def mixed_dsn(*recipients: tuple[str, str, str, str],
              to: str = 'test-bounces@example.com',
              original: str | None = None,
              message_id: str | None = None) -> str:
    """An RFC 3464 DSN with one block per (address, action, status,
    diagnostic) recipient."""
    number = next(_counter)
    message_id = message_id or f'<dsn-{number}@mx.remote.example.org>'
    blocks = []
    for address, action, status, diagnostic in recipients:
        block = [f'Final-Recipient: rfc822; {address}']
        if original:
            block.append(f'Original-Recipient: rfc822; {original}')
        block += [
            f'Action: {action}',
            f'Status: {status}',
            'Remote-MTA: dns; mx.remote.example.org',
            f'Diagnostic-Code: smtp; {diagnostic}',
        ]
        blocks.append('\n'.join(block))
    per_recipient = '\n\n'.join(blocks)
    return f"""\
From: MAILER-DAEMON@remote.example.org (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: Mon, 01 Aug 2005 07:49:23 +0000
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="BOUNDARY{number}"

--BOUNDARY{number}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host remote.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--BOUNDARY{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; remote.example.org
Arrival-Date: Mon, 01 Aug 2005 07:49:20 +0000

{per_recipient}

--BOUNDARY{number}
Content-Type: text/rfc822-headers

From: test@example.com
To: test@example.com
Subject: Hello list
Message-ID: <post-{number}@example.com>

--BOUNDARY{number}--
"""


def arf(recipient: str, feedback_type: str = 'abuse',
        list_address: str = 'test@example.com') -> str:
    """An RFC 5965 abuse feedback report about a message to `recipient`."""
    number = next(_counter)
    return f"""\
From: feedback@provider.example.net
To: test-bounces@example.com
Subject: FW: Hello list
Date: Mon, 01 Aug 2005 07:49:23 +0000
Message-ID: <arf-{number}@provider.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="ARF{number}"

--ARF{number}
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP
192.0.2.1 on Mon, 01 Aug 2005 07:00:00 +0000.

--ARF{number}
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: ProviderFBL/1.0
Version: 1
Original-Mail-From: <test-bounces@example.com>
Original-Rcpt-To: <{recipient}>
Source-IP: 192.0.2.1
Arrival-Date: Mon, 01 Aug 2005 07:00:00 +0000

--ARF{number}
Content-Type: message/rfc822

From: someone@example.com
To: {list_address}
Subject: Hello list
Message-ID: <post-arf-{number}@example.com>

Hello.

--ARF{number}--
"""


def tracking_dsn(recipient: str, action: str, status: str,
                 to: str = 'test-bounces@example.com',
                 envelope_id: str | None = None,
                 arrival: str = 'Mon, 01 Aug 2005 07:49:20 +0000',
                 diagnostic: str | None = None,
                 original_id: str = '<post@example.com>') -> str:
    """An RFC 3464 DSN of any action (delivered, relayed, expanded,
    delayed, failed) about one recipient, as the MTA of a copy sent with
    ``RET=HDRS`` and ``ENVID`` writes it."""
    number = next(_counter)
    envid = f'Original-Envelope-Id: {envelope_id}\n' if envelope_id else ''
    code = f'Diagnostic-Code: smtp; {diagnostic}\n' if diagnostic else ''
    return f"""\
From: MAILER-DAEMON@remote.example.org (Mail Delivery System)
To: {to}
Subject: Delivery Status Notification ({action})
Date: {arrival}
Message-ID: <tracking-dsn-{number}@remote.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="DSN{number}"

--DSN{number}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host remote.example.org.  Your message to
{recipient}: {action}.

--DSN{number}
Content-Type: message/delivery-status

{envid}Reporting-MTA: dns; remote.example.org
Arrival-Date: {arrival}

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.remote.example.org
{code}
--DSN{number}
Content-Type: text/rfc822-headers

From: cris@example.net
To: test@example.com
Subject: Hello list
Message-ID: {original_id}

--DSN{number}--
"""


def mdn(recipient: str, disposition: str,
        to: str = 'test-bounces@example.com',
        original_id: str = '<post@example.com>',
        date: str = 'Mon, 01 Aug 2005 09:15:00 +0000') -> str:
    """An RFC 8098 message disposition notification (a read receipt) sent
    by `recipient`'s mail client: ``Disposition:
    manual-action/MDN-sent-manually; <disposition>``."""
    number = next(_counter)
    return f"""\
From: {recipient}
To: {to}
Subject: Read: Hello list
Date: {date}
Message-ID: <mdn-{number}@client.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
    boundary="MDN{number}"

--MDN{number}
Content-Type: text/plain; charset=us-ascii

The message sent on Mon, 01 Aug 2005 to {recipient} with subject
"Hello list" has been {disposition}.

--MDN{number}
Content-Type: message/disposition-notification

Reporting-UA: client.example.org; ExampleMail 1.0
Original-Recipient: rfc822;{recipient}
Final-Recipient: rfc822;{recipient}
Original-Message-ID: {original_id}
Disposition: manual-action/MDN-sent-manually; {disposition}

--MDN{number}
Content-Type: text/rfc822-headers

From: cris@example.net
To: test@example.com
Subject: Hello list
Message-ID: {original_id}

--MDN{number}--
"""
