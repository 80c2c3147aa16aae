"""The periodic bounce pass.

One pass:

1. housekeeping that runs in one place at a time (a lease): the lists'
   traffic snapshot (daily), outage detection;
2. the new events, in batches of ``[bounces]batch_size``, each batch in one
   transaction: claim the events (skipping those another runner claimed and
   those held by an outage freeze), load the members they are about and the
   lists' policies with a few set-based queries, let the pure policy decide
   (`mailman_bounces.policy.scoring`), write the results back with bulk
   statements, and record the notices in the outbox;
3. again under the lease: re-checking members against lowered thresholds,
   unbounced probes, warnings and removals, the daily adoption of members
   disabled elsewhere, the periodic summary of ignored bounces, eviction;
4. the notices, sent after the decisions are committed.

A crash anywhere rolls back the open transaction: its events stay
unprocessed and are claimed again, nothing is counted twice and no notice
is sent for a decision that was not kept.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mailman.config import config
from mailman.interfaces.bounce import BounceContext
from mailman.utilities.datetime import now as mailman_now
from public import public
from sqlalchemy import and_, func, select

from mailman_bounces.app.claims import (
    for_update,
    release_lease,
    serialize_writers,
    take_lease,
    take_turn,
)
from mailman_bounces.app.failover import fail_over
from mailman_bounces.app.members import (
    LoadedMember,
    load_members,
    save_members,
)
from mailman_bounces.app.notices import deliver_notices, queue_notice
from mailman_bounces.app.outage import (
    confirm_or_dismiss_held,
    detect_outages,
    not_held,
    release_ended_freezes,
)
from mailman_bounces.app.retention import evict
from mailman_bounces.app.settings import policies_for
from mailman_bounces.app.traffic import sending_days, snapshot_traffic
from mailman_bounces.app.warnings import (
    adopt_disabled_members,
    expire_probes,
    members_over_threshold,
)
from mailman_bounces.app.warnings import (
    send_warnings_and_remove as warn_and_remove,
)
from mailman_bounces.database.bulk_update import update_by_primary_key
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.plugin import site_config
from mailman_bounces.policy.scoring import (
    Action,
    BounceFact,
    MemberFacts,
    Scored,
    recheck_threshold,
    score_member,
)
from mailman_bounces.policy.settings import ListPolicy

log = logging.getLogger('mailman.bounce')

HOUSEKEEPING = 'housekeeping'
LEASE_TIME = timedelta(minutes=10)
# Once-per-period steps: their leases are not released, so they expire.
DAILY = timedelta(days=1)
HOURLY = timedelta(hours=1)

_EVENT_COLUMNS = (
    BounceEvent.id, BounceEvent.list_id, BounceEvent.email,
    BounceEvent.timestamp, BounceEvent.kind, BounceEvent.severity,
    BounceEvent.reason, BounceEvent.context, BounceEvent.feedback_type)


@public
@dataclass
class PassReport:
    """What one pass did."""

    events: int = 0
    batches: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    freezes: int = 0
    warnings: int = 0
    removals: int = 0
    probes_expired: int = 0
    adopted: int = 0
    evicted: int = 0
    notices: int = 0

    def count(self, outcome: str, number: int = 1) -> None:
        if number:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + number


def _fact(row) -> BounceFact:
    return BounceFact(
        event_id=row.id, timestamp=row.timestamp, kind=row.kind,
        severity=row.severity, reason=row.reason,
        probe=row.context == BounceContext.probe,
        feedback_type=row.feedback_type)


def _due(now: datetime):
    """Events the pass may process now: unprocessed and not held."""
    return and_(BounceEvent.processed.is_(False), not_held(now))


def _claimable(now: datetime) -> bool:
    """Is there any event to process (read only)?"""
    return config.db.store.execute(
        select(BounceEvent.id).where(_due(now)).limit(1)).first() is not None


def _claim(now: datetime, limit: int, event_ids: list[int] | None):
    query = select(*_EVENT_COLUMNS)
    if event_ids is None:
        query = query.where(_due(now))
    else:
        query = query.where(BounceEvent.processed.is_(False),
                            BounceEvent.id.in_(event_ids))
    query = query.order_by(BounceEvent.id).limit(limit)
    return config.db.store.execute(
        for_update(query, skip_locked=True)).all()


class _Batch:
    """The decisions of one batch, applied together."""

    def __init__(self, now: datetime, report: PassReport) -> None:
        self.now = now
        self.report = report
        self.event_rows: list[dict] = []
        self.member_changes: list[tuple[LoadedMember, MemberFacts, dict]] = []

    def outcome(self, event_id: int, outcome: str, delta: float = 0.0):
        self.event_rows.append({
            'id': event_id, 'processed': True, 'processed_at': self.now,
            'outcome': outcome, 'score_delta': delta})
        self.report.count(outcome)

    def score(self, policy: ListPolicy, loaded: LoadedMember,
              scored: Scored, last_event: int | None) -> None:
        """Carry out what the policy decided for one member."""
        member = scored.member
        extra: dict = {}
        if last_event is not None:
            extra['last_event_id'] = last_event
        outcomes = {o.event_id: o for o in scored.outcomes}
        failed_over = False
        for action in scored.actions:
            if action.kind == 'disable':
                moved = self._fail_over(policy, loaded, member, action)
                if moved is not None:
                    failed_over = True
                    outcomes[action.event_id] = replace(
                        outcomes[action.event_id], outcome='failover')
                    extra.update(failed_over_from=member.email, email=moved)
                    member = MemberFacts(member_id=member.member_id,
                                         email=moved)
                else:
                    log.info('Disabling delivery to %s on %s: %s',
                             member.email, policy.list_id, action.detail)
            elif not (failed_over and action.kind == 'notify_disable'):
                self._notice(policy, member, action, outcomes, scored)
        if policy.score_mode == 'sympa':
            # Core's integer shows the bouncing days of the run.
            extra['core_score'] = scored.bouncing_days
        for outcome in outcomes.values():
            self.outcome(outcome.event_id, outcome.outcome, outcome.delta)
        self.member_changes.append((loaded, member, extra))

    def _fail_over(self, policy: ListPolicy, loaded: LoadedMember,
                   member: MemberFacts, action: Action) -> str | None:
        if not policy.failover:
            return None
        moved = fail_over(loaded.user_id, member.email, self.now,
                          policy.bounce_info_stale_after)
        if moved is not None:
            queue_notice('failover', list_id=policy.list_id,
                         email=member.email, member_id=member.member_id,
                         event_id=action.event_id, to=moved,
                         old_email=member.email, new_email=moved)
            self.report.count('failover')
        return moved

    def _notice(self, policy: ListPolicy, member: MemberFacts,
                action: Action, outcomes: dict, scored: Scored) -> None:
        common = {'list_id': policy.list_id, 'email': member.email,
                  'member_id': member.member_id,
                  'event_id': action.event_id or None}
        outcome = outcomes.get(action.event_id)
        if action.kind in ('probe', 'unsubscribe'):
            queue_notice(action.kind, why=action.detail, **common)
        elif action.kind == 'notify_increment':
            queue_notice(action.kind, score=f'{member.score:g}',
                         delta=f'{outcome.delta if outcome else 0:g}',
                         **common)
        elif action.kind == 'notify_disable':
            score = scored.rating if scored.rating is not None else (
                policy.threshold)
            queue_notice(action.kind, score=f'{score:g}', **common)
        elif action.kind == 'notify_complaint':
            queue_notice(action.kind, action=policy.complaint_action,
                         **common)
        elif action.kind == 'notify_level':
            queue_notice(action.kind, level=action.detail,
                         rating=f'{scored.rating or 0:g}', **common)

    def apply(self) -> None:
        save_members(self.member_changes, self.now)
        update_by_primary_key(config.db.store, BounceEvent, self.event_rows)


def _sympa_context(policies: dict[str, ListPolicy],
                   loaded: dict[tuple[str, str], LoadedMember],
                   now: datetime):
    """Earlier scored events of the current runs of Sympa-mode members,
    and the lists' sending days."""
    sympa = {key: member for key, member in loaded.items()
             if policies[key[0]].score_mode == 'sympa'}
    if not sympa:
        return {}, {}
    starts = {key: member.facts.run_started or now
              for key, member in sympa.items()}
    earliest = min(starts.values())
    rows = config.db.store.execute(
        select(*_EVENT_COLUMNS)
        .where(BounceEvent.processed.is_(True),
               BounceEvent.outcome == 'scored',
               BounceEvent.timestamp >= earliest,
               BounceEvent.list_id.in_(sorted({k[0] for k in sympa})),
               BounceEvent.email.in_(sorted({k[1] for k in sympa})))).all()
    history: dict[tuple[str, str], list[BounceFact]] = defaultdict(list)
    for row in rows:
        key = (row.list_id, row.email)
        if key in starts and row.timestamp >= starts[key]:
            history[key].append(_fact(row))
    days = sending_days({k[0] for k in sympa}, earliest.date(), now)
    return history, days


@public
def process_batch(now: datetime, report: PassReport, limit: int,
                  event_ids: list[int] | None = None) -> int:
    """Claim and process up to `limit` events in one transaction."""
    if event_ids is None and not _claimable(now):
        # Nothing to do: do not take the write lock (on SQLite, an empty
        # write transaction still costs a sync to disk).
        return 0
    serialize_writers()
    rows = _claim(now, limit, event_ids)
    if not rows:
        config.db.commit()
        return 0
    batch = _Batch(now, report)
    grouped: dict[tuple[str, str], list[BounceFact]] = defaultdict(list)
    for row in rows:
        grouped[(row.list_id, row.email)].append(_fact(row))
    policies = policies_for({key[0] for key in grouped})
    loaded = load_members(key for key in grouped if key[0] in policies)
    history, days = _sympa_context(policies, loaded, now)
    for key, facts in grouped.items():
        policy = policies.get(key[0])
        if policy is None or not policy.process_bounces or key not in loaded:
            outcome = ('no-list' if policy is None else 'processing-off'
                       if not policy.process_bounces else 'not-member')
            for fact in facts:
                batch.outcome(fact.event_id, outcome)
            continue
        scored = score_member(policy, loaded[key].facts, facts, now,
                              history=history.get(key, []),
                              sending_days=days.get(key[0]))
        batch.score(policy, loaded[key], scored,
                    max(fact.event_id for fact in facts))
    batch.apply()
    config.db.commit()
    report.events += len(rows)
    report.batches += 1
    return len(rows)


def _recheck_thresholds(now: datetime, report: PassReport) -> None:
    """Disable (or probe) members whose score reached a lowered threshold."""
    rows = members_over_threshold()
    if not rows:
        return
    policies = policies_for({row.list_id for row in rows})
    batch = _Batch(now, report)
    for key, loaded in load_members(
            (row.list_id, row.email) for row in rows).items():
        scored = recheck_threshold(policies[key[0]], loaded.facts, now)
        if scored.actions:
            batch.score(policies[key[0]], loaded, scored, None)
            report.count('rechecked')
    batch.apply()


# Summary periods are counted from here (a Monday), so a weekly summary
# covers Monday to Sunday.
_SUMMARY_EPOCH = datetime(1970, 1, 5)


def summary_period(now: datetime, length: timedelta) -> tuple[datetime,
                                                            datetime]:
    """The last whole summary period before `now`."""
    periods = (now - _SUMMARY_EPOCH) // length
    end = _SUMMARY_EPOCH + periods * length
    return end - length, end


def _until_next_summary(now: datetime) -> timedelta:
    """From `now` to the end of the current summary period: the next
    summary is due then, not before."""
    length = site_config().ignored_summary_period
    _, end = summary_period(now, length)
    return end + length - now


def _ignored_summaries(now: datetime) -> int:
    """The last period's bounces not held against members: one notice per
    list and period."""
    start, end = summary_period(now, site_config().ignored_summary_period)
    day = start.date()
    event = BounceEvent
    rows = config.db.store.execute(
        select(event.list_id, event.email, event.reason, func.count())
        .where(event.outcome == 'ignored', event.timestamp >= start,
               event.timestamp < end)
        .group_by(event.list_id, event.email, event.reason)
        .order_by(event.list_id, event.email)).all()
    per_list: dict[str, list] = defaultdict(list)
    for row in rows:
        per_list[row.list_id].append(row)
    policies = policies_for(per_list)
    sent = 0
    for list_id, items in per_list.items():
        policy = policies.get(list_id)
        if policy is None or not policy.notify_owner_on_ignored:
            continue
        queue_notice(
            'notify_ignored', list_id=list_id, day=day.isoformat(),
            until=(end - timedelta(seconds=1)).date().isoformat(),
            dedup_key=f'ignored:{list_id}:{start:%Y%m%d%H%M}',
            count=len({item.email for item in items}),
            reasons=sorted({item.reason for item in items}),
            lines=[f'{item.email}: {item.reason} ({item[3]}x)'
                   for item in items[:200]])
        sent += 1
    return sent


def _before_batches(now: datetime, report: PassReport) -> None:
    serialize_writers()
    if take_turn('traffic', DAILY, now):
        snapshot_traffic(now)
    if take_lease(HOUSEKEEPING, LEASE_TIME, now):
        report.freezes = len(detect_outages(now))
        release_ended_freezes(now)
        confirmed, dismissed = confirm_or_dismiss_held(now)
        report.count('outage', dismissed)
        report.count('confirmed-after-outage', confirmed)
        release_lease(HOUSEKEEPING)
    config.db.commit()


def _after_batches(now: datetime, report: PassReport) -> None:
    serialize_writers()
    if not take_lease(HOUSEKEEPING, LEASE_TIME, now):
        config.db.commit()
        return
    _recheck_thresholds(now, report)
    report.probes_expired = expire_probes(now)
    if take_turn('adopt', DAILY, now):
        report.adopted = adopt_disabled_members(now)
    report.warnings, report.removals = warn_and_remove(now)
    if take_turn('ignored-summary', _until_next_summary(now), now):
        _ignored_summaries(now)
    if take_turn('evict', HOURLY, now):
        report.evicted = evict(now).total
    release_lease(HOUSEKEEPING)
    config.db.commit()


@public
def run_pass(now: datetime | None = None) -> PassReport:
    """One full periodic pass (see the module documentation)."""
    now = now or mailman_now()
    report = PassReport()
    batch_size = site_config().batch_size
    try:
        _before_batches(now, report)
        while process_batch(now, report, batch_size) == batch_size:
            pass
        _after_batches(now, report)
    except BaseException:
        config.db.abort()
        raise
    report.notices = deliver_notices()
    if report.events or report.warnings or report.removals:
        log.info('Bounce pass: %s', report)
    return report


@public
def process_events(events) -> PassReport:
    """Process the given events now (IBounceProcessor.process_event)."""
    report = PassReport()
    ids = [event.id for event in events if not event.processed]
    now = mailman_now()
    for start in range(0, len(ids), site_config().batch_size):
        process_batch(now, report, site_config().batch_size,
                      ids[start:start + site_config().batch_size])
    deliver_notices()
    return report


@public
def send_warnings_and_remove() -> tuple[int, int]:
    """Warnings and removals now (IBounceProcessor.send_warnings_and_remove).
    """
    now = mailman_now()
    serialize_writers()
    counts = warn_and_remove(now)
    config.db.commit()
    deliver_notices()
    return counts
