"""The public API contract other code (the Mailman runner) depends on."""

from __future__ import annotations

import dataclasses
import email

import pytest

from mailman_bounces.detect import (
    REASONS,
    SEVERITY_RULES,
    Kind,
    Recipient,
    Report,
    Severity,
    detect,
)

SISIMAI_REASONS = ['userunknown', 'hostunknown', 'hasmoved', 'notaccept', 'mailboxfull', 'exceedlimit', 'systemfull', 'mesgtoobig', 'filtered', 'rejected', 'blocked', 'spamdetected', 'virusdetected', 'policyviolation', 'securityerror', 'authfailure', 'badreputation', 'requireptr', 'notcompliantrfc', 'norelaying', 'suspend', 'onhold', 'expired', 'networkerror', 'mailererror', 'systemerror', 'toomanyconn', 'speeding', 'syntaxerror', 'contenterror', 'undefined', 'delivered', 'feedback', 'vacation']

SIMPLE_DSN = b"""\
From: MAILER-DAEMON@mx.example.org
To: list-bounces@lists.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; Alice@Example.COM
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown

--b1--
"""


def test_reasons_cover_the_sisimai_vocabulary() -> None:
    assert sorted(REASONS) == sorted(SISIMAI_REASONS)
    assert all(isinstance(text, str) and text for text in REASONS.values())
    assert set(SEVERITY_RULES) == set(REASONS)


def test_enums_are_string_valued() -> None:
    assert Kind.bounce.value == 'bounce' and Kind.bounce == 'bounce'
    assert {kind.value for kind in Kind} == {'bounce', 'delay', 'complaint', 'autoreply', 'none'}
    assert {severity.value for severity in Severity} == {'hard', 'soft', 'none'}


def test_recipient_is_a_frozen_dataclass_with_the_agreed_fields() -> None:
    names = [field.name for field in dataclasses.fields(Recipient)]
    assert names == ['address', 'original', 'action', 'severity', 'reason', 'status', 'reply_code',
                     'diagnostic', 'remote_mta', 'detector', 'feedback_type']
    recipient = Recipient(address='a@example.com')
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipient.address = 'b@example.com'  # type: ignore[misc]


@pytest.mark.parametrize('make', [
    lambda raw: raw,
    lambda raw: raw.decode('ascii'),
    lambda raw: email.message_from_bytes(raw),
    lambda raw: email.message_from_string(raw.decode('ascii')),
], ids=['bytes', 'str', 'message-from-bytes', 'message-from-string'])
def test_detect_accepts_bytes_text_and_messages(make) -> None:
    report = detect(make(SIMPLE_DSN))
    assert isinstance(report, Report)
    assert report.kind is Kind.bounce
    assert report.detector == 'rfc3464'
    [recipient] = report.recipients
    assert recipient.address == 'alice@example.com'
    assert recipient.status == '5.1.1'
    assert recipient.reply_code == '550'
    assert recipient.reason == 'userunknown'
    assert recipient.severity is Severity.hard
    assert recipient.action == 'failed'
    assert recipient.remote_mta is None
    assert recipient.detector == 'rfc3464'
    assert 'User unknown' in (recipient.diagnostic or '')


def test_report_serialises_to_plain_values() -> None:
    data = detect(SIMPLE_DSN).as_dict()
    assert data['kind'] == 'bounce'
    assert data['recipients'][0]['severity'] == 'hard'  # type: ignore[index]


def test_not_a_bounce_is_kind_none() -> None:
    report = detect(b'From: bob@example.com\nTo: list@example.com\nSubject: hello\n\nHi all!\n')
    assert report.kind is Kind.none
    assert report.recipients == []
    assert report.detector is None


def test_mailman_message_class_if_installed() -> None:
    mailman_message = pytest.importorskip('mailman.email.message')
    message = email.message_from_bytes(SIMPLE_DSN, mailman_message.Message)
    report = detect(message)
    assert report.kind is Kind.bounce
    assert report.addresses == ['alice@example.com']
