"""Members' bounce standing: core's view and the plugin's, per list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from mailman.config import config
from mailman.interfaces.member import DeliveryStatus, MemberRole
from mailman.model.address import Address
from mailman.model.member import Member
from mailman.model.preferences import Preferences
from mailman.model.user import User
from public import public
from sqlalchemy import and_, false, func, literal, not_, or_, select
from sqlalchemy.orm import aliased

from mailman_bounces.app.queries.lists import unmatchable
from mailman_bounces.app.queries.paging import Page, paginate
from mailman_bounces.fields import (
    COUNT,
    INTEGER,
    NUMBER,
    STRING,
    TIME,
    Field,
    Shape,
    choice,
    nullable,
)
from mailman_bounces.model.member import MemberBounceState

__all__ = [
    'DELIVERY_STATUSES',
    'STANDING_FIELDS',
    'disabled_counts',
    'find_member',
    'find_members',
    'member_object',
]

DELIVERY_STATUSES = tuple(status.name for status in DeliveryStatus)


def _exact_score(row, *_) -> float:
    # The exact score is the plugin's unless core's integer changed behind
    # its back (see mailman_bounces.app.members).
    core = row.bounce_score or 0
    if row.state_id is not None and row.core_score == core:
        return row.score
    return float(core)


def _last_warning(row, *_) -> datetime | None:
    # Core marks a member who was never warned with datetime.min.
    warned = row.last_warning_sent
    return None if warned in (None, datetime.min) else warned


# What a member's standing shows, from a row of `find_members`.
STANDING_FIELDS = Shape(
    Field('list_id', STRING),
    Field('email', STRING),
    Field('display_name', STRING,
          read=lambda row, *_: row.display_name or ''),
    Field('delivery_status', choice(DELIVERY_STATUSES),
          read=lambda row, *_: row.delivery_status.name),
    Field('bounce_score', INTEGER, "Core's score.",
          read=lambda row, *_: row.bounce_score or 0),
    Field('score', NUMBER, 'The exact (weighted) score.', read=_exact_score),
    Field('last_bounce_received', nullable(TIME)),
    Field('last_reason', nullable(STRING)),
    Field('disabled_reason', nullable(STRING)),
    Field('disabled_at', nullable(TIME)),
    Field('total_warnings_sent', COUNT,
          read=lambda row, *_: row.total_warnings_sent or 0),
    Field('last_warning_sent', nullable(TIME), read=_last_warning),
    Field('probe_sent', nullable(TIME)),
)


@dataclass(frozen=True)
class _Aliases:
    direct: Any = field(default_factory=lambda: aliased(Address))
    subscribed_user: Any = field(default_factory=lambda: aliased(User))
    preferred: Any = field(default_factory=lambda: aliased(Address))
    user: Any = field(default_factory=lambda: aliased(User))
    member_prefs: Any = field(default_factory=lambda: aliased(Preferences))
    address_prefs: Any = field(default_factory=lambda: aliased(Preferences))
    user_prefs: Any = field(default_factory=lambda: aliased(Preferences))


def _listed(list_id: str) -> tuple:
    """SQL: the member is a member (role) of the list."""
    return Member.role == MemberRole.member, Member.list_id == list_id


def _member_email():
    """SQL: the address of a member: the subscribed address, or the
    subscribed user's preferred address.

    Correlated subqueries rather than joins, because listings sort by it:
    for a page, the sort key of each of a list's members is one lookup in
    ``address``'s primary key, where PostgreSQL joined the whole address
    table (100,000 rows) to sort 1,000 members.
    """
    direct = (select(Address.email)
              .where(Address.id == Member.address_id).scalar_subquery())
    preferred = (select(Address.email)
                 .join(User, User._preferred_address_id == Address.id)
                 .where(User.id == Member.user_id).scalar_subquery())
    return func.coalesce(direct, preferred)


@cache
def _standing_query():
    """``(query, email, status)``: members with everything about their
    bounce standing, in one query (without a WHERE clause; built once, as
    building it costs more than running it for a page): a member is
    subscribed either by address or by user (then the user's preferred
    address counts), and the delivery status is resolved like core's
    ``Member.delivery_status`` (member, then address, then user
    preferences)."""
    a = _Aliases()
    state = MemberBounceState
    email = _member_email()
    user_id = func.coalesce(Member.user_id, a.direct.user_id)
    address_prefs_id = func.coalesce(a.direct.preferences_id,
                                     a.preferred.preferences_id)
    display_name = func.coalesce(
        func.nullif(a.direct.display_name, ''),
        func.nullif(a.subscribed_user.display_name, ''),
        func.nullif(a.user.display_name, ''), '')
    # No preference anywhere means core's system default: enabled.
    status = func.coalesce(
        a.member_prefs.delivery_status, a.address_prefs.delivery_status,
        a.user_prefs.delivery_status,
        literal(DeliveryStatus.enabled, Preferences.delivery_status.type))
    query = (
        select(Member.id.label('member_id'),
               Member._member_id.label('uuid'),
               Member.list_id, email.label('email'),
               display_name.label('display_name'),
               status.label('delivery_status'),
               Member.bounce_score, Member.last_bounce_received,
               Member.total_warnings_sent, Member.last_warning_sent,
               state.member_id.label('state_id'),
               state.score, state.core_score, state.last_reason,
               state.last_event_id, state.disabled_reason,
               state.disabled_at, state.probe_sent)
        .select_from(Member)
        .outerjoin(a.direct, a.direct.id == Member.address_id)
        .outerjoin(a.subscribed_user, a.subscribed_user.id == Member.user_id)
        .outerjoin(a.preferred, a.preferred.id
                   == a.subscribed_user._preferred_address_id)
        .outerjoin(a.user, a.user.id == user_id)
        .outerjoin(a.member_prefs, a.member_prefs.id == Member.preferences_id)
        .outerjoin(a.address_prefs, a.address_prefs.id == address_prefs_id)
        .outerjoin(a.user_prefs, a.user_prefs.id == a.user.preferences_id)
        .outerjoin(state, state.member_id == Member.id))
    return query, email, status


def _bouncing(status):
    """SQL: the member has a live score or was disabled by bounces.  (No
    part may be NULL, so that its negation means "not bouncing".)"""
    state = MemberBounceState
    core = func.coalesce(Member.bounce_score, 0)
    return or_(core > 0,
               and_(state.member_id.is_not(None), state.score > 0,
                    state.core_score == core),
               status == DeliveryStatus.by_bounces)


@public
def find_members(list_id: str, *, email: str | None = None,
                 bouncing: bool | None = None,
                 delivery_status: DeliveryStatus | None = None,
                 count: int | None = None, page: int | None = None) -> Page:
    """The members of a list with their bounce standing, by address.

    Rows are read by `STANDING_FIELDS`, and also have the member's row id
    (``member_id``), ``uuid`` and ``last_event_id``.
    """
    query, email_column, status = _standing_query()
    listed = _listed(list_id)
    conditions = []
    if email is not None:
        conditions.append(false() if unmatchable(email)
                          else email_column == email.lower())
    if bouncing is not None:
        condition = _bouncing(status)
        conditions.append(condition if bouncing else not_(condition))
    if delivery_status is not None:
        conditions.append(status == delivery_status)
    if conditions:
        keys = query.with_only_columns(Member.id).where(*listed, *conditions)
    else:
        # Each outer join adds at most one row (all are on unique keys):
        # the members alone are the listing, without joining 100,000
        # addresses and preferences.
        keys = select(Member.id).where(*listed)
    count_query = select(func.count()).select_from(keys.subquery())
    order = (email_column, Member.id)
    if count is None:
        # The whole listing: every member's row is read anyway.
        return paginate(query.where(*listed, *conditions).order_by(*order),
                        count_query, count, page)
    # The page's members first, then their standing: the joins then run
    # for the rows of the page only.
    ids = paginate(keys.order_by(*order), count_query, count, page)
    return Page(ids.start, ids.total_size,
                _standing_rows(query, [id_ for id_, in ids.rows]))


def _standing_rows(query, ids: list[int]) -> list:
    """The standing rows of the members `ids`, in that order (one who
    left since the ids were read is left out)."""
    if not ids:
        return []
    rows = config.db.store.execute(query.where(Member.id.in_(ids))).all()
    by_id = {row.member_id: row for row in rows}
    return [by_id[id_] for id_ in ids if id_ in by_id]


@public
def find_member(list_id: str, email: str):
    """The standing row of one member of a list, or None."""
    rows = find_members(list_id, email=email).rows
    return rows[0] if rows else None


@public
def member_object(row) -> Member:
    """The core Member of a standing row."""
    return config.db.store.get(Member, row.member_id)


@public
def disabled_counts(list_ids: list[str] | None = None) -> dict[str, int]:
    """How many members each list has disabled by bounces."""
    query = (select(Member.list_id, func.count())
             .join(Preferences, Preferences.id == Member.preferences_id)
             .where(Member.role == MemberRole.member,
                    Preferences.delivery_status == DeliveryStatus.by_bounces)
             .group_by(Member.list_id))
    if list_ids is not None:
        query = query.where(Member.list_id.in_(list_ids))
    return dict(config.db.store.execute(query).all())
