"""Disabled members: warnings, removal, and the members' other checks.

Core finds the members to warn by filtering every member's preferences on
each pass (an unindexed column) and then in Python.  The plugin drives the
step from its own table: each member it disabled carries the time the step
must next look at it (``next_warning_check``, indexed): when its next
warning or removal falls due, and at least daily, so that a re-enabled
member or an owner's change of the warning interval is noticed within a
day.  A pass reads only the members due, so its cost does not grow with
the number of members, of bounces, or of members currently disabled.
Members disabled by bounces in other ways (before the plugin was enabled,
or by an administrator) are adopted by a daily reconciliation.

Warnings are claimed with a compare-and-set on core's warning counter, so
two runners can never send the same warning twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mailman.config import config
from mailman.interfaces.member import DeliveryStatus, MemberRole
from mailman.model.mailinglist import MailingList
from mailman.model.member import Member
from mailman.model.preferences import Preferences
from public import public
from sqlalchemy import and_, false, or_, select, update

from mailman_bounces.app.members import NEVER_WARNED
from mailman_bounces.app.notices import queue_notice
from mailman_bounces.app.settings import policies_for
from mailman_bounces.database.bulk_update import update_by_primary_key
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.member import (
    DISABLED_COLUMNS,
    SCORE_COLUMNS,
    MemberBounceState,
)

log = logging.getLogger('mailman.bounce')

# The longest a disabled member goes without a look by the warnings step.
RECHECK = timedelta(days=1)
# Members read per query (bound parameters have limits).
_CHUNK = 1000


def _members_due(now: datetime) -> list:
    """The disabled members due for a look (see `next_warning_check`)."""
    state = MemberBounceState
    store = config.db.store
    # First the few members due, through the index alone: joined to core's
    # tables at once, a planner guessing how many rows are due (from stale
    # statistics) may scan every member to find none.
    due = store.execute(select(state.member_id).where(
        state.next_warning_check <= now)).scalars().all()
    return _rows_of(due, (
        select(state.member_id, state.email, state.disabled_at,
               state.last_event_id, Member.list_id,
               Member.total_warnings_sent, Member.last_warning_sent,
               Preferences.delivery_status, MailingList.process_bounces,
               MailingList.bounce_you_are_disabled_warnings,
               MailingList.bounce_you_are_disabled_warnings_interval)
        .join(Member, Member.id == state.member_id)
        .join(Preferences, Member.preferences_id == Preferences.id)
        .join(MailingList, MailingList._list_id == Member.list_id)))


def _rows_of(member_ids: list[int], query) -> list:
    """The rows of `query` about the members `member_ids`, read _CHUNK
    members at a time."""
    rows = []
    for start in range(0, len(member_ids), _CHUNK):
        rows.extend(config.db.store.execute(query.where(
            MemberBounceState.member_id.in_(
                member_ids[start:start + _CHUNK]))).all())
    return rows


def _claim_warning(member_id: int, sent: int, now: datetime) -> bool:
    """Count one more warning unless another runner just did."""
    result = config.db.store.execute(
        update(Member)
        .where(Member.id == member_id, Member.total_warnings_sent == sent)
        .values(total_warnings_sent=sent + 1, last_warning_sent=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _next_look(due: datetime | None, now: datetime) -> datetime:
    """When to look at a member again: when its next step is due, and at
    least daily (an owner may shorten the interval; the member may be
    re-enabled elsewhere)."""
    latest = now + RECHECK
    return latest if due is None else min(max(due, now), latest)


@public
def queue_warnings_and_removals(now: datetime) -> tuple[int, int]:
    """Queue due warnings and removals in the outbox; return (warnings,
    removals).  They are sent once the transaction is committed."""
    warned = removed = 0
    re_enabled, next_looks = [], []
    for row in _members_due(now):
        if row.delivery_status != DeliveryStatus.by_bounces:
            # Re-enabled by the member, an owner or Postorius.
            re_enabled.append(row.member_id)
            continue
        step, due = _step(row, now)
        if step == 'warning' and _claim_warning(
                row.member_id, row.total_warnings_sent or 0, now):
            queue_notice(NoticeKind.warning, list_id=row.list_id,
                         email=row.email,
                         member_id=row.member_id, event_id=row.last_event_id,
                         warning_number=(row.total_warnings_sent or 0) + 1)
            warned += 1
        elif step == 'remove':
            queue_notice(
                NoticeKind.remove, list_id=row.list_id, email=row.email,
                member_id=row.member_id, event_id=row.last_event_id,
                dedup_key=(f'remove:{row.member_id}:'
                           f'{row.disabled_at:%Y%m%d%H%M%S}'))
            removed += 1
        next_looks.append({'member_id': row.member_id,
                           'next_warning_check': _next_look(due, now)})
    store = config.db.store
    if re_enabled:
        store.execute(
            update(MemberBounceState)
            .where(MemberBounceState.member_id.in_(re_enabled))
            .values(**MemberBounceState.initial(*DISABLED_COLUMNS))
            .execution_options(synchronize_session=False))
    update_by_primary_key(store, MemberBounceState, next_looks)
    return warned, removed


def _step(row, now: datetime) -> tuple[str | None, datetime | None]:
    """What is due for a disabled member now ('warning', 'remove' or
    None), and when its next step falls due (None: not known)."""
    if not row.process_bounces:
        return None, None
    interval = row.bounce_you_are_disabled_warnings_interval
    maximum = row.bounce_you_are_disabled_warnings or 0
    sent = row.total_warnings_sent or 0
    last = row.last_warning_sent or NEVER_WARNED
    if interval is None:
        # No interval: every step is due at once.
        return ('warning' if sent < maximum else 'remove'), now
    due = last + interval <= now
    if sent < maximum:
        if due:
            return 'warning', now + interval
        return None, last + interval
    if due or maximum == 0:
        return 'remove', now + interval
    return None, last + interval


@public
def adopt_disabled_members(now: datetime) -> int:
    """Take charge of members disabled by bounces outside the plugin."""
    state = MemberBounceState
    rows = config.db.store.execute(
        select(Member.id, Member.list_id)
        .join(Preferences, Member.preferences_id == Preferences.id)
        .outerjoin(state, state.member_id == Member.id)
        .where(Member.role == MemberRole.member,
               Preferences.delivery_status == DeliveryStatus.by_bounces,
               state.disabled_at.is_(None))).all()
    if not rows:
        return 0
    ids = [member_id for member_id, _ in rows]
    members = {m.id: m for m in config.db.store.execute(
        select(Member).where(Member.id.in_(ids))).scalars()}
    # New rows start from the column defaults.
    insert_ignoring_duplicates(config.db.store, state.__table__, [
        {'member_id': member_id, 'list_id': list_id,
         'email': members[member_id].address.email}
        for member_id, list_id in rows])
    config.db.store.execute(
        update(state).where(state.member_id.in_(ids))
        .values(disabled_at=now, next_warning_check=now)
        .execution_options(synchronize_session=False))
    log.info('Adopted %d member(s) disabled by bounces elsewhere', len(rows))
    return len(rows)


def _over_own_threshold():
    """SQL condition: the member's exact score reached its list's
    threshold (one range per distinct threshold, so the index on list and
    score finds them without reading the other members).  The threshold is
    the one `ListPolicy.threshold` defines."""
    state = MemberBounceState
    processing = config.db.store.execute(
        select(MailingList._list_id)
        .where(MailingList.process_bounces.is_(True))).scalars()
    lists: dict[float, list[str]] = {}
    for list_id, policy in policies_for(processing).items():
        lists.setdefault(policy.threshold, []).append(list_id)
    return or_(false(), *(and_(state.list_id.in_(ids), state.score >= value)
                          for value, ids in sorted(lists.items())))


@public
def members_over_threshold() -> list:
    """Enabled members (mailman score mode) whose score reached their
    list's threshold: after an owner lowered it, say."""
    state = MemberBounceState
    store = config.db.store
    # Nearly always none: a member reaching the threshold is disabled (or
    # probed) in the same pass.
    ids = store.execute(select(state.member_id).where(
        _over_own_threshold(), state.score > 0, state.disabled_at.is_(None),
        state.probe_sent.is_(None))).scalars().all()
    return _rows_of(ids, (
        select(state.member_id, state.email, Member.list_id)
        .join(Member, Member.id == state.member_id)
        .join(Preferences, Member.preferences_id == Preferences.id)
        .where(or_(Preferences.delivery_status.is_(None),
                   Preferences.delivery_status
                   != DeliveryStatus.by_bounces))))


@public
def expire_probes(now: datetime) -> int:
    """Reset members whose probe did not bounce within probe_wait."""
    state = MemberBounceState
    rows = config.db.store.execute(
        select(state.member_id, Member.list_id, state.probe_sent)
        .join(Member, Member.id == state.member_id)
        .where(state.probe_sent.is_not(None),
               state.disabled_at.is_(None))).all()
    policies = policies_for({row.list_id for row in rows})
    expired = [row.member_id for row in rows
               if row.list_id in policies
               and row.probe_sent + policies[row.list_id].probe_wait <= now]
    if not expired:
        return 0
    store = config.db.store
    fresh = state.initial(*SCORE_COLUMNS)
    store.execute(update(state).where(state.member_id.in_(expired))
                  .values(**fresh)
                  .execution_options(synchronize_session=False))
    store.execute(update(Member).where(Member.id.in_(expired)).values(
        bounce_score=fresh['core_score'])
        .execution_options(synchronize_session=False))
    log.info('%d probe(s) went unbounced: scores reset', len(expired))
    return len(expired)
