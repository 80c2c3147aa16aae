"""Mailman's own "SMTP Delivery Failure" notice (detect/formats/mailman.py).

Synthetic samples of the notice Mailman's outgoing runner registers when the
SMTP server refuses a recipient for good, with the error message written
plainly and as the ``repr`` of smtplib's bytes.
"""

from __future__ import annotations

import email

import pytest

from mailman_bounces.detect import Kind, detect


def notice(recipient: str, code: str, message: str, *, subject: str = 'SMTP Delivery Failure') -> str:
    return f"""\
From: Mailman <ants@lists.example.org>
To: Mailman Bounces <ants-bounces@lists.example.org>
Subject: {subject}
Message-ID: <170000000.1234.5678@lists.example.org>
Date: Tue, 05 Mar 2024 10:00:00 -0000

Mail to {recipient} failed at outgoing SMTP

Error code: {code}
Error message: {message}
"""


# (recipient, code, message) -> (status, reason, severity, diagnostic)
CASES = [
    (('ann@example.com', '550', '5.1.1 <ann@example.com>: Recipient address rejected: User unknown'),
     ('5.1.1', 'userunknown', 'hard', '550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown')),
    (('ann@example.com', '550', "b'5.1.1 <ann@example.com>: Recipient address rejected: User unknown'"),
     ('5.1.1', 'userunknown', 'hard', '550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown')),
    # A multi-line answer: smtplib joins the lines with a newline, repr shows "\n".
    (('bo@mail.example.net', '554', ("b'5.7.1 Service unavailable; Client host [192.0.2.4] blocked\\n"
                                    "using zen.spamhaus.org'")),
     ('5.7.1', 'blocked', 'soft',
      '554 5.7.1 Service unavailable; Client host [192.0.2.4] blocked using zen.spamhaus.org')),
    (('cy@example.org', '552', 'b"5.2.2 <cy@example.org>: user\'s mailbox is over quota"'),
     ('5.2.2', 'mailboxfull', 'soft', "552 5.2.2 <cy@example.org>: user's mailbox is over quota")),
    # No enhanced status code in the answer: inferred from the reply code and
    # wording.  RFC 5321's own text for 550 ("mailbox not found, no access, or
    # command rejected for policy reasons") does not say the address is unknown.
    (('di@example.org', '550', "b'Requested action not taken: mailbox unavailable'"),
     ('5.2.0', 'filtered', 'soft', '550 Requested action not taken: mailbox unavailable')),
    (('ed@example.org', '553', 'sorry, that domain isn\'t in my list of allowed rcpthosts'),
     ('5.7.1', 'norelaying', 'soft', "553 sorry, that domain isn't in my list of allowed rcpthosts")),
]


@pytest.mark.parametrize('given, expected', CASES, ids=[case[0][2][:30] for case in CASES])
def test_mailman_notice(given, expected) -> None:
    recipient, code, message = given
    status, reason, severity, diagnostic = expected
    report = detect(notice(recipient, code, message))
    assert report.kind is Kind.bounce
    assert report.detector == 'mailman'
    (found,) = report.recipients
    assert found.address == recipient
    assert found.reply_code == code
    assert (found.status, found.reason, found.severity.value, found.diagnostic) == (status, reason, severity, diagnostic)
    assert found.action == 'failed'


def test_temporary_code_is_a_delay() -> None:
    report = detect(notice('fay@example.com', '452', "b'4.2.2 Mailbox full, try later'"))
    assert report.kind is Kind.delay
    assert report.recipients[0].status == '4.2.2'


def test_mailman_message_object_is_accepted() -> None:
    message = email.message_from_string(notice('gus@example.com', '550', "b'5.1.1 No such user'"))
    report = detect(message)
    assert report.detector == 'mailman'
    assert report.addresses == ['gus@example.com']


@pytest.mark.parametrize('raw', [
    notice('hal@example.com', '550', '5.1.1 User unknown', subject='Re: SMTP Delivery Failure'),
    notice('hal@example.com', '550', '5.1.1 User unknown').replace('failed at outgoing SMTP', 'was sent'),
])
def test_only_the_exact_layout_is_mailmans(raw: str) -> None:
    assert detect(raw).detector != 'mailman'


def test_malformed_bytes_repr_is_kept_as_text() -> None:
    report = detect(notice('ivy@example.com', '550', "b'5.1.1 unterminated"))
    assert report.recipients[0].diagnostic == "550 b'5.1.1 unterminated"
