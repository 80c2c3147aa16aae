"""Outage freeze griefing: a freeze kept going by bursts of bounces every
window is not extended past ``[outage]max_unconfirmed`` (24 hours) without
a site administrator's confirmation."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    events,
    fast_forward,
    make_list,
    run_pass,
    state,
    virgin_messages,
)

DOMAIN = 'grief.example.net'
MEMBERS = [f'user{n}@{DOMAIN}' for n in range(20)]
# The schema's default limit.
LIMIT = timedelta(hours=24)


def _burst(mlist, round_: int) -> None:
    """Five members bounce (new messages each round): 25 % of the domain,
    over the 20 % share that freezes it."""
    first = (round_ * 5) % len(MEMBERS)
    for email in MEMBERS[first:first + 5]:
        bounce(mlist, email,
               diagnostic=f'550 5.1.1 <{{email}}>: user unknown ({round_})')


def _freezes_in_force():
    from mailman.utilities.datetime import now

    from mailman_bounces.app.queries.freezes import find_freezes
    return [freeze for freeze, in find_freezes(now()).rows]


def _grief(mlist, hours: float) -> int:
    """Bursts every 1.5 hours (inside the 2-hour window, so that each
    keeps the freeze going) for `hours`; the number of rounds."""
    rounds = math.ceil(hours / 1.5)
    for round_ in range(rounds):
        _burst(mlist, round_)
        run_pass()
        fast_forward(hours=1.5)
    return rounds


def _score(mlist, email: str) -> float:
    standing = state(mlist, email)
    return 0 if standing is None else standing.score


@pytest.fixture
def griefed(mailman):
    """A list whose domain has been sent a burst every 1.5 hours for the
    limit and one more hour."""
    from mailman.utilities.datetime import now
    mlist = make_list(members=MEMBERS)
    started = now()
    _grief(mlist, LIMIT.total_seconds() / 3600 + 1)
    return mlist, started


def test_a_freeze_is_not_extended_past_the_limit(griefed):
    from mailman.utilities.datetime import now
    mlist, started = griefed
    assert now() > started + LIMIT
    # Every freeze of the domain ended at the limit, though bursts went on.
    assert _freezes_in_force() == []
    # Later bursts count: user5 ... user9 bounce again; their new bounces
    # are evaluated at once, not held, and give them a score.
    assert _score(mlist, MEMBERS[5]) == 0
    _burst(mlist, 1)
    run_pass()
    assert _freezes_in_force() == []
    latest = events()[-5:]
    assert {event.email for event in latest} == set(MEMBERS[5:10])
    assert all(event.processed and event.held_by is None
               for event in latest)
    assert _score(mlist, MEMBERS[5]) > 0


def test_the_site_admin_is_told_once(griefed):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.freeze import OutageFreeze
    freezes = config.db.store.execute(select(OutageFreeze)).scalars().all()
    assert freezes
    for freeze in freezes:
        assert freeze.expires == freeze.started + LIMIT
        assert freeze.capped is not None
    messages = virgin_messages()
    cap_notices = [(to, subject) for to, subject, _ in messages
                   if 'needs your confirmation' in subject]
    [body] = [msg.get_payload() for _, subject, msg in messages
              if subject == cap_notices[0][1]]
    assert f'mailman bounces freezes --confirm {freezes[0].id}' in body
    # One notice per freeze, to the site owner (no [bounces]site_admin).
    assert len(cap_notices) == len(freezes)
    assert {to for to, _ in cap_notices} == {config.mailman.site_owner}
    expected = (f'Outage freeze {freezes[0].id} for domain {DOMAIN} needs '
                'your confirmation')
    assert expected in {subject for _, subject in cap_notices}


def test_a_confirmed_freeze_goes_on(griefed):
    from mailman.config import config
    from mailman.utilities.datetime import now
    from sqlalchemy import select

    from mailman_bounces.app.outage import confirm_freeze
    from mailman_bounces.model.freeze import OutageFreeze
    mlist, _started = griefed
    [domain_freeze] = config.db.store.execute(
        select(OutageFreeze).where(OutageFreeze.list_id == mlist.list_id,
                                   OutageFreeze.key_type == 'domain')
    ).scalars().all()
    confirmed_at = now()
    confirm_freeze(domain_freeze.id, confirmed_at, by='test')
    commit()
    assert domain_freeze in _freezes_in_force()
    assert domain_freeze.confirmed_until == confirmed_at + LIMIT
    assert domain_freeze.capped is None
    # Bursts keep it going now, up to the new limit.
    virgin_messages()
    _grief(mlist, 6)
    assert domain_freeze in _freezes_in_force()
    assert not [subject for _, subject, _ in virgin_messages()
                if f'freeze {domain_freeze.id} ' in subject]


def test_confirming_a_lifted_or_unknown_freeze_is_refused(mailman):
    from mailman.utilities.datetime import now

    from mailman_bounces.app.outage import (
        CannotConfirm,
        confirm_freeze,
        lift_freeze,
    )
    mlist = make_list(members=MEMBERS)
    _burst(mlist, 0)
    run_pass()
    [freeze, *_] = _freezes_in_force()
    lift_freeze(freeze.id, now())
    with pytest.raises(CannotConfirm, match='was lifted'):
        confirm_freeze(freeze.id, now())
    assert confirm_freeze(10**6, now()) is None


def test_the_limit_is_a_site_setting():
    from mailman_bounces.config import ConfigurationError
    from mailman_bounces.config.site import load_site_config
    assert load_site_config().outage.max_unconfirmed == LIMIT
    assert load_site_config('[outage]\nmax_unconfirmed: 2d12h\n') \
        .outage.max_unconfirmed == timedelta(days=2, hours=12)
    with pytest.raises(ConfigurationError,
                       match=r'\[outage\]max_unconfirmed: invalid value'):
        load_site_config('[outage]\nmax_unconfirmed: a day\n')
