"""When a burst of forged bounces is summarised to the site admin (see
`mailman_bounces.app.forged_notice`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailman.config import config
from public import public
from sqlalchemy import func, select

from mailman_bounces.app.notices import queue_notice
from mailman_bounces.config import site_config
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.event import BounceEvent

WINDOW = timedelta(hours=1)
# Lines of the summary, at most.
MAX_LINES = 100


@public
def summarise_forged(now: datetime) -> int:
    """Queue the summary when the last hour had a burst; return the number
    of forged events it covers (0: no summary)."""
    burst = site_config().forged_burst
    if not burst:
        return 0
    event = BounceEvent
    rows = config.db.store.execute(
        select(event.list_id, event.email, func.count())
        .where(event.evidence == 'forged', event.timestamp >= now - WINDOW,
               event.timestamp < now)
        .group_by(event.list_id, event.email)
        .order_by(event.list_id, event.email)).all()
    total = sum(row[2] for row in rows)
    if total < burst:
        return 0
    queue_notice(NoticeKind.notify_forged, list_id=rows[0].list_id,
                 dedup_key=f'forged:{now:%Y%m%d%H}', count=total,
                 since=f'{now - WINDOW:%Y-%m-%d %H:%M} UTC',
                 lines=[f'{row.list_id} {row.email}: {row[2]}'
                        for row in rows[:MAX_LINES]])
    return total
