"""The pure policy: scoring and outage decisions, table-driven.

No Mailman here: facts in, decisions out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mailman_bounces.config.site import OutageConfig, load_site_config
from mailman_bounces.policy.outage import BounceBurst, should_freeze
from mailman_bounces.policy.scoring import (
    BounceFact,
    MemberFacts,
    event_weight,
    probe_expired,
    recheck_threshold,
    score_member,
)
from mailman_bounces.policy.settings import ListPolicy

T0 = datetime(2026, 11, 2, 9, 0)
WEIGHTS = load_site_config().weights


def policy(**changes) -> ListPolicy:
    changes.setdefault('weights', WEIGHTS)
    return ListPolicy(list_id='test.example.com', **changes)


def fact(day: float = 0, reason: str = 'userunknown', severity: str = 'hard',
         kind: str = 'bounce', probe: bool = False, event_id: int = 0):
    return BounceFact(event_id=event_id or int(day * 100) + 1,
                      timestamp=T0 + timedelta(days=day), kind=kind,
                      severity=severity, reason=reason, probe=probe)


def member(**changes) -> MemberFacts:
    return MemberFacts(member_id=1, email='anne@example.org', **changes)


@pytest.mark.parametrize('reason, severity, kind, weight', [
    ('userunknown', 'hard', 'bounce', 1.0),
    ('hostunknown', 'hard', 'bounce', 1.0),
    ('mailboxfull', 'soft', 'delay', 0.5),
    ('expired', 'soft', 'bounce', 0.5),
    # A temporary failure never weighs more than half...
    ('userunknown', 'soft', 'delay', 0.5),
    # ... and what is not the member's fault weighs nothing.
    ('authfailure', 'soft', 'bounce', 0.0),
    ('spamdetected', 'soft', 'bounce', 0.0),
    ('badreputation', 'soft', 'bounce', 0.0),
    ('policyviolation', 'soft', 'bounce', 0.0),
    ('blocked', 'soft', 'bounce', 0.0),
    ('contenterror', 'soft', 'bounce', 0.0),
    ('delivered', 'none', 'bounce', 0.0),
    # Registered without a readable report: like an unclassified bounce.
    ('undefined', 'none', 'unknown', 0.5),
])
def test_event_weights(reason, severity, kind, weight):
    assert event_weight(policy(), fact(reason=reason, severity=severity,
                                       kind=kind)) == weight


def test_list_weights_override_the_site():
    custom = policy(weights={**WEIGHTS, 'mailboxfull': 0.25})
    assert event_weight(custom, fact(reason='mailboxfull',
                                     severity='soft')) == 0.25


def test_one_increment_per_day():
    scored = score_member(policy(), member(), [
        fact(0), fact(0.1, event_id=2), fact(1)], T0)
    assert scored.member.score == 2.0
    assert [o.outcome for o in scored.outcomes] == [
        'scored', 'same-day', 'scored']


def test_same_day_heavier_bounce_adds_the_difference():
    scored = score_member(policy(), member(), [
        fact(0, 'mailboxfull', 'soft', event_id=1),
        fact(0.2, event_id=2)], T0)
    assert scored.member.score == 1.0
    assert [o.delta for o in scored.outcomes] == [0.5, 0.5]


def test_stale_score_restarts():
    old = member(score=4.0, last_bounce=T0 - timedelta(days=8),
                 scored_day=(T0 - timedelta(days=8)).date(), day_weight=1.0)
    scored = score_member(policy(), old, [fact(0)], T0)
    assert scored.member.score == 1.0
    assert scored.member.run_started == T0


def test_threshold_disables_and_notifies():
    near = member(score=4.0, last_bounce=T0 - timedelta(days=1),
                  scored_day=(T0 - timedelta(days=1)).date(), day_weight=1)
    scored = score_member(policy(), near, [fact(0)], T0)
    assert scored.member.disabled
    assert scored.member.score == 0
    assert scored.member.disabled_reason == 'userunknown'
    assert [a.kind for a in scored.actions] == ['disable', 'notify_disable']
    assert scored.outcomes[0].outcome == 'disabled'


def test_probe_before_disabling():
    near = member(score=4.0, last_bounce=T0 - timedelta(days=1))
    scored = score_member(policy(probe_before_disable=True), near,
                          [fact(0)], T0)
    assert not scored.member.disabled
    assert scored.member.probe_sent == T0
    assert [a.kind for a in scored.actions] == ['probe']
    assert scored.outcomes[0].outcome == 'probe-sent'
    # A second bounce while the probe is out sends no second probe.
    again = score_member(policy(probe_before_disable=True), scored.member,
                         [fact(1)], T0 + timedelta(days=1))
    assert again.actions == []


def test_probe_bounce_disables_and_unbounced_probe_expires():
    probing = member(score=5.0, probe_sent=T0)
    scored = score_member(policy(), probing, [fact(1, probe=True)], T0)
    assert scored.member.disabled
    assert scored.outcomes[0].outcome == 'probe-bounced'
    assert not probe_expired(policy(), probing, T0 + timedelta(days=4))
    assert probe_expired(policy(), probing, T0 + timedelta(days=5))


def test_disabled_members_are_not_scored_again():
    scored = score_member(policy(), member(disabled=True), [fact(0)], T0)
    assert scored.member.score == 0
    assert scored.outcomes[0].outcome == 'already-disabled'


@pytest.mark.parametrize('mode', ['mailman', 'sympa'])
def test_ignored_bounces_are_reported_not_counted(mode):
    scored = score_member(policy(score_mode=mode), member(), [
        fact(0, 'authfailure', 'soft')], T0)
    assert scored.member.score == 0
    assert scored.member.last_bounce is None
    # The outcome is what the owners' summary of ignored bounces reports;
    # nothing else is to be done about the member.
    assert [(o.outcome, o.delta) for o in scored.outcomes] == [('ignored', 0)]
    assert scored.actions == []


@pytest.mark.parametrize('action, expected', [
    ('none', ['notify_complaint']),
    ('disable', ['notify_complaint', 'disable']),
    ('unsubscribe', ['notify_complaint', 'unsubscribe']),
])
def test_complaints(action, expected):
    scored = score_member(policy(complaint_action=action), member(), [
        fact(0, 'feedback', 'none', kind='complaint')], T0)
    assert [a.kind for a in scored.actions] == expected
    assert scored.member.disabled == (action == 'disable')


def test_fractional_threshold():
    scored = score_member(policy(score_threshold=1.5), member(), [
        fact(0, 'mailboxfull', 'soft'), fact(1)], T0)
    assert scored.member.disabled


def test_increment_notice_only_when_asked():
    quiet = score_member(policy(), member(), [fact(0)], T0)
    loud = score_member(
        policy(bounce_notify_owner_on_bounce_increment=True), member(),
        [fact(0)], T0)
    assert quiet.actions == []
    assert [a.kind for a in loud.actions] == ['notify_increment']


def test_recheck_after_a_lowered_threshold():
    scored_member = member(score=3.0, last_bounce=T0 - timedelta(days=1))
    assert recheck_threshold(policy(), scored_member, T0).actions == []
    lowered = recheck_threshold(policy(bounce_score_threshold=3),
                                scored_member, T0)
    assert lowered.member.disabled
    stale = member(score=3.0, last_bounce=T0 - timedelta(days=30))
    assert recheck_threshold(policy(bounce_score_threshold=3), stale,
                             T0).actions == []


SYMPA = {'score_mode': 'sympa', 'sympa_min_count': 3,
         'sympa_min_period': timedelta(days=2), 'sympa_level1': 40,
         'sympa_level1_action': 'notify_owner', 'sympa_level2': 80,
         'sympa_level2_action': 'disable'}


def test_sympa_waits_for_minimum_count_and_period():
    scored = score_member(policy(**SYMPA), member(), [fact(0), fact(1)], T0)
    assert scored.rating is None
    assert scored.actions == []


def test_sympa_regular_hard_bouncer_reaches_level_two():
    facts = [fact(day) for day in range(4)]
    scored = score_member(policy(**SYMPA), member(), facts, T0)
    assert scored.rating == 100.0
    assert [a.kind for a in scored.actions] == ['disable', 'notify_disable']


def test_sympa_regularity_against_the_lists_traffic():
    facts = [fact(0), fact(2), fact(4)]
    sending = {(T0 + timedelta(days=d)).date() for d in range(5)}
    scored = score_member(policy(**SYMPA), member(), facts, T0,
                          sending_days=sending)
    # Bounced on 3 of the 5 days the list sent mail: 60.
    assert scored.rating == 60.0
    assert [a.kind for a in scored.actions] == ['notify_level']
    assert scored.member.sympa_level == 1
    # The level's action is taken once per run.
    again = score_member(policy(**SYMPA), scored.member, [fact(5)], T0,
                         history=facts, sending_days=sending)
    assert 'notify_level' not in [a.kind for a in again.actions]


def test_sympa_soft_bounces_rate_lower():
    facts = [fact(day, 'mailboxfull', 'soft') for day in range(4)]
    scored = score_member(policy(**SYMPA), member(), facts, T0)
    assert scored.rating == 50.0


OUTAGE = OutageConfig(window=timedelta(hours=2), share=0.2, min_members=5)


@pytest.mark.parametrize('bouncing, members, frozen', [
    (4, 10, False),        # below min_members, whatever the share
    (5, 10, True),         # half the domain's members
    (5, 100, False),       # 5 % of the domain
    (20, 100, True),       # 20 %
    # A big domain's ordinary dead-address bounces: no freeze by default.
    (500, 100_000, False),
    (20_000, 100_000, True),
    # Members behind a relay cannot be counted: no share, no freeze.
    (60, None, False),
])
def test_outage_decisions(bouncing, members, frozen):
    burst = BounceBurst('domain' if members else 'mx', 'gmail.com', None,
                        bouncing, members)
    assert should_freeze(OUTAGE, burst) is frozen


@pytest.mark.parametrize('bouncing, members, frozen', [
    (50, 100_000, True),
    (49, 100_000, False),
    (60, None, True),
])
def test_outage_absolute_trigger_when_configured(bouncing, members, frozen):
    absolute = OutageConfig(window=timedelta(hours=2), share=0.2, count=50,
                            min_members=5)
    burst = BounceBurst('mx', 'mx.example', None, bouncing, members)
    assert should_freeze(absolute, burst) is frozen


def test_outage_protection_can_be_disabled():
    off = OutageConfig(enabled=False)
    assert not should_freeze(off, BounceBurst('domain', 'x', None, 500, 500))


# The limit of unconfirmed freezes: 24 hours by default, a window of 2.
T0 = datetime(2026, 1, 1, 12, 0)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize('expires, burst_at, extended, capped', [
    # A burst within the limit extends the freeze by a window.
    (T0 + 2 * HOUR, T0 + 1 * HOUR, T0 + 3 * HOUR, False),
    (T0 + 22 * HOUR, T0 + 21 * HOUR, T0 + 23 * HOUR, False),
    # Up to the limit exactly, not a minute past it.
    (T0 + 23 * HOUR, T0 + 22 * HOUR, T0 + 24 * HOUR, False),
    (T0 + 24 * HOUR, T0 + 23 * HOUR, T0 + 24 * HOUR, True),
])
def test_a_freeze_is_extended_up_to_its_limit(expires, burst_at, extended,
                                              capped):
    from mailman_bounces.policy.outage import (
        Extension,
        FreezeTimes,
        extend_freeze,
    )
    freeze = FreezeTimes(started=T0, expires=expires)
    assert extend_freeze(OUTAGE, freeze, burst_at) == Extension(
        extended, capped)


def test_a_confirmation_moves_the_limit():
    from mailman_bounces.policy.outage import (
        FreezeTimes,
        confirmed_until,
        extend_freeze,
        freeze_cap,
    )
    confirmed = confirmed_until(OUTAGE, T0 + 30 * HOUR)
    assert confirmed == T0 + 54 * HOUR
    freeze = FreezeTimes(T0, T0 + 31 * HOUR, confirmed_until=confirmed)
    assert freeze_cap(OUTAGE, freeze) == confirmed
    assert not extend_freeze(OUTAGE, freeze, T0 + 40 * HOUR).capped
    assert extend_freeze(OUTAGE, freeze, T0 + 53 * HOUR).expires == confirmed


def test_no_limit_when_the_site_sets_none():
    from mailman_bounces.policy.outage import (
        FreezeTimes,
        extend_freeze,
        may_freeze_again,
        new_freeze_expiry,
    )
    unlimited = OutageConfig(max_unconfirmed=timedelta(0))
    freeze = FreezeTimes(T0, T0 + 99 * HOUR)
    assert extend_freeze(unlimited, freeze, T0 + 98 * HOUR).expires \
        == T0 + 100 * HOUR
    assert new_freeze_expiry(unlimited, T0) == T0 + 2 * HOUR
    assert may_freeze_again(unlimited, T0, T0)


def test_a_capped_key_is_not_frozen_again_for_the_limit():
    from mailman_bounces.policy.outage import may_freeze_again
    ended = T0 + 24 * HOUR
    assert may_freeze_again(OUTAGE, None, T0)
    assert not may_freeze_again(OUTAGE, ended, ended + 23 * HOUR)
    assert may_freeze_again(OUTAGE, ended, ended + 24 * HOUR)


def test_a_limit_shorter_than_the_window_bounds_a_new_freeze():
    from mailman_bounces.policy.outage import new_freeze_expiry
    short = OutageConfig(window=timedelta(hours=2),
                         max_unconfirmed=timedelta(minutes=30))
    assert new_freeze_expiry(short, T0) == T0 + timedelta(minutes=30)
