"""Custom classification rules: site's and list owners' corrections.

A rule matches a pattern against one part of a bounce (the diagnostic
text, the status code, the remote MTA, the whole text part or the sender)
and then sets the reason and severity, makes the message not a bounce, or
ignores it for scoring (recorded, never held against the member).  Rules
run after the detection engine and before the policy; the first rule that
matches wins, the site's before the list's.

Patterns come from list owners, so they must not be able to stall a
runner: they are compiled with RE2 (linear time in the input, bounded
memory), the pattern and the text searched are bounded, and a pattern RE2
refuses (invalid, or too large for the memory budget) is refused when the
rule is made, with the reason.

This module is pure: no Mailman imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

from mailman_bounces.detect import REASONS

__all__ = ['EFFECTS', 'FIELDS', 'MAX_LIST_RULES', 'MAX_PATTERN', 'MAX_TEXT', 'SEVERITIES',
           'Outcome', 'Rule', 'RuleError', 'apply_rules', 'make_rule']

# Where a rule looks.
FIELDS = ('diagnostic', 'status', 'remote_mta', 'text', 'sender')
# What it does: set reason/severity, not a bounce, or ignore for scoring.
EFFECTS = ('set', 'not_bounce', 'ignore')
SEVERITIES = ('hard', 'soft')
MAX_PATTERN = 1000
# Every rule is tried on every recipient of every bounce: a list has at
# most this many of its own.
MAX_LIST_RULES = 100
# Only so many characters of a field are searched.
MAX_TEXT = 65536
# RE2's memory budget per pattern: a pattern needing more is too complex.
_MAX_MEMORY = 1 << 20


class RuleError(ValueError):
    """A rule was refused; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f'{field}: {message}')
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    """One checked rule; `name` says where it comes from in events."""

    name: str
    pattern: str
    field: str
    effect: str
    reason: str | None = None
    severity: str | None = None
    comment: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in (
            'pattern', 'field', 'effect', 'reason', 'severity', 'comment')}


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_MEMORY
    options.log_errors = False
    return options


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _options())


def _text(value: Any, name: str) -> str | None:
    if value is None or value == '':
        return None
    if not isinstance(value, str):
        raise RuleError(name, 'expected text')
    return value


def make_rule(name: str, values: Mapping[str, Any]) -> Rule:
    """Check `values` (pattern, field, effect, reason, severity, comment).

    :raises RuleError: naming the field at fault and why.
    """
    unknown = sorted(set(values) - {'pattern', 'field', 'effect', 'reason',
                                    'severity', 'comment'})
    if unknown:
        raise RuleError(unknown[0], f'Unknown attribute: {unknown[0]}')
    pattern = _text(values.get('pattern'), 'pattern')
    if pattern is None:
        raise RuleError('pattern', 'required')
    if len(pattern) > MAX_PATTERN:
        raise RuleError('pattern', f'longer than {MAX_PATTERN} characters')
    try:
        _compiled(pattern)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        if isinstance(detail, bytes):
            detail = detail.decode('utf-8', 'replace')
        raise RuleError('pattern', f'invalid or too complex: {detail}') \
            from None
    where = _text(values.get('field'), 'field') or 'diagnostic'
    if where not in FIELDS:
        raise RuleError('field', 'one of: ' + ', '.join(FIELDS))
    effect = _text(values.get('effect'), 'effect')
    if effect not in EFFECTS:
        raise RuleError('effect', 'one of: ' + ', '.join(EFFECTS))
    reason = _text(values.get('reason'), 'reason')
    severity = _text(values.get('severity'), 'severity')
    if effect == 'set':
        if reason is None and severity is None:
            raise RuleError('reason', 'a set rule needs a reason or a '
                            'severity')
        if reason is not None and reason not in REASONS:
            raise RuleError('reason', 'one of the reasons: '
                            + ', '.join(sorted(REASONS)))
        if severity is not None and severity not in SEVERITIES:
            raise RuleError('severity', 'one of: ' + ', '.join(SEVERITIES))
    elif reason is not None or severity is not None:
        raise RuleError('reason' if reason else 'severity',
                        f'only a set rule has one, not {effect}')
    return Rule(name, pattern, where, effect, reason, severity,
                _text(values.get('comment'), 'comment'))


@dataclass(frozen=True)
class Outcome:
    """What the rules did to one recipient of a bounce."""

    rule: Rule | None = None
    # Event columns to change; `registered` False: not a bounce.
    changes: dict[str, str] = field(default_factory=dict)
    registered: bool = True


def apply_rules(rules: Iterable[Rule], facts: Mapping[str, str | None]
                ) -> Outcome:
    """The outcome of the first rule whose pattern is found in its field
    of `facts` (field name -> text)."""
    for rule in rules:
        text = facts.get(rule.field)
        if not text or _compiled(rule.pattern).search(
                text[:MAX_TEXT]) is None:
            continue
        if rule.effect == 'not_bounce':
            return Outcome(rule, registered=False)
        if rule.effect == 'ignore':
            # Severity none: recorded and reported, weight 0.
            return Outcome(rule, {'severity': 'none'})
        changes = {key: value for key, value in (
            ('reason', rule.reason), ('severity', rule.severity)) if value}
        return Outcome(rule, changes)
    return Outcome()
