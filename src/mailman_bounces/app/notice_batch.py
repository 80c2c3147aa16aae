"""What the notices carried out in one transaction share, loaded at once.

A list row has about a hundred columns, and core's roster of a list's
administrators costs a query per list and per administrator; a batch of
notices is mostly about a few lists.  So the batch loads its lists, their
owners and moderators, and the members and events its notices are about
with a few queries, and hands them to every handler (`NoticeBatch`).  The
state lives as long as the batch: nothing outlives the transaction whose
objects it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mailman.config import config
from mailman.interfaces.member import MemberRole
from mailman.model.address import Address
from mailman.model.mailinglist import MailingList
from mailman.model.member import Member
from mailman.model.user import User
from public import public
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from zope.interface import implementer

from mailman_bounces.app.templates import domains_cached
from mailman_bounces.interfaces.notice import INoticeBatch
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.notice import Notice

_ADMINISTRATOR_ROLES = (MemberRole.owner, MemberRole.moderator)
# What a member's address and preferences (its language) are read from:
# the member's, its address's and the address's user's preferences.
_MEMBER_GRAPH = (
    selectinload(Member.preferences),
    selectinload(Member._address).selectinload(Address.preferences),
    selectinload(Member._address).selectinload(Address.user)
    .selectinload(User.preferences),
    selectinload(Member._user).selectinload(User.preferences),
    selectinload(Member._user).selectinload(User._preferred_address)
    .selectinload(Address.preferences),
)


class _Administrators:
    """What an owner notice needs of a list's administrator roster (an
    `IRoster`): the addresses of its owners and moderators."""

    def __init__(self, addresses: list[Any]) -> None:
        self.addresses = addresses


def _load(entity: type, ids: set[int | None], options=()) -> list[Any]:
    """The rows of `entity` with these ids, loaded into the session."""
    wanted = sorted(ids - {None})
    if not wanted:
        return []
    return config.db.store.execute(
        select(entity).where(entity.id.in_(wanted)).options(*options)
    ).scalars().all()


@public
@implementer(INoticeBatch)
class NoticeBatch:
    """See `INoticeBatch`."""

    def __init__(self, lists: dict[str, Any],
                 administrators: dict[str, list[Any]],
                 held: tuple[list[Any], ...] = ()) -> None:
        self._lists = lists
        self._administrators = administrators
        # The session holds loaded objects weakly: the batch keeps the
        # members and events its handlers look up by id.
        self._held = held

    @classmethod
    @contextmanager
    def loaded(cls, notices: list[Notice]) -> Iterator[NoticeBatch]:
        """The batch of `notices`, valid within the block (and within the
        transaction that loaded it)."""
        list_ids = {notice.list_id for notice in notices} - {None}
        store = config.db.store
        lists = {mlist.list_id: mlist for mlist in store.execute(
            select(MailingList).where(MailingList._list_id.in_(list_ids))
        ).scalars()}
        administrators: dict[str, list[Any]] = {}
        for member in store.execute(
                select(Member).where(Member.list_id.in_(list_ids),
                                     Member.role.in_(_ADMINISTRATOR_ROLES))
                .order_by(Member.id)
                .options(*_MEMBER_GRAPH)).scalars():
            administrators.setdefault(member.list_id, []).append(
                member.address)
        members = _load(Member, {notice.member_id for notice in notices},
                        _MEMBER_GRAPH)
        events = _load(BounceEvent, {notice.event_id for notice in notices})
        for member in members:
            # Core keeps a member's list on the instance once looked up;
            # give it the batch's, or the member's preferred language (which
            # falls back to the list's) reloads the whole list row for every
            # warning.
            member._mailing_list = lists.get(member.list_id)
        with domains_cached():
            yield cls(lists, administrators, (members, events))

    def mailing_list(self, list_id: str | None):
        """See `INoticeBatch`."""
        mlist = self._lists.get(list_id)
        if mlist is None:
            raise LookupError(f'no such list: {list_id}')
        return mlist

    def administrators(self, mlist):
        """See `INoticeBatch`.  A list the batch did not load gets core's
        roster."""
        if self._lists.get(mlist.list_id) is not mlist:
            return mlist.administrators
        return _Administrators(self._administrators.get(mlist.list_id, []))
