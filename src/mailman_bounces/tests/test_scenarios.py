"""Policy scenarios on the real layers, with Mailman's fast-forward clock."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    complain,
    events,
    fast_forward,
    make_list,
    member,
    run_pass,
    state,
    subjects,
    virgin_messages,
)

ANNE = 'anne@example.org'
BART = 'bart@example.org'
MAILBOX_FULL = {'status': '4.2.2', 'action': 'delayed',
                'diagnostic': '452 4.2.2 <{email}>: Mailbox full'}
DMARC = {'status': '5.7.26', 'diagnostic': (
    "550 5.7.26 Unauthenticated email from example.com is not accepted "
    "due to domain's DMARC policy")}


@pytest.fixture
def mlist(mailman):
    return make_list(members=[ANNE, BART],
                     bounce_notify_owner_on_bounce_increment=True)


def _almost_disabled(mlist, email):
    """Give a member a live score one short of the threshold."""
    from datetime import timedelta

    from mailman.utilities.datetime import now
    member(mlist, email).bounce_score = 4
    member(mlist, email).last_bounce_received = now() - timedelta(days=1)
    commit()


def _delivery(mlist, email):
    from mailman.interfaces.member import DeliveryStatus
    status = member(mlist, email).preferences.delivery_status
    return DeliveryStatus.enabled if status is None else status


def test_hard_bounces_disable_then_warnings_then_removal(mlist):
    from mailman.interfaces.member import DeliveryStatus
    for day in range(1, 5):
        bounce(mlist, ANNE)
        run_pass()
        assert member(mlist, ANNE).bounce_score == day
        # The owners hear of each increment.
        assert subjects(virgin_messages()) == [
            f"{ANNE}'s bounce score incremented on Test"]
        fast_forward(days=1)
    bounce(mlist, ANNE)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces
    assert state(mlist, ANNE).disabled_reason == 'userunknown'
    messages = virgin_messages()
    # Disabled: the owners are told, and the member gets the first warning
    # in the same pass (core's never-warned marker makes it due at once).
    assert f"{ANNE}'s subscription disabled on Test" in subjects(messages)
    [warning] = [m for to, s, m in messages if s.startswith('reenable ')]
    assert warning['to'] == ANNE
    assert member(mlist, ANNE).total_warnings_sent == 1
    for number in (2, 3):
        fast_forward(days=6)
        run_pass()
        assert virgin_messages() == []
        fast_forward(days=1)
        run_pass()
        [(to, subject, _)] = virgin_messages()
        assert to == ANNE and subject.startswith('reenable ')
        assert member(mlist, ANNE).total_warnings_sent == number
    fast_forward(days=7)
    run_pass()
    assert member(mlist, ANNE) is None
    assert (f'{ANNE} unsubscribed from Test mailing list due to bounces'
            in subjects(virgin_messages()))
    # Bart never bounced and is untouched.
    assert member(mlist, BART).bounce_score == 0


def _disable(mlist, email):
    """Bounce `email` daily until disabled (and sent its first warning)."""
    for day in range(5):
        if day:
            fast_forward(days=1)
        bounce(mlist, email)
        run_pass()
    virgin_messages()
    assert member(mlist, email).total_warnings_sent == 1


def test_the_warnings_step_looks_only_at_members_due(mlist):
    from datetime import timedelta

    from mailman.utilities.datetime import now

    from mailman_bounces.app.warnings import queue_warnings_and_removals
    _disable(mlist, ANNE)
    # The next warning is due in 7 days; the member is looked at daily.
    looked = state(mlist, ANNE).next_warning_check
    assert looked == member(mlist, ANNE).last_warning_sent + timedelta(days=1)
    fast_forward(hours=1)
    assert queue_warnings_and_removals(now()) == (0, 0)
    commit()
    # Not looked at: its time is not rewritten.
    assert state(mlist, ANNE).next_warning_check == looked


def test_a_shorter_warning_interval_applies_within_a_day(mlist):
    from datetime import timedelta
    _disable(mlist, ANNE)
    mlist.bounce_you_are_disabled_warnings_interval = timedelta(days=1)
    commit()
    fast_forward(days=1)
    run_pass()
    [(to, subject, _)] = virgin_messages()
    assert to == ANNE and subject.startswith('reenable ')
    assert member(mlist, ANNE).total_warnings_sent == 2


def test_a_member_re_enabled_elsewhere_gets_no_more_warnings(mlist):
    from mailman.interfaces.member import DeliveryStatus
    _disable(mlist, ANNE)
    # As Postorius or core's REST API would.
    member(mlist, ANNE).preferences.delivery_status = DeliveryStatus.enabled
    commit()
    fast_forward(days=1)
    run_pass()
    assert (state(mlist, ANNE).disabled_at,
            state(mlist, ANNE).next_warning_check) == (None, None)
    fast_forward(days=30)
    run_pass()
    assert virgin_messages() == []
    assert member(mlist, ANNE).total_warnings_sent == 1


def test_soft_bounces_count_half(mlist):
    from mailman.interfaces.member import DeliveryStatus
    for _ in range(9):
        bounce(mlist, ANNE, **MAILBOX_FULL)
        run_pass()
        fast_forward(days=1)
    assert state(mlist, ANNE).score == pytest.approx(4.5)
    assert member(mlist, ANNE).bounce_score == 4
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled
    bounce(mlist, ANNE, **MAILBOX_FULL)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces
    assert [e.score_delta for e in events(email=ANNE)] == [0.5] * 10


def test_a_heavier_bounce_later_the_same_day_adds_the_difference(mlist):
    bounce(mlist, ANNE, **MAILBOX_FULL)
    bounce(mlist, ANNE)
    bounce(mlist, ANNE, **MAILBOX_FULL)
    run_pass()
    assert state(mlist, ANNE).score == pytest.approx(1.0)
    assert [e.outcome for e in events(email=ANNE)] == [
        'scored', 'scored', 'same-day']


def test_dmarc_rejections_count_nothing(mlist):
    from mailman.interfaces.member import DeliveryStatus
    for _ in range(10):
        bounce(mlist, ANNE, **DMARC)
        run_pass()
        fast_forward(days=1)
    assert member(mlist, ANNE).bounce_score == 0
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled
    assert {e.outcome for e in events(email=ANNE)} == {'ignored'}
    assert {e.reason for e in events(email=ANNE)} == {'authfailure'}
    fast_forward(days=4)
    run_pass()
    # The owners get one summary a week (the test clock starts on a
    # Monday), not one notice per bounce.
    summaries = {s: m for _, s, m in virgin_messages()
                 if s.startswith('Bounces not held against members')}
    assert sorted(summaries) == [
        'Bounces not held against members of Test, 2005-08-01 to 2005-08-07',
        'Bounces not held against members of Test, 2005-08-08 to 2005-08-14']
    first = summaries[min(summaries)].get_payload(decode=True).decode()
    assert f'{ANNE}: authfailure (7x)' in first


def test_stale_score_restarts(mlist):
    bounce(mlist, ANNE)
    run_pass()
    fast_forward(days=1)
    bounce(mlist, ANNE)
    run_pass()
    assert state(mlist, ANNE).score == 2
    fast_forward(days=8)
    bounce(mlist, ANNE)
    run_pass()
    assert state(mlist, ANNE).score == 1
    assert member(mlist, ANNE).bounce_score == 1


GMAIL_USER_UNKNOWN = ('550 5.1.1 The email account that you tried to reach '
                      'does not exist. {email}')


def _gmail_outage(mlist, gmail):
    for n, email in enumerate(gmail):
        if n % 100 == 0:
            fast_forward(hours=0.5)
        bounce(mlist, email, diagnostic=GMAIL_USER_UNKNOWN)


def test_gmail_outage_freezes_scoring_and_disables_no_one(mailman):
    from mailman.interfaces.member import DeliveryStatus
    gmail = [f'user{n}@gmail.com' for n in range(300)]
    others = [f'person{n}@example.net' for n in range(20)]
    mlist = make_list(members=gmail + others)
    # Some members were already one bounce short of being disabled.
    for email in gmail[:5]:
        _almost_disabled(mlist, email)
    _gmail_outage(mlist, gmail)
    report = run_pass()
    assert report.freezes >= 1
    assert report.outcomes.get('scored', 0) == 0
    assert len(events(processed=False)) == 300
    notices = subjects(virgin_messages())
    assert any('Bounce scoring frozen for domain gmail.com on '
               'test.example.com' in s for s in notices)
    assert any('Bounce scoring frozen for domain gmail.com site-wide' in s
               for s in notices)
    # Still frozen an hour later.
    fast_forward(hours=1)
    assert run_pass().events == 0
    # The freeze ends; nobody bounces again: after the stale window the
    # outage's bounces are recorded as such, and nobody was disabled.
    for _ in range(8):
        fast_forward(days=1)
        run_pass()
    assert events(processed=False) == []
    assert {e.outcome for e in events()} == {'outage'}
    assert all(_delivery(mlist, e) == DeliveryStatus.enabled for e in gmail)
    assert member(mlist, gmail[0]).bounce_score == 4


def test_genuine_bounces_during_an_outage_still_count(mailman):
    gmail = [f'user{n}@gmail.com' for n in range(300)]
    mlist = make_list(members=gmail)
    _gmail_outage(mlist, gmail)
    run_pass()
    # One member's address really is dead: it keeps bouncing after the
    # outage, so the held bounce counts too.
    fast_forward(days=1)
    bounce(mlist, gmail[7], diagnostic=GMAIL_USER_UNKNOWN)
    run_pass()
    assert member(mlist, gmail[7]).bounce_score == 2
    assert [e.outcome for e in events(email=gmail[7])] == [
        'scored', 'scored']
    assert member(mlist, gmail[8]).bounce_score == 0


def test_a_probe_that_does_not_bounce_resets(mailman):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.settings import change_settings
    mlist = make_list(members=[ANNE])
    change_settings(mlist, {'probe_before_disable': True,
                            'probe_wait': '3d'})
    _almost_disabled(mlist, ANNE)
    bounce(mlist, ANNE)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled
    probes = [m for to, s, m in virgin_messages()
              if s == 'Test mailing list probe message']
    assert len(probes) == 1
    assert str(probes[0]['from']).startswith('test-bounces+')
    # The score is kept while the probe has its chance to bounce.
    assert member(mlist, ANNE).bounce_score == 5
    assert events(email=ANNE)[-1].outcome == 'probe-sent'
    fast_forward(days=3)
    run_pass()
    assert member(mlist, ANNE).bounce_score == 0
    assert state(mlist, ANNE).probe_sent is None
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled


def test_a_probe_that_bounces_disables(mailman):
    from mailman.interfaces.bounce import BounceContext
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.settings import change_settings
    mlist = make_list(members=[ANNE])
    change_settings(mlist, {'probe_before_disable': True})
    _almost_disabled(mlist, ANNE)
    bounce(mlist, ANNE)
    run_pass()
    virgin_messages()
    bounce(mlist, ANNE, context=BounceContext.probe)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces
    assert events(email=ANNE)[-1].outcome == 'probe-bounced'


def test_lowering_the_threshold_rechecks_members(mlist):
    from mailman.interfaces.member import DeliveryStatus
    for _ in range(3):
        bounce(mlist, ANNE)
        run_pass()
        fast_forward(days=1)
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled
    mlist.bounce_score_threshold = 3
    commit()
    report = run_pass()
    assert report.outcomes.get('rechecked') == 1
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces


def test_fractional_threshold(mailman):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.settings import change_settings
    mlist = make_list(members=[ANNE])
    change_settings(mlist, {'score_threshold': '1.5'})
    commit()
    bounce(mlist, ANNE, **MAILBOX_FULL)
    run_pass()
    fast_forward(days=1)
    bounce(mlist, ANNE)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces


def test_complaint_unsubscribes_when_asked_to(mailman):
    from mailman_bounces.app.settings import change_settings
    mlist = make_list(members=[ANNE, BART])
    change_settings(mlist, {'complaint_action': 'unsubscribe'})
    commit()
    complain(mlist, ANNE)
    run_pass()
    assert member(mlist, ANNE) is None
    assert member(mlist, BART) is not None
    notices = subjects(virgin_messages())
    assert f'Abuse complaint about Test from {ANNE}' in notices
    [event] = events(email=ANNE)
    assert (event.kind, event.reason, event.feedback_type) == (
        'complaint', 'feedback', 'abuse')


def test_complaint_by_default_only_tells_the_owners(mailman):
    from mailman.interfaces.member import DeliveryStatus
    mlist = make_list(members=[ANNE])
    complain(mlist, ANNE)
    run_pass()
    assert _delivery(mlist, ANNE) == DeliveryStatus.enabled
    assert subjects(virgin_messages()) == [
        f'Abuse complaint about Test from {ANNE}']


def test_process_bounces_off_records_but_never_scores(mlist):
    mlist.process_bounces = False
    commit()
    for _ in range(6):
        bounce(mlist, ANNE)
        run_pass()
        fast_forward(days=1)
    assert member(mlist, ANNE).bounce_score == 0
    assert {e.outcome for e in events(email=ANNE)} == {'processing-off'}


def test_bounces_for_non_members_are_recorded(mlist):
    bounce(mlist, 'stranger@example.org')
    run_pass()
    [event] = events(email='stranger@example.org')
    assert event.processed and event.outcome == 'not-member'


def test_failover_to_another_verified_address(mailman):
    from mailman.interfaces.member import DeliveryStatus
    from mailman.interfaces.usermanager import IUserManager
    from mailman.utilities.datetime import now
    from zope.component import getUtility
    mlist = make_list(members=[BART])
    users = getUtility(IUserManager)
    user = users.create_user(ANNE, 'Anne Person')
    primary = user.addresses[0]
    primary.verified_on = now()
    spare = users.create_address('anne.spare@example.net')
    spare.verified_on = now()
    user.link(spare)
    user.preferred_address = primary
    mlist.subscribe(user)
    mlist.bounce_score_threshold = 1
    commit()
    bounce(mlist, ANNE)
    run_pass()
    moved = mlist.members.get_member('anne.spare@example.net')
    assert moved is not None
    assert _delivery(mlist, 'anne.spare@example.net') == DeliveryStatus.enabled
    assert events(email=ANNE)[-1].outcome == 'failover'
    [(to, _, _)] = [m for m in virgin_messages()
                    if m[1].startswith('Your Test subscription moved')]
    assert to == 'anne.spare@example.net'


def test_sympa_mode_rates_regular_bouncers(mailman):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.settings import change_settings
    mlist = make_list(members=[ANNE, BART])
    change_settings(mlist, {
        'score_mode': 'sympa', 'sympa_min_count': 4,
        'sympa_min_period': '3d', 'sympa_level1': 40,
        'sympa_level1_action': 'notify_owner', 'sympa_level2': 90,
        'sympa_level2_action': 'disable'})
    commit()
    for day in range(6):
        mlist.post_id += 1          # the list sends mail every day
        commit()
        bounce(mlist, ANNE)
        if day % 2 == 0:
            bounce(mlist, BART, **MAILBOX_FULL)
        run_pass()
        fast_forward(days=1)
    # Anne bounced on every sending day, hard: rated 100, disabled.
    assert _delivery(mlist, ANNE) == DeliveryStatus.by_bounces
    # Bart bounced on half the days, softly: never past level 1.
    assert _delivery(mlist, BART) == DeliveryStatus.enabled
    assert state(mlist, BART).sympa_level == 0
