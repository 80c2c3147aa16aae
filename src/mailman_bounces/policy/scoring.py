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

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from mailman_bounces.policy.settings import ListPolicy

__all__ = [
    'SOFT_CAP',
    'Action',
    'BounceFact',
    'EventOutcome',
    'MemberFacts',
    'Scored',
    'event_weight',
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


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one event."""

    event_id: int
    outcome: str
    delta: float = 0.0


@dataclass(frozen=True)
class Action:
    """Something the pass must do beyond updating the member's standing.

    kind is one of: ``disable``, ``probe``, ``unsubscribe``,
    ``notify_increment``, ``notify_disable``, ``notify_complaint``,
    ``notify_level`` (Sympa level reached), ``ignored`` (a bounce recorded
    but not held against the member, for the owners' daily summary).
    """

    kind: str
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
                      now: datetime) -> Scored:
    """Act on a member whose score reached the list's (lowered) threshold
    without a new bounce: disable, or probe first."""
    result = Scored(member)
    if (policy.score_mode != 'mailman' or member.disabled
            or member.score < policy.threshold
            or member.last_bounce is None
            or member.last_bounce < now - policy.bounce_info_stale_after):
        return result
    trigger = BounceFact(event_id=0, timestamp=now, kind='bounce',
                         severity='hard',
                         reason=member.last_reason or 'undefined')
    _MailmanScorer(policy, result, now, [], None).probe_or_disable(trigger)
    return result


def score_member(policy: ListPolicy, member: MemberFacts,
                 facts: list[BounceFact], now: datetime,
                 history: list[BounceFact] | None = None,
                 sending_days: set[date] | None = None) -> Scored:
    """Apply `facts` (the member's new events, any order) to `member`.

    :param history: Sympa mode only: the member's earlier events of the
        current run (already processed).
    :param sending_days: Sympa mode only: the days the list sent mail, or
        None if unknown (every day then counts as a sending day).
    """
    result = Scored(member)
    ordered = sorted(facts, key=lambda f: (f.timestamp, f.event_id))
    scorer = _MailmanScorer if policy.score_mode == 'mailman' else (
        _SympaScorer)
    scorer(policy, result, now, history or [], sending_days).run(ordered)
    return result


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

    def act(self, kind: str, fact: BounceFact | None = None,
            detail: str | None = None) -> None:
        self.result.actions.append(
            Action(kind, None if fact is None else fact.event_id, detail))

    def relabel(self, fact: BounceFact, outcome: str) -> None:
        """Say what the event finally led to (e.g. scored -> disabled)."""
        for index, earlier in enumerate(self.result.outcomes):
            if earlier.event_id == fact.event_id:
                self.result.outcomes[index] = replace(earlier,
                                                      outcome=outcome)

    def run(self, facts: list[BounceFact]) -> None:
        for fact in facts:
            if fact.kind == 'complaint':
                self.complaint(fact)
            elif fact.probe:
                self.probe_bounced(fact)
            elif self.member.disabled:
                self.outcome(fact, 'already-disabled')
            else:
                self.bounce(fact)

    def bounce(self, fact: BounceFact) -> None:
        raise NotImplementedError

    def complaint(self, fact: BounceFact) -> None:
        self.outcome(fact, 'complaint')
        if self.policy.notify_owner_on_complaint:
            self.act('notify_complaint', fact, fact.feedback_type)
        if self.policy.complaint_action == 'unsubscribe':
            self.act('unsubscribe', fact, 'complaint')
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
        self.update(disabled=True, score=0.0, probe_sent=None,
                    disabled_reason=fact.reason, last_reason=fact.reason)
        if not fact.probe and fact.kind != 'complaint':
            self.relabel(fact, 'disabled')
        self.act('disable', fact, fact.reason)
        if notify and self.policy.bounce_notify_owner_on_disable:
            self.act('notify_disable', fact)

    def probe_or_disable(self, fact: BounceFact) -> None:
        if not self.policy.probe_before_disable:
            self.disable(fact)
        elif self.member.probe_sent is None:
            self.update(probe_sent=self.now)
            self.relabel(fact, 'probe-sent')
            self.act('probe', fact)


class _MailmanScorer(_Scorer):
    def bounce(self, fact: BounceFact) -> None:
        weight = event_weight(self.policy, fact)
        if weight <= 0:
            self.outcome(fact, 'ignored')
            self.act('ignored', fact, fact.reason)
            return
        member = self.member
        day = fact.timestamp.date()
        stale = member.last_bounce is None or (
            member.last_bounce < fact.timestamp
            - self.policy.bounce_info_stale_after)
        if stale:
            self.update(score=0.0, run_started=fact.timestamp,
                        scored_day=None, day_weight=0.0)
            member = self.member
        if member.scored_day is not None and day <= member.scored_day:
            # Same day (or a late event from an earlier day): only a heavier
            # bounce than today's adds, and only the difference.
            delta = weight - member.day_weight if day == member.scored_day \
                else 0.0
            if delta <= 0:
                self.update(last_bounce=max(member.last_bounce or
                                            fact.timestamp, fact.timestamp))
                self.outcome(fact, 'same-day')
                return
            day_weight = weight
        else:
            delta, day_weight = weight, weight
        self.update(score=member.score + delta, scored_day=day,
                    day_weight=day_weight, last_reason=fact.reason,
                    last_bounce=max(member.last_bounce or fact.timestamp,
                                    fact.timestamp))
        self.outcome(fact, 'scored', delta)
        if self.member.score >= self.policy.threshold:
            self.probe_or_disable(fact)
        elif self.policy.bounce_notify_owner_on_bounce_increment:
            self.act('notify_increment', fact)


class _SympaScorer(_Scorer):
    def bounce(self, fact: BounceFact) -> None:
        weight = min(event_weight(self.policy, fact), 1.0)
        if weight <= 0:
            self.outcome(fact, 'ignored')
            self.act('ignored', fact, fact.reason)
            return
        member = self.member
        stale = member.last_bounce is None or (
            member.last_bounce < fact.timestamp
            - self.policy.bounce_info_stale_after)
        if stale:
            self.update(run_started=fact.timestamp, sympa_level=0,
                        score=0.0)
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
        if action == 'notify_owner':
            self.act('notify_level', fact, str(level))
        elif action == 'probe':
            self.update(probe_sent=self.member.probe_sent or self.now)
            self.act('probe', fact)
        elif action == 'disable':
            self.disable(fact)
        elif action == 'unsubscribe':
            self.act('unsubscribe', fact, f'sympa level {level}')
