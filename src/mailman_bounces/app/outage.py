"""Outage freezes in the database: detecting, holding events, releasing.

Each pass counts, over the outage window, the distinct members bouncing
per recipient domain and per receiving server, on each list and site-wide
(`mailman_bounces.policy.outage` decides).  An active freeze holds the
matching unprocessed events back from scoring (`held_by_freeze`).

When a freeze ends, its events are re-evaluated member by member: a member
who bounces again after the outage was really bouncing, so their held
events are scored like any other (genuine bounces still count); the events
of a member who does not bounce again within the list's stale window were
the outage's, and are recorded as such without counting.  A freeze an
administrator lifts early was a false alarm: its events are scored at once.

A new freeze queues a notice to the owners or the site administrator
(rendered by `mailman_bounces.app.outage_notice`).  A freeze is not kept
going past its cap without a site administrator's confirmation
(`mailman_bounces.policy.outage`): reaching it queues a notice to the site
administrator, and `confirm_freeze` records a confirmation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mailman.config import config
from mailman.interfaces.bounce import BounceContext
from public import public
from sqlalchemy import and_, distinct, exists, func, not_, or_, select, update
from sqlalchemy.orm import aliased

from mailman_bounces.app.callbacks import enqueue
from mailman_bounces.app.domain_members import domain_members, recount_if_due
from mailman_bounces.app.notices import queue_notice
from mailman_bounces.app.settings import policies_for
from mailman_bounces.config import site_config
from mailman_bounces.database.planner import not_for_lookup
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.policy.outage import (
    BounceBurst,
    FreezeTimes,
    confirmed_until,
    extend_freeze,
    may_freeze_again,
    new_freeze_expiry,
    should_freeze,
    wanted_keys,
    wanted_scopes,
)
from mailman_bounces.validators import format_duration

log = logging.getLogger('mailman.bounce')

# Kinds of events an outage freezes (complaints are never an outage).
FROZEN_KINDS = ('bounce', 'delay', 'unknown')
_KEY_COLUMNS = {'domain': BounceEvent.domain, 'mx': BounceEvent.remote_mta}


@public
def held_by_freeze(now: datetime):
    """SQL condition: the event is held back by an active freeze."""
    # An alias, so the condition can sit in a query that joins freezes too.
    freeze = aliased(OutageFreeze, name='active_freeze')
    event = BounceEvent
    return and_(
        event.kind.in_(FROZEN_KINDS),
        exists().where(
            freeze.in_force_at(now),
            or_(freeze.list_id.is_(None), freeze.list_id == event.list_id),
            or_(and_(freeze.key_type == 'domain', freeze.key == event.domain),
                and_(freeze.key_type == 'mx',
                     freeze.key == event.remote_mta))))


@public
def not_held(now: datetime):
    """SQL condition: the event may be scored now."""
    return and_(BounceEvent.held_by.is_(None), not_(held_by_freeze(now)))


def _freeze_matches(freeze: OutageFreeze):
    event = BounceEvent
    column = _KEY_COLUMNS[freeze.key_type]
    conditions = [event.processed.is_(False), event.held_by.is_(None),
                  event.kind.in_(FROZEN_KINDS), column == freeze.key,
                  event.timestamp < freeze.expires]
    if freeze.list_id is not None:
        conditions.append(event.list_id == freeze.list_id)
    return and_(*conditions)


@public
def release_ended_freezes(now: datetime) -> int:
    """Hand the events of freezes that ended to re-evaluation; return how
    many events now wait for confirmation."""
    store = config.db.store
    ended = store.execute(
        select(OutageFreeze).where(
            OutageFreeze.released.is_(False),
            not_(OutageFreeze.in_force_at(now)))).scalars().all()
    waiting = 0
    for freeze in ended:
        freeze.released = True
        _freeze_callback('outage.thawed', freeze)
        if freeze.lifted is not None:
            continue
        waiting += store.execute(
            update(BounceEvent).where(_freeze_matches(freeze))
            .values(held_by=freeze.id)
            .execution_options(synchronize_session=False)).rowcount
    return waiting


def _bounced_again(pairs: set[tuple[str, str]]) -> dict:
    """The latest counted bounce of each (list, address) outside freezes."""
    event = BounceEvent
    rows = config.db.store.execute(
        select(event.list_id, event.email, func.max(event.timestamp))
        .where(event.held_by.is_(None), event.kind.in_(('bounce', 'delay')),
               event.severity != 'none',
               event.context == BounceContext.normal,
               event.list_id.in_(sorted({p[0] for p in pairs})),
               event.email.in_(sorted({p[1] for p in pairs})))
        .group_by(event.list_id, event.email)).all()
    return {(row[0], row[1]): row[2] for row in rows}


@public
def confirm_or_dismiss_held(now: datetime) -> tuple[int, int]:
    """Re-evaluate events held by ended freezes: (confirmed, dismissed)."""
    store = config.db.store
    held = store.execute(
        select(BounceEvent.id, BounceEvent.list_id, BounceEvent.email,
               OutageFreeze.expires)
        .join(OutageFreeze, OutageFreeze.id == BounceEvent.held_by)
        .where(BounceEvent.processed.is_(False),
               BounceEvent.held_by.is_not(None),
               not_(held_by_freeze(now)))).all()
    if not held:
        return 0, 0
    latest = _bounced_again({(row.list_id, row.email) for row in held})
    policies = policies_for({row.list_id for row in held})
    confirmed, dismissed = [], []
    for row in held:
        again = latest.get((row.list_id, row.email))
        policy = policies.get(row.list_id)
        if again is not None and again >= row.expires:
            confirmed.append(row.id)
        elif policy is None or (
                row.expires + policy.bounce_info_stale_after <= now):
            dismissed.append(row.id)
    if confirmed:
        store.execute(update(BounceEvent)
                      .where(BounceEvent.id.in_(confirmed))
                      .values(held_by=None)
                      .execution_options(synchronize_session=False))
    if dismissed:
        store.execute(update(BounceEvent)
                      .where(BounceEvent.id.in_(dismissed))
                      .values(processed=True, processed_at=now,
                              outcome='outage', score_delta=0.0)
                      .execution_options(synchronize_session=False))
    return len(confirmed), len(dismissed)


def _counted_reasons() -> list[str]:
    # Reasons that are never held against members (DMARC, spam filters...)
    # are about the list's own mail, not about the receiving system.
    return [reason for reason, weight in site_config().weights.items()
            if weight > 0]


def _burst_rows(since: datetime):
    """(key type, scope, row) of each group with enough bouncing members;
    a row is (list id,) key, bouncing."""
    outage = site_config().outage
    event = BounceEvent
    for key_type in wanted_keys(outage):
        # The window bounds the work: only its index may be used (not one
        # that would give the groups in order by reading every event).
        key = not_for_lookup(_KEY_COLUMNS[key_type])
        for scope in wanted_scopes(outage):
            group = ((not_for_lookup(event.list_id), key) if scope == 'list'
                     else (key,))
            bouncing = func.count(distinct(event.email))
            query = (select(*group, bouncing)
                     .where(event.timestamp >= since, key.is_not(None),
                            event.kind.in_(FROZEN_KINDS),
                            event.severity != 'none',
                            event.context == BounceContext.normal,
                            not_for_lookup(event.reason).in_(
                                _counted_reasons()))
                     .group_by(*group)
                     .having(bouncing >= outage.min_members))
            for row in config.db.store.execute(query):
                yield key_type, scope, row


def _bursts(now: datetime) -> list[BounceBurst]:
    since = now - site_config().outage.window
    rows = list(_burst_rows(since))
    if rows:
        # Each burst is weighed against its domain's size.
        recount_if_due(now)
    bursts = []
    for key_type, scope, row in rows:
        list_id = row[0] if scope == 'list' else None
        members = (domain_members(row[-2], list_id) if key_type == 'domain'
                   else _server_members(row[-2], list_id, since))
        bursts.append(BounceBurst(key_type, row[-2], list_id, row[-1],
                                  members))
    return bursts


# A receiving server seen for more domains than this is a relay or a big
# shared platform: the members behind it cannot be counted.
MAX_SERVER_DOMAINS = 20


def _server_members(server: str, list_id: str | None,
                    since: datetime) -> int | None:
    """Members of the domains `server` answered for in the window."""
    query = (select(distinct(BounceEvent.domain))
             .where(BounceEvent.remote_mta == server,
                    BounceEvent.timestamp >= since,
                    BounceEvent.domain.is_not(None))
             .limit(MAX_SERVER_DOMAINS + 1))
    if list_id is not None:
        query = query.where(BounceEvent.list_id == list_id)
    domains = config.db.store.execute(query).scalars().all()
    if len(domains) > MAX_SERVER_DOMAINS:
        return None
    return sum(domain_members(domain, list_id) for domain in domains)


def _same_key(burst: BounceBurst):
    freeze = OutageFreeze
    list_match = (freeze.list_id.is_(None) if burst.list_id is None
                  else freeze.list_id == burst.list_id)
    return and_(list_match, freeze.key_type == burst.key_type,
                freeze.key == burst.key)


def _active(burst: BounceBurst, now: datetime) -> OutageFreeze | None:
    freeze = OutageFreeze
    return config.db.store.execute(
        select(freeze).where(_same_key(burst), freeze.in_force_at(now))
        .order_by(freeze.id.desc()).limit(1)).scalar_one_or_none()


def _lifted_recently(burst: BounceBurst, now: datetime,
                     window: timedelta) -> bool:
    """Did an administrator lift a freeze of this key within the window?
    Then the same burst is known not to be an outage: no new freeze."""
    freeze = OutageFreeze
    return config.db.store.execute(select(exists().where(
        _same_key(burst), freeze.lifted.is_not(None),
        freeze.lifted > now - window))).scalar()


def _times(freeze: OutageFreeze) -> FreezeTimes:
    return FreezeTimes(freeze.started, freeze.expires,
                       freeze.confirmed_until)


def _capped_freeze_ended(burst: BounceBurst) -> datetime | None:
    """When the last freeze of this key that the cap stopped ended."""
    freeze = OutageFreeze
    return config.db.store.execute(
        select(func.max(freeze.expires)).where(
            _same_key(burst), freeze.capped.is_not(None),
            freeze.lifted.is_(None))).scalar()


def _extend(freeze: OutageFreeze, burst: BounceBurst, now: datetime) -> None:
    """Keep `freeze` going for `burst`, up to its cap."""
    outage = site_config().outage
    extension = extend_freeze(outage, _times(freeze), now)
    freeze.expires = extension.expires
    freeze.bouncing = max(freeze.bouncing, burst.bouncing)
    if extension.capped and freeze.capped is None:
        freeze.capped = now
        log.warning('Outage freeze %d: %s %s reached the limit of %s '
                    'without confirmation; it ends at %s', freeze.id,
                    freeze.key_type, freeze.key,
                    format_duration(outage.max_unconfirmed),
                    f'{freeze.expires:%Y-%m-%d %H:%M}')
        _queue_cap_notice(freeze)


@public
def detect_outages(now: datetime) -> list[OutageFreeze]:
    """Start or extend freezes for bursts of bounces; return new ones."""
    outage = site_config().outage
    if not outage.enabled:
        return []
    created = []
    for burst in _bursts(now):
        if not should_freeze(outage, burst):
            continue
        freeze = _active(burst, now)
        if freeze is not None:
            _extend(freeze, burst, now)
            continue
        if _lifted_recently(burst, now, outage.window):
            continue
        if not may_freeze_again(outage, _capped_freeze_ended(burst), now):
            # The burst goes on past the cap: it counts.
            continue
        freeze = OutageFreeze(
            list_id=burst.list_id, key_type=burst.key_type, key=burst.key,
            started=now, expires=new_freeze_expiry(outage, now),
            bouncing=burst.bouncing, members=burst.members or 0,
            notified=False)
        config.db.store.add(freeze)
        config.db.store.flush()
        created.append(freeze)
        log.warning('Outage freeze %d: %s %s on %s (%d bouncing of %s)',
                    freeze.id, burst.key_type, burst.key,
                    burst.list_id or 'the whole site', burst.bouncing,
                    burst.members if burst.members is not None else '?')
        _queue_freeze_notice(freeze, now)
    return created


def _carrier_list(freeze: OutageFreeze) -> str | None:
    """A list to send a site-wide notice through (Mailman notices need
    one): the one with the most events held by the freeze."""
    column = _KEY_COLUMNS[freeze.key_type]
    return config.db.store.execute(
        select(BounceEvent.list_id).where(column == freeze.key)
        .group_by(BounceEvent.list_id)
        .order_by(func.count().desc()).limit(1)).scalar_one_or_none()


def _freeze_callback(event_type: str, freeze: OutageFreeze) -> None:
    enqueue(event_type, f'freeze:{freeze.id}', freeze.list_id, {
        'freeze_id': freeze.id, 'list_id': freeze.list_id,
        'key_type': freeze.key_type, 'key': freeze.key,
        'lifted': freeze.lifted})


def _queue_freeze_notice(freeze: OutageFreeze, now: datetime) -> None:
    outage = site_config().outage
    data = {'freeze_id': freeze.id}
    _freeze_callback('outage.frozen', freeze)
    if freeze.list_id is not None and outage.notify_owners:
        queue_notice(NoticeKind.outage, list_id=freeze.list_id, **data)
    elif freeze.list_id is None and outage.notify_site_admin:
        carrier = _carrier_list(freeze)
        if carrier is not None:
            queue_notice(NoticeKind.outage, list_id=carrier, scope='site',
                         **data)
    freeze.notified = True


def _queue_cap_notice(freeze: OutageFreeze) -> None:
    """Tell the site administrator that `freeze` reached its cap (through
    a list: Mailman notices need one)."""
    carrier = freeze.list_id or _carrier_list(freeze)
    if carrier is not None:
        queue_notice(NoticeKind.outage_cap, list_id=carrier,
                     freeze_id=freeze.id)


@public
def lift_freeze(freeze_id: int, now: datetime, by: str = 'admin'
                ) -> OutageFreeze | None:
    """End freeze `freeze_id` now; its held events get scored next pass."""
    freeze = config.db.store.get(OutageFreeze, freeze_id)
    if freeze is None:
        return None
    if freeze.in_force_at(now):
        freeze.lifted = now
        freeze.lifted_by = by
    return freeze


@public
class CannotConfirm(ValueError):
    """The freeze was lifted, or ended without reaching its cap."""


@public
def confirm_freeze(freeze_id: int, now: datetime, by: str = 'admin'
                   ) -> OutageFreeze | None:
    """A site administrator confirms freeze `freeze_id` is an outage: it
    may go on until ``max_unconfirmed`` from now.  A freeze the cap ended
    is put back in force (for a window at least).  None for no such
    freeze.

    :raises CannotConfirm: for a lifted freeze, or one that ended on its
        own (no burst kept it going: there is nothing to confirm).
    """
    freeze = config.db.store.get(OutageFreeze, freeze_id)
    if freeze is None:
        return None
    if freeze.lifted is not None:
        raise CannotConfirm(f'Freeze {freeze_id} was lifted')
    in_force = freeze.in_force_at(now)
    if not in_force and freeze.capped is None:
        raise CannotConfirm(f'Freeze {freeze_id} has ended')
    outage = site_config().outage
    freeze.confirmed_until = confirmed_until(outage, now)
    freeze.confirmed_by = by
    freeze.capped = None
    if not in_force:
        freeze.expires = min(now + outage.window, freeze.confirmed_until)
        # Its end hands its events to re-evaluation again.
        freeze.released = False
    log.warning('Outage freeze %d confirmed by %s until %s', freeze.id, by,
                f'{freeze.confirmed_until:%Y-%m-%d %H:%M}')
    return freeze
