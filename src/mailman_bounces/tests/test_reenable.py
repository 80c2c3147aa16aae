"""The warning's way back: re-enabling delivery by reply or by link."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    make_list,
    member,
    run_pass,
    virgin_messages,
)

ANNE = 'anne@example.org'


@pytest.fixture
def disabled(mailman):
    """A list on which Anne was disabled and got her first warning."""
    mlist = make_list(members=[ANNE], bounce_score_threshold=1)
    bounce(mlist, ANNE)
    run_pass()
    warnings = [msg for to, subject, msg in virgin_messages()
                if subject.startswith('reenable ')]
    assert len(warnings) == 1
    return mlist, warnings[0]


def _reply(mlist, warning, sender=ANNE):
    """Send a reply to `warning` through Mailman's command runner."""
    from mailman.config import config
    from mailman.runners.command import CommandRunner
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )
    reply = specialized_message_from_string(
        f'From: {sender}\n'
        f'To: {warning["from"]}\n'
        f'Subject: Re: {warning["subject"]}\n'
        'Message-ID: <reply-1@example.org>\n\n'
        '> Your subscription is disabled\n')
    config.switchboards['command'].enqueue(
        reply, listid=mlist.list_id, subaddress='request')
    make_testable_runner(CommandRunner, 'command').run()
    commit()


def _token(warning) -> str:
    return str(warning['subject']).split()[1]


def test_warning_comes_from_the_request_address(disabled):
    mlist, warning = disabled
    assert warning['from'] == mlist.request_address
    assert _token(warning) in warning.get_payload(decode=True).decode()


def test_replying_to_the_warning_reenables(disabled):
    from mailman.interfaces.member import DeliveryStatus
    mlist, warning = disabled
    _reply(mlist, warning)
    anne = member(mlist, ANNE)
    assert anne.preferences.delivery_status == DeliveryStatus.enabled
    assert anne.bounce_score == 0
    assert anne.total_warnings_sent == 0
    run_pass()
    subjects = [subject for _, subject, _ in virgin_messages()]
    assert 'Delivery of Test re-enabled' in subjects


def test_a_token_works_once(disabled):
    from mailman_bounces.app.reenable_tokens import redeem_token
    _, warning = disabled
    token = _token(warning)
    assert redeem_token(token) is not None
    assert redeem_token(token) is None


def test_an_expired_token_does_not_work_and_is_deleted(disabled):
    from mailman.interfaces.member import DeliveryStatus
    from mailman.interfaces.pending import IPendings
    from zope.component import getUtility

    from mailman_bounces.app.reenable_tokens import peek_token, redeem_token
    from mailman_bounces.tests.helpers import expire_pending
    mlist, warning = disabled
    token = _token(warning)
    assert peek_token(token) is not None
    expire_pending(token)
    _reply(mlist, warning)
    assert (member(mlist, ANNE).preferences.delivery_status
            == DeliveryStatus.by_bounces)
    assert peek_token(token) is None
    assert redeem_token(token) is None
    # Deleted when presented, without waiting for core's task runner.
    assert getUtility(IPendings).confirm(token, expunge=False) is None


def test_a_token_does_not_work_on_another_list(disabled):
    from mailman.interfaces.member import DeliveryStatus
    mlist, warning = disabled
    other = make_list('other@example.com')
    _reply(other, warning)
    assert (member(mlist, ANNE).preferences.delivery_status
            == DeliveryStatus.by_bounces)
    # The reply that went astray did not spend the token: the right list
    # still takes it.
    _reply(mlist, warning)
    assert (member(mlist, ANNE).preferences.delivery_status
            == DeliveryStatus.enabled)


def test_the_link_in_the_warning(mailman):
    from mailman_bounces.config import load_site_config, set_site_config
    previous = set_site_config(load_site_config(
        '[bounces]\nreenable_url: https://lists.example.com/reenable/$token\n'))
    try:
        mlist = make_list(members=[ANNE], bounce_score_threshold=1)
        bounce(mlist, ANNE)
        run_pass()
        [warning] = [msg for _, subject, msg in virgin_messages()
                     if subject.startswith('reenable ')]
        body = warning.get_payload(decode=True).decode()
        assert f'https://lists.example.com/reenable/{_token(warning)}' in body
    finally:
        set_site_config(previous)


def test_re_enabling_clears_the_whole_standing(disabled):
    from mailman_bounces.tests.helpers import state
    mlist, warning = disabled
    before = state(mlist, ANNE)
    assert before.disabled_at is not None
    assert before.next_warning_check is not None
    _reply(mlist, warning)
    after = state(mlist, ANNE)
    # As for a member who never bounced.
    assert (after.score, after.core_score, after.day_weight,
            after.sympa_level) == (0.0, 0, 0.0, 0)
    assert (after.disabled_at, after.next_warning_check, after.probe_sent,
            after.probe_token, after.scored_day, after.run_started) == (
        None, None, None, None, None, None)

