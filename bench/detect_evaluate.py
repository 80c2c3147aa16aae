"""Accuracy of the engine against the corpus oracle (what Sisimai reports).

Benchmark code, kept out of the runtime package: used by ``bench/detect_bench.py``
and the accuracy tests.
A message's recipients match when the engine's set of failed recipients (ignoring
``delivered`` and ``vacation`` records, which Sisimai leaves out by default) is
exactly Sisimai's: a recipient is the same when the engine's ``address`` or
``original`` equals Sisimai's ``recipient`` or ``alias``, ignoring case.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from configparser import ConfigParser
from dataclasses import dataclass, field

from mailman_bounces.detect import Recipient, Report, Severity
from mailman_bounces.detect.scan import split_mbox

IGNORED_REASONS = ('delivered', 'vacation')
NO_FAILURE = ('delivered', 'vacation', 'feedback')
SOFT_CAP = 0.5  # policy.scoring: a soft failure never weighs more


def default_weights() -> dict[str, float]:
    """The [weights] section of the plugin's settings schema (the defaults)."""
    schema = ConfigParser(interpolation=None, comment_prefixes=('#',))
    here = os.path.dirname(os.path.abspath(__file__))
    schema.read(os.path.join(here, '..', 'src', 'mailman_bounces', 'config', 'schema.cfg'), encoding='utf-8')
    return {name: float(value) for name, value in schema['weights'].items()}


WEIGHTS = default_weights()


def weight(reason: str, hard: bool) -> float:
    """What one bounce of *reason* adds to a score with the default weights
    (the mailman score mode, ``policy.scoring.event_weight``)."""
    if reason in NO_FAILURE:
        return 0.0
    value = WEIGHTS.get(reason, WEIGHTS.get('undefined', 0.5))
    return value if hard else min(value, SOFT_CAP)


@dataclass(slots=True)
class Case:
    """One message of the corpus and Sisimai's default records for it."""

    file: str
    index: int
    data: bytes
    expected: list[dict[str, object]]


@dataclass(slots=True)
class Score:
    messages: int = 0
    exact: int = 0
    recipients: int = 0
    matched: int = 0
    status_agree: int = 0
    reason_agree: int = 0
    hard_agree: int = 0
    weight_agree: int = 0
    misses: list[str] = field(default_factory=list)
    reason_misses: list[str] = field(default_factory=list)

    def ratio(self, name: str) -> float:
        """*name* as a fraction: messages for 'exact', recipients for 'matched', and
        for the per-recipient fields, the recipients both Sisimai and we found."""
        total = {'exact': self.messages, 'matched': self.recipients}.get(name, self.matched)
        return getattr(self, name) / total if total else 0.0

    def ratio_of_all(self, name: str) -> float:
        """A per-recipient field over all Sisimai's recipients (unmatched ones count as wrong)."""
        return getattr(self, name) / self.recipients if self.recipients else 0.0


def load_cases(corpus: str) -> tuple[list[Case], list[Case]]:
    """(bounce cases, non-bounce cases) from *corpus* (a directory with oracle.jsonl)."""
    bounces: list[Case] = []
    others: list[Case] = []
    with open(os.path.join(corpus, 'oracle.jsonl'), encoding='utf-8') as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    for record in records:
        with open(os.path.join(corpus, record['file']), 'rb') as message_file:
            messages = split_mbox(message_file.read())
        for index, data in enumerate(messages):
            expected = [r for r in record['recipients']
                        if r['sisimai_default'] and r['msg'] == index]
            case = Case(record['file'], index, data, expected)
            (bounces if expected else others).append(case)
    return bounces, others


def _same(recipient: Recipient, record: dict[str, object]) -> bool:
    ours = {recipient.address, recipient.original}
    theirs = {str(record.get('recipient') or '').lower(), str(record.get('alias') or '').lower()}
    theirs.discard('')
    return bool(ours & theirs)


def failed_recipients(report: Report) -> list[Recipient]:
    return [r for r in report.recipients if r.reason not in IGNORED_REASONS]


def score(cases: Iterable[Case], run: Callable[[bytes], Report]) -> Score:
    """Compare the engine (*run*) with the oracle on *cases*."""
    result = Score()
    for case in cases:
        report = run(case.data)
        ours = failed_recipients(report)
        result.messages += 1
        pairs = _pair(ours, case.expected)
        if len(pairs) == len(ours) == len(case.expected):
            result.exact += 1
        else:
            result.misses.append(f'{case.file}#{case.index}: expected '
                                 f'{sorted(str(e["recipient"]) for e in case.expected)} got '
                                 f'{sorted(r.address for r in ours)}')
        for record in case.expected:
            result.recipients += 1
            recipient = pairs.get(id(record))
            if recipient is None:
                continue
            result.matched += 1
            _score_fields(result, case, recipient, record)
    return result


def _pair(ours: list[Recipient], expected: list[dict[str, object]]) -> dict[int, Recipient]:
    pairs: dict[int, Recipient] = {}
    used: set[int] = set()
    for record in expected:
        for number, recipient in enumerate(ours):
            if number not in used and _same(recipient, record):
                pairs[id(record)] = recipient
                used.add(number)
                break
    return pairs


def _score_fields(result: Score, case: Case, recipient: Recipient, record: dict[str, object]) -> None:
    expected_status = str(record.get('deliverystatus') or '')
    ours_class = (recipient.status or '')[:1]
    if expected_status[:1] == ours_class or (not expected_status and record['reason'] == 'feedback'):
        result.status_agree += 1
    if recipient.reason == record['reason']:
        result.reason_agree += 1
    else:
        result.reason_misses.append(f'{case.file}#{case.index} {recipient.address}: expected '
                                    f'{record["reason"]} got {recipient.reason} '
                                    f'[{recipient.status}] {(recipient.diagnostic or "")[:160]}')
    if (recipient.severity is Severity.hard) == bool(record.get('hardbounce')):
        result.hard_agree += 1
    if weight(recipient.reason, recipient.severity is Severity.hard) == \
            weight(str(record['reason']), bool(record.get('hardbounce'))):
        result.weight_agree += 1
