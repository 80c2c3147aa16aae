"""The per-domain member counts outage detection weighs bursts against."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    fast_forward,
    make_list,
    run_pass,
    sent_statements,
)


def _kept() -> dict[tuple[str, str], int]:
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.domain_members import DomainMembers
    return {(row.list_id, row.domain): row.members
            for row in config.db.store.execute(select(DomainMembers))
            .scalars()}


@pytest.fixture
def two_lists(mailman):
    from mailman.interfaces.member import MemberRole
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    ant = make_list('ant@example.com',
                    members=['a1@one.example', 'a2@ONE.example',
                             'a3@two.example'])
    bee = make_list('bee@example.com', members=['a1@one.example'])
    # A member subscribed as a user gets mail at the preferred address.
    users = getUtility(IUserManager)
    user = users.create_user('u@three.example')
    [address] = user.addresses
    address.verified_on = address.registered_on
    user.preferred_address = address
    bee.subscribe(user)
    # Owners and nonmembers are not members of the domain.
    ant.subscribe(users.create_address('boss@one.example'),
                  MemberRole.owner)
    commit()
    return ant, bee


def test_recount_counts_each_list_and_the_site(two_lists):
    from mailman_bounces.app.domain_members import recount_domain_members
    changed = recount_domain_members()
    commit()
    expected = {
        ('ant.example.com', 'one.example'): 2,
        ('ant.example.com', 'two.example'): 1,
        ('bee.example.com', 'one.example'): 1,
        ('bee.example.com', 'three.example'): 1,
        ('', 'one.example'): 3,
        ('', 'two.example'): 1,
        ('', 'three.example'): 1,
    }
    assert _kept() == expected
    assert changed == len(expected)
    # Nothing changed since: nothing is written.
    assert recount_domain_members() == 0


def test_recount_writes_only_what_changed(two_lists):
    from mailman.config import config
    from mailman.interfaces.listmanager import IListManager
    from sqlalchemy import text
    from zope.component import getUtility

    from mailman_bounces.app.domain_members import recount_domain_members
    recount_domain_members()
    # Drift the counts behind their back: raw SQL fires no events.
    config.db.store.execute(text(
        "UPDATE bounces_domain_members SET members = 7 "
        "WHERE domain = 'two.example'"))
    config.db.store.execute(text(
        "INSERT INTO bounces_domain_members (list_id, domain, members) "
        "VALUES ('ant.example.com', 'gone.example', 4)"))
    bee = getUtility(IListManager).get('bee@example.com')
    bee.members.get_member('a1@one.example').unsubscribe()
    commit()
    # Two drifted rows restored, the stale row and the emptied one deleted
    # (the unsubscription was followed as it happened).
    assert recount_domain_members() == 4
    assert _kept()[('', 'two.example')] == 1
    assert ('ant.example.com', 'gone.example') not in _kept()
    assert ('bee.example.com', 'one.example') not in _kept()
    assert _kept()[('', 'one.example')] == 2


def test_subscriptions_move_the_kept_counts(two_lists):
    from mailman.interfaces.member import MemberRole
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility

    from mailman_bounces.app.domain_members import recount_domain_members
    ant, bee = two_lists
    recount_domain_members()
    commit()
    users = getUtility(IUserManager)
    ant.subscribe(users.create_address('a4@One.Example'))
    bee.subscribe(users.create_address('mod@one.example'),
                  MemberRole.moderator)
    ant.members.get_member('a3@two.example').unsubscribe()
    # A domain not kept yet stays unkept (it is counted when needed).
    bee.subscribe(users.create_address('x@new.example'))
    commit()
    kept = _kept()
    assert kept[('ant.example.com', 'one.example')] == 3
    assert kept[('', 'one.example')] == 4
    assert kept[('ant.example.com', 'two.example')] == 0
    assert kept[('', 'two.example')] == 0
    assert kept[('bee.example.com', 'one.example')] == 1
    assert ('', 'new.example') not in kept
    # The recount agrees with what was followed, apart from the new domain
    # (the emptied domain's rows go).
    assert recount_domain_members() == 4


def test_a_rolled_back_subscription_leaves_the_counts(two_lists):
    from mailman.config import config
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility

    from mailman_bounces.app.domain_members import recount_domain_members
    ant, _ = two_lists
    recount_domain_members()
    commit()
    ant.subscribe(getUtility(IUserManager).create_address('a9@one.example'))
    config.db.abort()
    assert _kept()[('ant.example.com', 'one.example')] == 2


def test_a_domain_not_kept_is_counted_live_once(two_lists):
    from mailman_bounces.app.domain_members import domain_members

    def reads() -> int:
        return sum('LIKE' in statement.text.upper() for statement in sent)
    with sent_statements() as sent:
        assert domain_members('one.example', 'ant.example.com') == 2
        assert domain_members('one.example', None) == 3
        assert domain_members('three.example', None) == 1
        assert domain_members('nobody.example', None) == 0
        first = reads()
        # Kept now: asked again, core's addresses are not read.
        assert domain_members('one.example', 'ant.example.com') == 2
        assert domain_members('one.example', None) == 3
        assert domain_members('nobody.example', None) == 0
    assert first > 0
    assert reads() == first
    assert _kept()[('', 'nobody.example')] == 0


def test_a_like_pattern_in_a_domain_is_taken_literally(mailman):
    from mailman_bounces.app.domain_members import domain_members
    make_list(members=['a@xy.example'])
    assert domain_members('xy.example', None) == 1
    assert domain_members('x_.example', None) == 0
    assert domain_members('x%', None) == 0


def _gmail_burst(mlist, emails) -> None:
    for email in emails:
        bounce(mlist, email)


def test_a_burst_recounts_at_most_once_a_day(mailman):
    from mailman.config import config
    from sqlalchemy import text
    members = [f'user{n}@gmail.com' for n in range(20)]
    mlist = make_list(members=members)
    # No burst, no recount.
    bounce(mlist, members[0])
    run_pass()
    assert _kept() == {}
    _gmail_burst(mlist, members[:6])
    run_pass()
    assert _kept() == {('test.example.com', 'gmail.com'): 20,
                       ('', 'gmail.com'): 20}
    config.db.store.execute(text(
        'UPDATE bounces_domain_members SET members = 9'))
    commit()
    fast_forward(hours=12)
    _gmail_burst(mlist, members[6:12])
    run_pass()
    assert set(_kept().values()) == {9}
    fast_forward(hours=13)
    _gmail_burst(mlist, members[12:18])
    run_pass()
    assert set(_kept().values()) == {20}


def test_outage_detection_does_not_read_the_addresses(mailman):
    """With the counts kept, a burst costs no read of core's addresses."""
    members = [f'user{n}@gmail.com' for n in range(20)]
    mlist = make_list(members=members)
    for email in members[:10]:
        bounce(mlist, email)
    with sent_statements() as sent:
        report = run_pass()
    assert report.freezes >= 1
    assert [statement.text for statement in sent
            if 'address' in statement.text.lower()
            and 'LIKE' in statement.text.upper()] == []


def test_members_who_joined_since_the_recount_weigh_in(mailman):
    """The burst is weighed against the members the domain has now."""
    from mailman.interfaces.usermanager import IUserManager
    from mailman.utilities.datetime import now
    from zope.component import getUtility

    from mailman_bounces.app.domain_members import recount_if_due
    first = [f'user{n}@gmail.com' for n in range(10)]
    mlist = make_list(members=first)
    # The day's recount, before the others joined.
    assert recount_if_due(now())
    commit()
    users = getUtility(IUserManager)
    for n in range(10, 100):
        mlist.subscribe(users.create_address(f'user{n}@gmail.com'))
    commit()
    # 10 of 100 members bounce: under the 20% share, not an outage (it
    # would be, weighed against the 10 members of the recount).
    for n in range(10):
        bounce(mlist, f'user{n}@gmail.com')
    report = run_pass()
    assert report.freezes == 0
    assert report.outcomes.get('scored') == 10
