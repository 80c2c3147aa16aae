"""Outage freezes: listing them, and the shape of one freeze."""

from __future__ import annotations

from datetime import datetime

from public import public
from sqlalchemy import false, func, or_, select

from mailman_bounces.app.queries.lists import unmatchable
from mailman_bounces.app.queries.paging import Page, paginate
from mailman_bounces.config.site import FREEZE_KEY_TYPES
from mailman_bounces.fields import (
    BOOLEAN,
    COUNT,
    INTEGER,
    STRING,
    TIME,
    Field,
    Shape,
    choice,
    nullable,
)
from mailman_bounces.model.freeze import OutageFreeze

__all__ = ['FREEZE_FIELDS', 'find_freezes']


# What a freeze shows, read from the freeze and the time `now`.
FREEZE_FIELDS = Shape(
    Field('id', INTEGER),
    Field('list_id', nullable(STRING), 'null for a site-wide freeze.'),
    Field('key_type', choice(FREEZE_KEY_TYPES)),
    Field('key', STRING, 'The frozen recipient domain or receiving server.'),
    Field('started', TIME),
    Field('expires', TIME),
    Field('lifted', nullable(TIME)),
    Field('lifted_by', nullable(STRING)),
    Field('bouncing', COUNT, 'Members bouncing when it started.'),
    Field('members', COUNT, 'Members at the domain or server.'),
    Field('active', BOOLEAN, 'Whether the freeze is in force now.',
          read=lambda freeze, now, *_: freeze.in_force_at(now)),
    Field('capped', nullable(TIME),
          'When the limit of unconfirmed freezes stopped its extension '
          '(the site admin was told); null otherwise.'),
    Field('confirmed_until', nullable(TIME),
          "Until when a site admin's confirmation lets it go on."),
    Field('confirmed_by', nullable(STRING)),
)


@public
def find_freezes(now: datetime, *, history: bool = False,
                 list_id: str | None = None, count: int | None = None,
                 page: int | None = None) -> Page:
    """The freezes in force at `now` (or all of them, with `history`),
    newest first; with `list_id`, those of that list and the site-wide
    ones.  Rows are ``(freeze,)``."""
    conditions = [] if history else [OutageFreeze.in_force_at(now)]
    if list_id is not None:
        own = (false() if unmatchable(list_id)
               else OutageFreeze.list_id == list_id)
        conditions.append(or_(own, OutageFreeze.list_id.is_(None)))
    query = (select(OutageFreeze).where(*conditions)
             .order_by(OutageFreeze.id.desc()))
    count_query = (select(func.count()).select_from(OutageFreeze)
                   .where(*conditions))
    return paginate(query, count_query, count, page)
