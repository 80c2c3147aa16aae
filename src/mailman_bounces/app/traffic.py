"""The lists' own traffic, for the Sympa score mode's regularity rate.

Mailman keeps only a running post counter per list (``post_id``).  Once a
day the periodic pass records it; a day on which the counter moved is a
day the list sent mail.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

from mailman.config import config
from mailman.model.mailinglist import MailingList
from public import public
from sqlalchemy import select

from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.traffic import ListTraffic


@public
def snapshot_traffic(now: datetime) -> int:
    """Record every list's post counter for today (once); return rows."""
    today = now.date()
    rows = [{'list_id': list_id, 'day': today, 'post_id': post_id or 0}
            for list_id, post_id in config.db.store.execute(
                select(MailingList._list_id, MailingList.post_id))]
    insert_ignoring_duplicates(config.db.store, ListTraffic.__table__, rows)
    return len(rows)


@public
def sending_days(list_ids: set[str], since: date,
                 now: datetime) -> dict[str, set[date] | None]:
    """The days each list sent mail since `since` (None: not enough
    snapshots to know, so every day counts)."""
    store = config.db.store
    snapshots: dict[str, list[tuple[date, int]]] = {}
    for list_id, day, post_id in store.execute(
            select(ListTraffic.list_id, ListTraffic.day, ListTraffic.post_id)
            .where(ListTraffic.list_id.in_(sorted(list_ids)),
                   ListTraffic.day >= since)
            .order_by(ListTraffic.list_id, ListTraffic.day)):
        snapshots.setdefault(list_id, []).append((day, post_id))
    current = dict(store.execute(
        select(MailingList._list_id, MailingList.post_id)
        .where(MailingList._list_id.in_(sorted(list_ids)))).all())
    result: dict[str, set[date] | None] = {}
    for list_id in list_ids:
        series = snapshots.get(list_id, [])
        if not series:
            result[list_id] = None
            continue
        series = [*series, (now.date(), current.get(list_id) or 0)]
        result[list_id] = {day for (day, count), (_, following)
                           in pairwise(series) if following > count}
    return result
