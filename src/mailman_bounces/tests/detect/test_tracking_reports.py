"""Reading DSNs (RFC 3464) and MDNs (RFC 8098) for message tracking, and
what they add up to (pure: no Mailman)."""

from __future__ import annotations

from datetime import datetime

import pytest

from mailman_bounces.detect import Kind, detect
from mailman_bounces.detect.tracking import parse_report
from mailman_bounces.policy.tracking import Copy, count_groups, next_state
from mailman_bounces.tests.samples import arf, mdn, tracking_dsn

ARRIVAL = 'Tue, 02 Aug 2005 10:11:12 +0200'


@pytest.mark.parametrize(('action', 'status'), [
    ('delivered', '2.0.0'),
    ('relayed', '2.0.0'),
    ('expanded', '2.0.0'),
    ('delayed', '4.2.2'),
    ('failed', '5.1.1'),
])
def test_every_dsn_action_is_read_with_its_time_and_envid(action, status):
    report = parse_report(tracking_dsn(
        'anne@example.org', action, status, envelope_id='ab.tc.x.y',
        arrival=ARRIVAL, diagnostic=f'{status[0]}50 {status} said so'))
    assert report.kind == 'dsn'
    assert report.envelope_id == 'ab.tc.x.y'
    [record] = report.records
    assert (record.kind, record.value, record.address, record.status) == (
        'dsn', action, 'anne@example.org', status)
    assert record.diagnostic == f'{status[0]}50 {status} said so'
    # 10:11:12 at +0200 is 08:11:12 UTC.
    assert record.reported == datetime(2005, 8, 2, 8, 11, 12)
    assert report.failures == ((record,) if action == 'failed' else ())


@pytest.mark.parametrize(('written', 'read'), [
    ('failure', 'failed'), ('Delivered', 'delivered'), ('deferred', 'delayed'),
    ('gone-fishing', None)])
def test_action_words_are_read_as_the_bounce_engine_reads_them(written,
                                                                read):
    report = parse_report(tracking_dsn('anne@example.org', written, '5.1.1'))
    assert [r.value for r in report.records] == ([read] if read else [])
    # A block not read is counted, so that the message still goes to the
    # bounce engine.
    assert report.unread == (0 if read else 1)


@pytest.mark.parametrize('disposition', [
    'displayed', 'deleted', 'dispatched', 'processed'])
def test_an_rfc_8098_mdn_is_read(disposition):
    report = parse_report(mdn('bart@example.org', disposition,
                              original_id='<post-7@example.com>'))
    assert report.kind == 'mdn'
    assert report.original_message_id == '<post-7@example.com>'
    [record] = report.records
    assert (record.kind, record.value, record.address) == (
        'mdn', disposition, 'bart@example.org')
    # The MDN's Date: Mon, 01 Aug 2005 09:15:00 +0000.
    assert record.reported == datetime(2005, 8, 1, 9, 15)
    assert report.failures == ()


@pytest.mark.parametrize('text', [
    arf('anne@example.org'),
    'From: a@example.org\nSubject: hi\n\nJust mail.\n',
    'Content-Type: multipart/report; report-type=delivery-status\n\n',
    b'\xff\xfe not a message',
])
def test_anything_else_is_not_a_tracking_report(text):
    assert parse_report(text) is None


def test_the_bounce_engine_never_reads_a_success_or_an_mdn_as_a_failure():
    # Success DSNs and read receipts must never score, even at the plain
    # -bounces address.
    for text in (tracking_dsn('anne@example.org', 'delivered', '2.0.0'),
                 tracking_dsn('anne@example.org', 'relayed', '2.0.0'),
                 mdn('anne@example.org', 'displayed'),
                 mdn('anne@example.org', 'deleted')):
        assert detect(text).kind not in (Kind.bounce, Kind.delay)


# (current state, DSN action, state after): failed > delivered >
# relayed = expanded > delayed > sent.
TRANSITIONS = [
    ('sent', 'delayed', 'delayed'),
    ('sent', 'delivered', 'delivered'),
    ('delayed', 'relayed', 'relayed'),
    ('delayed', 'delivered', 'delivered'),
    ('delayed', 'failed', 'failed'),
    ('relayed', 'delayed', 'relayed'),
    ('expanded', 'relayed', 'relayed'),
    ('delivered', 'delayed', 'delivered'),
    ('delivered', 'relayed', 'delivered'),
    ('delivered', 'failed', 'failed'),
    ('failed', 'delivered', 'failed'),
    ('sent', 'unknown-word', 'sent'),
]


@pytest.mark.parametrize(('current', 'action', 'after'), TRANSITIONS)
def test_state_precedence(current, action, after):
    assert next_state(current, action) == after


def test_counts_of_a_post():
    copies = [Copy('delivered', 'displayed'), Copy('delivered'),
              Copy('relayed'), Copy('expanded', 'deleted'),
              Copy('delayed'), Copy('failed'), Copy('sent'),
              Copy('sent'), Copy('sent', 'displayed')]
    assert count_groups((copy, 1) for copy in copies) == {
        'recipients': 9, 'delivered': 2, 'relayed': 2, 'delayed': 1,
        'failed': 1, 'displayed': 2,
        # Nothing came back about two copies (the third was read).
        'no_answer': 2}
