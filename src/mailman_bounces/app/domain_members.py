"""The number of members at each recipient domain, kept for outage detection.

Outage detection asks, for each domain whose members bounce in a burst,
how many members the domain has on the list (or on the whole site).  Core
cannot answer that through an index, so the answers are kept in the
``bounces_domain_members`` table:

* when a burst needs a domain's size and the last recount is a day old,
  one read of all memberships recounts every domain, and only the counts
  that changed are written;
* in between, each subscription or unsubscription (core's events) adds one
  to or takes one from its domain's counts, in the same transaction;
* a domain not counted yet is counted live when it first bursts, and the
  count is kept.

Changes core sends no event for (a member switched to another address, a
user's preferred address changed) show in the counts at the next daily
recount.  The counts only weigh a burst against the size of its domain, so
a day's lag in them costs nothing a freeze's owner could notice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from mailman.config import config
from mailman.interfaces.member import (
    MemberRole,
    SubscriptionEvent,
    UnsubscriptionEvent,
)
from mailman.model.address import Address
from mailman.model.member import Member
from mailman.model.user import User
from public import public
from sqlalchemy import and_, bindparam, delete, distinct, func, insert, select, update

from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.domain_members import SITE, DomainMembers
from mailman_bounces.model.event import domain_of

# Rows fetched at a time while reading every membership.
_READ_CHUNK = 10_000
# The recount corrects what core sends no event for (see above).
RECOUNT_TURN = 'domain-members'
RECOUNT_EVERY = timedelta(days=1)

_TABLE = DomainMembers.__table__


def _member_addresses(*columns) -> tuple:
    """Two queries of `columns` about every member with the member role,
    joined to the address the member receives mail at: a member subscribed
    by address has it in ``address_id``; one subscribed as a user receives
    mail at the user's preferred address."""
    by_address = (select(*columns)
                  .join(Address, Member.address_id == Address.id))
    by_user = (select(*columns)
               .join(User, Member.user_id == User.id)
               .join(Address, User._preferred_address_id == Address.id)
               .where(Member.address_id.is_(None)))
    return tuple(query.where(Member.role == MemberRole.member)
                 for query in (by_address, by_user))


def _memberships() -> Iterator[tuple[str, str]]:
    """(list id, email) of every member, streamed.  Read through the
    session's connection, without the ORM's per-row work: at 100,000
    members that halves the time of a recount."""
    connection = config.db.store.connection()
    for query in _member_addresses(Member.list_id, Address.email):
        result = connection.execute(
            query, execution_options={'stream_results': True})
        for partition in result.partitions(_READ_CHUNK):
            yield from partition


@public
def count_all_domains() -> Counter:
    """Members per (list id, domain), and per (SITE, domain)."""
    counts = Counter((list_id, domain_of(email))
                     for list_id, email in _memberships())
    site: Counter = Counter()
    for (_, domain), number in counts.items():
        site[(SITE, domain)] += number
    counts.update(site)
    return counts


def _key_rows(keys) -> list[dict]:
    return [{'b_list': list_id, 'b_domain': domain}
            for list_id, domain in keys]


def _this_row():
    return and_(_TABLE.c.list_id == bindparam('b_list'),
                _TABLE.c.domain == bindparam('b_domain'))


@public
def recount_if_due(now: datetime) -> bool:
    """Recount every domain's members if the last recount is a day old.

    Called only when a burst needs its domain's size: a site whose bounces
    never burst never pays for the recount.
    """
    from mailman_bounces.app.claims import take_turn
    if not take_turn(RECOUNT_TURN, RECOUNT_EVERY, now):
        return False
    recount_domain_members()
    return True


@public
def recount_domain_members() -> int:
    """Recount every domain's members; return how many counts changed."""
    store = config.db.store
    fresh = count_all_domains()
    kept = {(list_id, domain): members for list_id, domain, members
            in store.connection().execute(select(_TABLE))}
    gone = [key for key in kept if key not in fresh]
    changed = [(key, number) for key, number in fresh.items()
               if key in kept and kept[key] != number]
    new = [{'list_id': key[0], 'domain': key[1], 'members': number}
           for key, number in fresh.items() if key not in kept]
    if gone:
        store.execute(delete(_TABLE).where(_this_row()), _key_rows(gone))
    if changed:
        rows = _key_rows(key for key, _ in changed)
        for row, (_, number) in zip(rows, changed):
            row['b_members'] = number
        store.execute(update(_TABLE).where(_this_row())
                      .values(members=bindparam('b_members')), rows)
    if new:
        store.execute(insert(_TABLE), new)
    return len(gone) + len(changed) + len(new)


def _count_live(domain: str, list_id: str | None) -> int:
    """Members at `domain` (on `list_id`, or site-wide), read from core's
    tables: every address is read, so this is for domains not kept yet."""
    pattern = '%@' + domain.replace('\\', '\\\\').replace(
        '%', '\\%').replace('_', '\\_')
    count = 0
    for query in _member_addresses(func.count(distinct(Member.id))):
        query = query.where(Address.email.like(pattern, escape='\\'))
        if list_id is not None:
            query = query.where(Member.list_id == list_id)
        count += config.db.store.execute(query).scalar_one()
    return count


@public
def domain_members(domain: str, list_id: str | None) -> int:
    """How many members have their address at `domain`, on `list_id` or
    (None) on all lists together."""
    key = SITE if list_id is None else list_id
    store = config.db.store
    kept = store.execute(
        select(_TABLE.c.members).where(_TABLE.c.list_id == key,
                                       _TABLE.c.domain == domain)
    ).scalar_one_or_none()
    if kept is not None:
        return kept
    number = _count_live(domain, list_id)
    # Another runner may have counted it meanwhile: either count is right.
    insert_ignoring_duplicates(store, _TABLE, [
        {'list_id': key, 'domain': domain, 'members': number}])
    return number


@public
def follow_membership(event: object) -> None:
    """Core event subscriber: keep the counts of a member's domain current
    when the member joins or leaves a list."""
    if isinstance(event, SubscriptionEvent):
        change = 1
    elif isinstance(event, UnsubscriptionEvent):
        change = -1
    else:
        return
    member = event.member
    address = member.address
    if member.role != MemberRole.member or address is None:
        return
    # Counts not kept yet are left alone: they are counted when needed.
    config.db.store.execute(
        update(_TABLE)
        .where(_TABLE.c.list_id.in_((event.mlist.list_id, SITE)),
               _TABLE.c.domain == domain_of(address.email))
        .values(members=_TABLE.c.members + change))


@public
def follow_memberships() -> None:
    """Keep the counts current as members come and go: subscribe
    `follow_membership` to core's events (once)."""
    from zope.event import subscribers
    if follow_membership not in subscribers:
        subscribers.append(follow_membership)
