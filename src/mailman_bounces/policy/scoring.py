"""Scoring: how one member's new bounce events change their standing.

Pure: facts in, decisions out.  The periodic pass loads the facts for a
batch of events (set-based), calls `score_member` for each member, and
applies the returned state and actions in one transaction.

Two score modes:

``mailman``
    Core's model, made fair.  At most one increment per member per day; the
    increment is the weight of the bounce's reason (``[weights]``), never
    more than `SOFT_CAP` for a temporary failure, and 0 for reasons that are
    not the member's fault (DMARC, spam filters, reputation ...: recorded,
    reported, never held against the member).  A later, heavier bounce on
    the same day adds only the difference.  A score older than
    ``bounce_info_stale_after`` restarts.  At the threshold the member is
    disabled, or probed first when the list asks for probes.

``sympa``
    Sympa's rating: count x type rate x regularity rate.  Over the current
    bouncing run (bounces no further apart than the stale window) the
    member bounced on N days; the type rate is the mean weight of those
    days (hard 1, soft at most 0.5); the regularity rate is N over the
    number of days the list actually sent mail in the run.  The rating
    (0-100) is only computed once N >= sympa_min_count and the run is at
    least sympa_min_period long; levels 1 and 2 trigger their actions once
    per run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mailman_bounces.policy.settings import ListPolicy

__all__ = [
    'FRESH_STANDING',
    'SOFT_CAP',
    'Action',
    'ActionKind',
    'BounceFact',
    'EventOutcome',
    'MemberFacts',
    'Scored',
    'event_weight',
    'late_days',
    'probe_expired',
    'recheck_threshold',
    'score_member',
]

# A temporary failure never weighs more than this, whatever its reason.
SOFT_CAP = 0.5


@dataclass(frozen=True)
class BounceFact:
    """A registered bounce event, as the policy sees it."""

    event_id: int
    timestamp: datetime
    kind: str            # bounce, delay, complaint or unknown
    severity: str        # hard, soft or none
    reason: str
    probe: bool = False
    feedback_type: str | None = None
    # verified, unverified or forged (see `mailman_bounces.signing`).
    evidence: str = 'verified'

    @property
    def verified(self) -> bool:
        return self.evidence == 'verified'


@dataclass(frozen=True)
class MemberFacts:
    """A membership's bounce standing before (or after) a batch."""

    member_id: int
    email: str
    disabled: bool = False          # delivery disabled by bounces
    score: float = 0.0
    last_bounce: datetime | None = None
    scored_day: date | None = None
    day_weight: float = 0.0
    run_started: datetime | None = None
    sympa_level: int = 0
    probe_sent: datetime | None = None
    last_reason: str | None = None
    disabled_reason: str | None = None


# What a member's standing holds before any bounce (`MemberFacts`'
# defaults), and what a reset puts back.  The plugin's table takes its
# column defaults from here.
FRESH_STANDING: Mapping[str, Any] = MappingProxyType({
    item.name: item.default for item in fields(MemberFacts)
    if item.default is not MISSING})
# What a new bouncing run (after a stale score) starts from, besides its
# start.
_RUN_FIELDS = ('score', 'scored_day', 'day_weight', 'sympa_level')


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one event."""

    event_id: int
    outcome: str
    delta: float = 0.0


class ActionKind(StrEnum):
    """What the pass must do beyond updating a member's standing."""

    # Disable the member's delivery (or move it to another address).
    disable = 'disable'
    # Probe the member's mailbox first.
    probe = 'probe'
    # Unsubscribe the member now.
    unsubscribe = 'unsubscribe'
    # Tell the owners: the score went up; delivery disabled; an abuse
    # complaint; a Sympa level reached.
    notify_increment = 'notify_increment'
    notify_disable = 'notify_disable'
    notify_complaint = 'notify_complaint'
    notify_level = 'notify_level'


@dataclass(frozen=True)
class Action:
    """Something the pass must do beyond updating the member's standing."""

    kind: ActionKind
    event_id: int | None = None
    detail: str | None = None


@dataclass
class Scored:
    """The result of scoring one member's batch of events."""

    member: MemberFacts
    outcomes: list[EventOutcome] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    # Sympa: bouncing days in the run and the rating, when computed.
    bouncing_days: int = 0
    rating: float | None = None


def event_weight(policy: ListPolicy, fact: BounceFact) -> float:
    """How much `fact` may add to a score in the mailman mode."""
    if fact.kind == 'unknown':
        # Registered without a readable report (e.g. by other code through
        # core's interface): it counts like an unclassified bounce.
        return policy.weight('undefined')
    if fact.severity == 'none':
        return 0.0
    weight = policy.weight(fact.reason)
    if fact.severity == 'soft':
        weight = min(weight, SOFT_CAP)
    return weight


def probe_expired(policy: ListPolicy, member: MemberFacts,
                  now: datetime) -> bool:
    """Did the member's probe go unbounced for the list's probe_wait?"""
    return (member.probe_sent is not None and not member.disabled
            and member.probe_sent + policy.probe_wait <= now)


def recheck_threshold(policy: ListPolicy, member: MemberFacts,
                      now: datetime, verified: bool = True) -> Scored:
    """Act on a member whose score reached the list's (lowered) threshold
    without a new bounce: disable, or probe first.

    :param verified: Whether the current run holds verified evidence; if
        not, the list's ``unverified_action`` applies.
    """
    result = Scored(member)
    if (policy.score_mode != 'mailman' or member.disabled
            or member.score < policy.threshold
            or member.last_bounce is None
            or member.last_bounce < now - policy.bounce_info_stale_after):
        return result
    trigger = BounceFact(event_id=0, timestamp=now, kind='bounce',
                         severity='hard',
                         reason=member.last_reason or 'undefined',
                         evidence='verified' if verified else 'unverified')
    _MailmanScorer(policy, result, now, [], None).probe_or_disable(trigger)
    return result


def score_member(policy: ListPolicy, member: MemberFacts,
                 facts: list[BounceFact], now: datetime,
                 history: list[BounceFact] | None = None,
                 sending_days: set[date] | None = None,
                 day_weights: Mapping[date, float] | None = None) -> Scored:
    """Apply `facts` (the member's new events, any order) to `member`.

    The resulting score does not depend on the order in which events
    arrive: a late event (older than a bounce already counted, e.g.
    registered by a slower runner) counts as it would have in time.

    :param history: Sympa mode only: the member's earlier events of the
        current run (already processed).
    :param sending_days: Sympa mode only: the days the list sent mail, or
        None if unknown (every day then counts as a sending day).
    :param day_weights: Mailman mode: the weight already counted for each
        day of the current run (see `late_days`); needed only when a fact
        is late.
    """
    result = Scored(member)
    ordered = sorted(facts, key=lambda f: (f.timestamp, f.event_id))
    if policy.score_mode == 'mailman':
        scorer: _Scorer = _MailmanScorer(policy, result, now, [], None,
                                         day_weights)
    else:
        scorer = _SympaScorer(policy, result, now, history or [],
                              sending_days)
    scorer.run(ordered)
    return result


def late_days(member: MemberFacts, facts: list[BounceFact]) -> bool:
    """Does one of `facts` fall on a day of the member's current run before
    the last scored day (so that scoring it needs that day's weight)?"""
    return member.scored_day is not None and any(
        fact.timestamp.date() < member.scored_day for fact in facts)


class _Scorer:
    def __init__(self, policy: ListPolicy, result: Scored, now: datetime,
                 history: list[BounceFact],
                 sending_days: set[date] | None) -> None:
        self.policy = policy
        self.result = result
        self.now = now
        self.history = history
        self.sending_days = sending_days

    @property
    def member(self) -> MemberFacts:
        return self.result.member

    def update(self, **changes) -> None:
        self.result.member = replace(self.result.member, **changes)

    def outcome(self, fact: BounceFact, outcome: str,
                delta: float = 0.0) -> None:
        self.result.outcomes.append(EventOutcome(fact.event_id, outcome,
                                                 delta))

    def act(self, kind: ActionKind, fact: BounceFact | None = None,
            detail: str | None = None) -> None:
        self.result.actions.append(
            Action(kind, None if fact is None else fact.event_id, detail))

    def relabel(self, fact: BounceFact, outcome: str) -> None:
        """Say what the event finally led to (e.g. scored -> disabled)."""
        for index, earlier in enumerate(self.result.outcomes):
            if earlier.event_id == fact.event_id:
                self.result.outcomes[index] = replace(earlier,
                                                      outcome=outcome)

    def stale(self, fact: BounceFact) -> bool:
        """Is the member's last bounce too old to count with `fact`?"""
        last = self.member.last_bounce
        return last is None or (
            last < fact.timestamp - self.policy.bounce_info_stale_after)

    def restart_run(self, fact: BounceFact) -> None:
        """A new bouncing run starts at `fact`, from a fresh score."""
        self.update(**{name: FRESH_STANDING[name] for name in _RUN_FIELDS},
                    run_started=fact.timestamp)

    def run(self, facts: list[BounceFact]) -> None:
        for fact in facts:
            if fact.evidence == 'forged':
                # Kept and shown, never held against anyone.
                self.outcome(fact, 'forged')
            elif fact.kind == 'complaint':
                self.complaint(fact)
            elif fact.probe:
                self.probe_bounced(fact)
            elif self.member.disabled:
                self.outcome(fact, 'already-disabled')
            elif (not fact.verified
                  and self.policy.unverified_action == 'ignore'):
                self.outcome(fact, 'unverified')
            else:
                self.bounce(fact)

    def bounce(self, fact: BounceFact) -> None:
        raise NotImplementedError

    def complaint(self, fact: BounceFact) -> None:
        self.outcome(fact, 'complaint')
        if self.policy.notify_owner_on_complaint:
            self.act(ActionKind.notify_complaint, fact, fact.feedback_type)
        if not fact.verified:
            # Anyone can write an abuse report naming anyone: only one
            # returning a message the plugin signed is acted on.
            return
        if self.policy.complaint_action == 'unsubscribe':
            self.act(ActionKind.unsubscribe, fact, 'complaint')
        elif (self.policy.complaint_action == 'disable'
              and not self.member.disabled):
            self.disable(fact, notify=False)

    def probe_bounced(self, fact: BounceFact) -> None:
        if self.member.disabled:
            self.outcome(fact, 'already-disabled')
            return
        self.outcome(fact, 'probe-bounced')
        self.disable(fact)

    def disable(self, fact: BounceFact, notify: bool = True) -> None:
        """Disable delivery; core resets the score when it disables."""
        self.update(disabled=True, score=FRESH_STANDING['score'],
                    probe_sent=FRESH_STANDING['probe_sent'],
                    disabled_reason=fact.reason, last_reason=fact.reason)
        if not fact.probe and fact.kind != 'complaint':
            self.relabel(fact, 'disabled')
        self.act(ActionKind.disable, fact, fact.reason)
        if notify and self.policy.bounce_notify_owner_on_disable:
            self.act(ActionKind.notify_disable, fact)

    def probe_or_disable(self, fact: BounceFact) -> None:
        if (not fact.verified and self.policy.unverified_action == 'probe'
                or self.policy.probe_before_disable):
            # Unverified evidence alone never disables: a signed probe
            # (or a verified bounce) decides.
            self.probe(fact)
        else:
            self.disable(fact)

    def probe(self, fact: BounceFact) -> None:
        """Send the member one probe (none while one is outstanding)."""
        if self.member.probe_sent is None:
            self.update(probe_sent=self.now)
            self.relabel(fact, 'probe-sent')
            self.act(ActionKind.probe, fact)


class _MailmanScorer(_Scorer):
    """Score = the sum, over the days of the current run, of the heaviest
    bounce of each day: a sum of per-day maxima, so the same events give
    the same score in any order."""

    def __init__(self, policy: ListPolicy, result: Scored, now: datetime,
                 history: list[BounceFact],
                 sending_days: set[date] | None,
                 day_weights: Mapping[date, float] | None = None) -> None:
        super().__init__(policy, result, now, history, sending_days)
        member = result.member
        self.days = dict(day_weights or {})
        if member.scored_day is not None:
            self.days[member.scored_day] = max(
                self.days.get(member.scored_day, 0.0), member.day_weight)

    def verified_decides(self, fact: BounceFact) -> None:
        """A bounce that adds nothing still decides when it is verified
        and a probe is out because unverified bounces reached the
        threshold."""
        member = self.member
        if (fact.verified and member.probe_sent is not None
                and member.score >= self.policy.threshold):
            self.probe_or_disable(fact)

    def late(self, fact: BounceFact) -> bool:
        """Is `fact` older than a bounce already counted in the run?"""
        member = self.member
        return (member.run_started is not None
                and member.last_bounce is not None
                and fact.timestamp < member.last_bounce)

    def bounce(self, fact: BounceFact) -> None:
        weight = event_weight(self.policy, fact)
        if weight <= 0:
            # Recorded, reported in the owners' summary of ignored bounces,
            # never held against the member.
            self.outcome(fact, 'ignored')
            return
        late = self.late(fact)
        if late:
            started = self.member.run_started
            if fact.timestamp < started - self.policy.bounce_info_stale_after:
                # From an earlier run: it could not count in time either.
                self.outcome(fact, 'same-day')
                self.verified_decides(fact)
                return
            self.update(run_started=min(started, fact.timestamp))
        elif self.stale(fact):
            self.restart_run(fact)
            self.days = {}
        member = self.member
        day = fact.timestamp.date()
        # Only a heavier bounce than the day's adds, and only the difference.
        delta = weight - self.days.get(day, 0.0)
        last_bounce = max(member.last_bounce or fact.timestamp,
                          fact.timestamp)
        if delta <= 0:
            self.update(last_bounce=last_bounce)
            self.outcome(fact, 'same-day')
            self.verified_decides(fact)
            return
        self.days[day] = weight
        newest = max(self.days)
        self.update(score=member.score + delta, scored_day=newest,
                    day_weight=self.days[newest], last_bounce=last_bounce,
                    last_reason=member.last_reason if late else fact.reason)
        self.outcome(fact, 'scored', delta)
        if self.member.score >= self.policy.threshold:
            self.probe_or_disable(fact)
        elif self.policy.bounce_notify_owner_on_bounce_increment:
            self.act(ActionKind.notify_increment, fact)


class _SympaScorer(_Scorer):
    def bounce(self, fact: BounceFact) -> None:
        weight = min(event_weight(self.policy, fact), 1.0)
        if weight <= 0:
            # As in the mailman mode: recorded and reported, not counted.
            self.outcome(fact, 'ignored')
            return
        if self.stale(fact):
            self.restart_run(fact)
            self.history = []
        self.history.append(fact)
        self.update(last_bounce=max(self.member.last_bounce or
                                    fact.timestamp, fact.timestamp),
                    last_reason=fact.reason)
        self.outcome(fact, 'scored', weight)
        self.rate(fact)

    def _daily_weights(self) -> dict[date, float]:
        days: dict[date, float] = {}
        for earlier in self.history:
            weight = min(event_weight(self.policy, earlier), 1.0)
            if weight > 0:
                day = earlier.timestamp.date()
                days[day] = max(days.get(day, 0.0), weight)
        return days

    def rate(self, fact: BounceFact) -> None:
        days = self._daily_weights()
        self.result.bouncing_days = len(days)
        first = min(days)
        last = max(days)
        period = last - first + timedelta(days=1)
        if (len(days) < self.policy.sympa_min_count
                or period < self.policy.sympa_min_period):
            return
        type_rate = sum(days.values()) / len(days)
        sent = self._sending_days(first, last)
        regularity = min(1.0, len(days) / max(sent, 1))
        rating = round(100.0 * type_rate * regularity, 1)
        self.result.rating = rating
        self.update(score=rating)
        for level, threshold, action in (
                (2, self.policy.sympa_level2, self.policy.sympa_level2_action),
                (1, self.policy.sympa_level1, self.policy.sympa_level1_action)):
            if rating >= threshold and self.member.sympa_level < level:
                self.update(sympa_level=level)
                self.level_action(fact, level, action)
                break

    def _sending_days(self, first: date, last: date) -> int:
        span = (last - first).days + 1
        if self.sending_days is None:
            return span
        return sum(1 for day in self.sending_days if first <= day <= last)

    def level_action(self, fact: BounceFact, level: int, action: str) -> None:
        if (action in ('disable', 'unsubscribe') and not fact.verified
                and self.policy.unverified_action == 'probe'):
            # As in the mailman mode: a signed probe decides.
            self.probe(fact)
        elif action == 'notify_owner':
            self.act(ActionKind.notify_level, fact, str(level))
        elif action == 'probe':
            self.update(probe_sent=self.member.probe_sent or self.now)
            self.act(ActionKind.probe, fact)
        elif action == 'disable':
            self.disable(fact)
        elif action == 'unsubscribe':
            self.act(ActionKind.unsubscribe, fact, f'sympa level {level}')
