"""The periodic bounce pass.

One pass:

1. housekeeping that runs in one place at a time (a lease): the lists'
   traffic snapshot (daily), outage detection;
2. the new events, in batches of ``[bounces]batch_size``, each batch in one
   transaction: claim the events (skipping those another runner claimed and
   those held by an outage freeze), load the members they are about and the
   lists' policies with a few set-based queries, let the pure policy decide
   (`mailman_bounces.policy.scoring`), write the results back with bulk
   statements, count the events in the per-day summary of the events, and
   record the notices in the outbox;
3. the processed events the batches did not count in the per-day summary
   of the events (dismissed after an outage, loaded in bulk) folded into
   it (`mailman_bounces.app.event_summary`), in batches, each in one
   transaction;
4. again under the lease: re-checking members against lowered thresholds,
   unbounced probes, warnings and removals, the daily adoption of members
   disabled elsewhere, the periodic summary of ignored bounces, eviction;
5. the notices, sent after the decisions are committed.

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
from sqlalchemy import ColumnElement, and_, false, func, or_, select, tuple_

from mailman_bounces.app.callbacks import enqueue
from mailman_bounces.app.claims import (
    for_update,
    log_turns,
    release_lease,
    serialize_writers,
    take_lease,
    take_turn,
)
from mailman_bounces.app.event_summary import count_in, summarize
from mailman_bounces.app.failover import fail_over
from mailman_bounces.app.forged import summarise_forged
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
    queue_warnings_and_removals,
)
from mailman_bounces.config import site_config
from mailman_bounces.database.bulk_update import update_by_primary_key
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.policy.scoring import (
    Action,
    ActionKind,
    BounceFact,
    MemberFacts,
    Scored,
    late_days,
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
    BounceEvent.reason, BounceEvent.context, BounceEvent.feedback_type,
    BounceEvent.evidence, BounceEvent.summarized)


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
    # Events folded into the per-day summary.
    summarized: int = 0

    def count(self, outcome: str, number: int = 1) -> None:
        if number:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + number


def _fact(row) -> BounceFact:
    return BounceFact(
        event_id=row.id, timestamp=row.timestamp, kind=row.kind,
        severity=row.severity, reason=row.reason,
        probe=row.context == BounceContext.probe,
        feedback_type=row.feedback_type, evidence=row.evidence)


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
    rows = config.db.store.execute(
        for_update(query, skip_locked=True)).all()
    return rows + _claim_siblings(now, rows, limit)


def _of_members(keys) -> ColumnElement[bool]:
    """SQL condition: the event is about one of the (list, email) `keys`.

    On PostgreSQL a row-value IN, one expanding parameter: cheap to build
    and compiled once (building and compiling an OR of a few hundred pairs
    took most of a batch's claim in a profile), and planned as lookups in
    the index on (list_id, email, timestamp).  Elsewhere one equality pair
    per member: SQLite scans the whole events table for a row-value IN,
    while each pair of the OR is one lookup in that index."""
    pairs = sorted(keys)
    if config.db.engine.dialect.name == 'postgresql':
        if not pairs:
            return false()
        return tuple_(BounceEvent.list_id, BounceEvent.email).in_(pairs)
    return or_(false(), *(and_(BounceEvent.list_id == list_id,
                               BounceEvent.email == email)
                          for list_id, email in pairs))


def _claim_siblings(now: datetime, rows: list, limit: int) -> list:
    """The other due events of the members of `rows`, so that a member's
    events are scored together, in the order of their timestamps, and not
    in the order runners happened to claim them (at most `limit` more;
    events another runner holds are skipped: see `_in_order`)."""
    if not rows:
        return []
    claimed = [row.id for row in rows]
    store = config.db.store
    # Found without locks, then locked by primary key: MySQL's repeatable
    # read would otherwise lock every row the search scans, and the other
    # runners would skip them all.
    wanted = store.execute(
        select(BounceEvent.id)
        .where(_due(now), _of_members({(r.list_id, r.email) for r in rows}),
               BounceEvent.id.not_in(claimed))
        # The earliest first: a member with more events than fit is scored
        # from its first ones on, never deferred behind itself.
        .order_by(BounceEvent.timestamp, BounceEvent.id).limit(limit)
    ).scalars().all()
    if not wanted:
        return []
    return store.execute(for_update(
        select(*_EVENT_COLUMNS).where(BounceEvent.id.in_(wanted),
                                      BounceEvent.processed.is_(False))
        .order_by(BounceEvent.id), skip_locked=True)).all()


def _in_order(now: datetime, grouped: dict) -> dict:
    """Each member's claimed events that may be scored now: those before
    the member's first due event we do not hold.

    Another runner may hold an event of the member's that falls between
    or before ours; it scores that one first, and ours after it are left
    unprocessed (our locks go with our commit) for a later batch, so every
    member's events are scored in timestamp order, whatever the
    interleaving of the runners.  A member left with none waits entirely.

    Called with the members locked: the runner holding the earlier event
    waits for our commit, it never waits for us to wait for it."""
    claimed = {fact.event_id for facts in grouped.values() for fact in facts}
    others = config.db.store.execute(
        select(BounceEvent.id, BounceEvent.list_id, BounceEvent.email,
               BounceEvent.timestamp)
        .where(_due(now), _of_members(grouped.keys()),
               BounceEvent.id.not_in(claimed))).all()
    first_unheld: dict[tuple[str, str], tuple] = {}
    for row in others:
        key = (row.list_id, row.email)
        first_unheld[key] = min(first_unheld.get(key, (row.timestamp, row.id)),
                                (row.timestamp, row.id))
    ready = {}
    for key, facts in grouped.items():
        facts = sorted(facts, key=lambda f: (f.timestamp, f.event_id))
        if key in first_unheld:
            facts = [f for f in facts
                     if (f.timestamp, f.event_id) < first_unheld[key]]
        if facts:
            ready[key] = facts
    return ready


def _day_weights(policies: dict[str, ListPolicy],
                 grouped: dict[tuple[str, str], list[BounceFact]],
                 loaded: dict[tuple[str, str], LoadedMember]
                 ) -> dict[tuple[str, str], dict]:
    """The weight counted for each day of the current run of the members
    with a late event (rare: an event older than the last scored day)."""
    late = {key: loaded[key].facts for key, facts in grouped.items()
            if key in loaded and key[0] in policies
            and policies[key[0]].score_mode == 'mailman'
            and loaded[key].facts.run_started is not None
            and late_days(loaded[key].facts, facts)}
    weights: dict[tuple[str, str], dict] = {key: {} for key in late}
    if not late:
        return weights
    earliest = min(member.run_started for member in late.values())
    rows = config.db.store.execute(
        select(BounceEvent.list_id, BounceEvent.email, BounceEvent.timestamp,
               BounceEvent.score_delta)
        .where(BounceEvent.processed.is_(True), BounceEvent.score_delta > 0,
               BounceEvent.timestamp >= earliest, _of_members(late))).all()
    for row in rows:
        key = (row.list_id, row.email)
        if row.timestamp >= late[key].run_started:
            # A day's deltas add up to the heaviest bounce of the day.
            day = row.timestamp.date()
            weights[key][day] = weights[key].get(day, 0.0) + row.score_delta
    return weights


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
            if action.kind is ActionKind.disable:
                moved = self._fail_over(policy, loaded, member, action)
                enqueue('member.disabled',
                        f'disable:{action.event_id}:{member.member_id}',
                        policy.list_id,
                        {'email': member.email, 'why': action.detail,
                         'event_id': action.event_id,
                         'moved_to': moved})
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
            elif not (failed_over
                      and action.kind is ActionKind.notify_disable):
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
            queue_notice(NoticeKind.failover, list_id=policy.list_id,
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
        kind = action.kind
        if kind is ActionKind.probe:
            queue_notice(NoticeKind.probe, why=action.detail, **common)
        elif kind is ActionKind.unsubscribe:
            queue_notice(NoticeKind.unsubscribe, why=action.detail, **common)
        elif kind is ActionKind.notify_increment:
            queue_notice(NoticeKind.notify_increment,
                         score=f'{member.score:g}',
                         delta=f'{outcome.delta if outcome else 0:g}',
                         **common)
        elif kind is ActionKind.notify_disable:
            score = scored.rating if scored.rating is not None else (
                policy.threshold)
            queue_notice(NoticeKind.notify_disable, score=f'{score:g}',
                         **common)
        elif kind is ActionKind.notify_complaint:
            queue_notice(NoticeKind.notify_complaint,
                         action=policy.complaint_action, **common)
        elif kind is ActionKind.notify_level:
            queue_notice(NoticeKind.notify_level, level=action.detail,
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


def _summarize_processed(batch: _Batch, rows: list) -> list:
    """Flag the events the batch processes as summarized, in the update
    that marks them processed (which writes the rows anyway: a fold would
    write each of them a second time); those the caller must count in the
    summary (`count_in`)."""
    for event_row in batch.event_rows:
        event_row['summarized'] = True
    done = {event_row['id'] for event_row in batch.event_rows}
    return [row for row in rows if row.id in done and not row.summarized]


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
    grouped = _in_order(now, grouped)
    history, days = _sympa_context(policies, loaded, now)
    weights = _day_weights(policies, grouped, loaded)
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
                              sending_days=days.get(key[0]),
                              day_weights=weights.get(key))
        batch.score(policy, loaded[key], scored,
                    max(fact.event_id for fact in facts))
    fresh = _summarize_processed(batch, rows)
    batch.apply()
    # Last: the summary's rows are locked after all else the batch locks.
    count_in(fresh)
    config.db.commit()
    processed = sum(len(facts) for facts in grouped.values())
    report.events += processed
    report.batches += 1
    return processed


def _run_verified(key: tuple[str, str], since: datetime) -> bool:
    """Did the member's live score take any verified bounce (read once per
    re-checked member: rare, a lowered threshold)?"""
    event = BounceEvent
    return config.db.store.execute(
        select(event.id).where(
            event.list_id == key[0], event.email == key[1],
            event.evidence == 'verified', event.outcome == 'scored',
            event.timestamp >= since).limit(1)).first() is not None


def _recheck_thresholds(now: datetime, report: PassReport) -> None:
    """Disable (or probe) members whose score reached a lowered threshold."""
    rows = members_over_threshold()
    if not rows:
        return
    policies = policies_for({row.list_id for row in rows})
    batch = _Batch(now, report)
    for key, loaded in load_members(
            (row.list_id, row.email) for row in rows).items():
        policy = policies[key[0]]
        scored = recheck_threshold(
            policy, loaded.facts, now,
            _run_verified(key, now - policy.bounce_info_stale_after))
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
            NoticeKind.notify_ignored, list_id=list_id, day=day.isoformat(),
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
    log_turns(committed=True)


def _after_batches(now: datetime, report: PassReport) -> None:
    serialize_writers()
    if not take_lease(HOUSEKEEPING, LEASE_TIME, now):
        config.db.commit()
        return
    _recheck_thresholds(now, report)
    report.probes_expired = expire_probes(now)
    if take_turn('adopt', DAILY, now):
        report.adopted = adopt_disabled_members(now)
    report.warnings, report.removals = queue_warnings_and_removals(now)
    if take_turn('ignored-summary', _until_next_summary(now), now):
        _ignored_summaries(now)
    if take_turn('forged-summary', HOURLY, now):
        summarise_forged(now)
    if take_turn('evict', HOURLY, now):
        report.evicted = evict(now).total
    release_lease(HOUSEKEEPING)
    config.db.commit()
    log_turns(committed=True)


@public
def run_pass(now: datetime | None = None) -> PassReport:
    """One full periodic pass (see the module documentation)."""
    now = now or mailman_now()
    report = PassReport()
    batch_size = site_config().batch_size
    try:
        _before_batches(now, report)
        while process_batch(now, report, batch_size) >= batch_size:
            pass
        report.summarized = summarize()
        _after_batches(now, report)
    except BaseException:
        config.db.abort()
        log_turns(committed=False)
        raise
    report.notices = deliver_notices()
    if report.events or report.warnings or report.removals:
        log.info('Bounce pass: %s', report)
    log.debug('Bounce pass at %s done', now.isoformat())
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
def warn_and_remove_now() -> tuple[int, int]:
    """The warnings step, outside a pass, and its notices sent: what
    core's IBounceProcessor.send_warnings_and_remove asks of the plugin's
    processor."""
    now = mailman_now()
    serialize_writers()
    counts = queue_warnings_and_removals(now)
    config.db.commit()
    deliver_notices()
    return counts
