"""The bounce settings of one mailing list, and how each is checked.

Two kinds of settings steer a list's bounce processing:

* core's own, stored on the mailing list by Mailman (``process_bounces``,
  ``bounce_score_threshold`` ...).  They stay the source of truth, so
  Postorius keeps showing and editing them;
* the plugin's, stored in the plugin's per-list settings table.  A list that
  never set one follows the site-wide default from the plugin configuration.

This module only describes the settings: names, parsers and the resolved
`ListPolicy` the pure policy code works with.  Reading and writing them for a
real list lives in `mailman_bounces.app.settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from mailman_bounces.validators import (
    InvalidValue,
    Parser,
    as_bool,
    as_choice,
    as_duration,
    as_float,
    as_int,
    as_optional,
)

__all__ = [
    'ACTIONS',
    'COMPLAINT_ACTIONS',
    'CORE_FIELDS',
    'FORWARD_DISPOSITIONS',
    'PLUGIN_FIELDS',
    'SCORE_MODES',
    'ListPolicy',
    'SettingError',
    'parse_weights',
]

SCORE_MODES = ('mailman', 'sympa')
COMPLAINT_ACTIONS = ('none', 'disable', 'unsubscribe')
# What a Sympa level can do to a member.
ACTIONS = ('none', 'notify_owner', 'probe', 'disable', 'unsubscribe')
# Names of core's UnrecognizedBounceDisposition members.
FORWARD_DISPOSITIONS = ('discard', 'administrators', 'site_owner')
MAX_WEIGHT = 10.0


class SettingError(ValueError):
    """A setting was refused.  Names the field, the value and the reason."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f'{field}: invalid value {value!r}: expected {allowed}')


@dataclass(frozen=True)
class Field:
    """One setting: its parser and a one-line description."""

    name: str
    parse: Parser
    doc: str

    def check(self, value: Any) -> Any:
        """Parse `value`, raising `SettingError` naming this field."""
        try:
            return self.parse(value)
        except InvalidValue as error:
            raise SettingError(self.name, value, error.allowed) from None


def _fields(*fields: Field) -> Mapping[str, Field]:
    return MappingProxyType({f.name: f for f in fields})


# Core's per-list bounce settings (attributes of IMailingList).
CORE_FIELDS = _fields(
    Field('process_bounces', as_bool,
          'Whether bounces for this list are processed at all.'),
    Field('bounce_score_threshold', as_int(1, 1000),
          'The score at which a member is disabled (or probed).'),
    Field('bounce_info_stale_after', as_duration,
          'A score older than this is reset by the next bounce.'),
    Field('bounce_you_are_disabled_warnings', as_int(0, 100),
          'How many warnings a disabled member gets before removal.'),
    Field('bounce_you_are_disabled_warnings_interval', as_duration,
          'The time between two warnings (and before removal).'),
    Field('bounce_notify_owner_on_disable', as_bool,
          'Tell the owners when a member is disabled.'),
    Field('bounce_notify_owner_on_removal', as_bool,
          'Tell the owners when a member is removed.'),
    Field('bounce_notify_owner_on_bounce_increment', as_bool,
          "Tell the owners every time a member's score goes up."),
    Field('forward_unrecognized_bounces_to', as_choice(FORWARD_DISPOSITIONS),
          'Where unrecognised bounces go.'),
)


def parse_weights(value: Any, reasons: tuple[str, ...]) -> dict[str, float]:
    """Parse a reason -> weight mapping.

    Accepts a mapping or a string ``reason=weight,reason=weight``.  Unknown
    reasons and weights outside 0..10 are refused.
    """
    allowed = (f'reason=weight pairs with weights from 0 to {MAX_WEIGHT:g} '
               f'and reasons among: {", ".join(reasons)}')
    if isinstance(value, str):
        pairs = [p for p in (s.strip() for s in value.split(',')) if p]
        items = []
        for pair in pairs:
            reason, sep, weight = pair.partition('=')
            if not sep:
                raise InvalidValue(allowed)
            items.append((reason.strip().lower(), weight.strip()))
    elif isinstance(value, Mapping):
        items = [(str(k).strip().lower(), v) for k, v in value.items()]
    else:
        raise InvalidValue(allowed)
    weight_parser = as_float(0.0, MAX_WEIGHT)
    weights = {}
    for reason, weight in items:
        if reason not in reasons:
            raise InvalidValue(allowed)
        try:
            weights[reason] = weight_parser(weight)
        except InvalidValue:
            raise InvalidValue(allowed) from None
    return weights


# The plugin's own per-list settings.  `weights` is handled separately
# because its parser needs the reason vocabulary.
PLUGIN_FIELDS = _fields(
    Field('score_mode', as_choice(SCORE_MODES),
          'mailman (weighted daily increments) or sympa (rated score).'),
    Field('score_threshold', as_optional(as_float(0.0, 1000.0, True)),
          "Fractional threshold; empty follows bounce_score_threshold."),
    Field('complaint_action', as_choice(COMPLAINT_ACTIONS),
          'What an abuse complaint about a member does.'),
    Field('notify_owner_on_complaint', as_bool,
          'Tell the owners about abuse complaints.'),
    Field('notify_owner_on_ignored', as_bool,
          'Send the owners a periodic summary of bounces not held against '
          'members (DMARC, spam filters, reputation ...).'),
    Field('probe_before_disable', as_bool,
          'Send a VERP probe before disabling a member.'),
    Field('probe_wait', as_duration,
          'How long a probe may take to bounce before the score is reset.'),
    Field('retention', as_duration,
          'How long bounce events and bounce messages are kept.'),
    Field('failover', as_bool,
          "Move a disabled member to their user's other verified address."),
    Field('sympa_min_count', as_int(1, 10000),
          'Sympa mode: bounces needed before a member is scored.'),
    Field('sympa_min_period', as_duration,
          'Sympa mode: bouncing period needed before a member is scored.'),
    Field('sympa_level1', as_float(0.0, 100.0),
          'Sympa mode: the score of the first level.'),
    Field('sympa_level1_action', as_choice(ACTIONS),
          'Sympa mode: what reaching the first level does.'),
    Field('sympa_level2', as_float(0.0, 100.0),
          'Sympa mode: the score of the second level.'),
    Field('sympa_level2_action', as_choice(ACTIONS),
          'Sympa mode: what reaching the second level does.'),
)


@dataclass(frozen=True)
class ListPolicy:
    """Everything the pure policy needs to know about one list's settings."""

    list_id: str
    process_bounces: bool = True
    bounce_score_threshold: int = 5
    bounce_info_stale_after: timedelta = timedelta(days=7)
    bounce_you_are_disabled_warnings: int = 3
    bounce_you_are_disabled_warnings_interval: timedelta = timedelta(days=7)
    bounce_notify_owner_on_disable: bool = True
    bounce_notify_owner_on_removal: bool = True
    bounce_notify_owner_on_bounce_increment: bool = False
    score_mode: str = 'mailman'
    score_threshold: float | None = None
    complaint_action: str = 'none'
    notify_owner_on_complaint: bool = True
    notify_owner_on_ignored: bool = True
    probe_before_disable: bool = False
    probe_wait: timedelta = timedelta(days=5)
    retention: timedelta = timedelta(days=90)
    failover: bool = True
    sympa_min_count: int = 10
    sympa_min_period: timedelta = timedelta(days=10)
    sympa_level1: float = 45.0
    sympa_level1_action: str = 'notify_owner'
    sympa_level2: float = 75.0
    sympa_level2_action: str = 'disable'
    weights: Mapping[str, float] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        """The effective threshold of the mailman score mode."""
        if self.score_threshold is not None:
            return self.score_threshold
        return float(self.bounce_score_threshold)

    def weight(self, reason: str) -> float:
        """The weight of one bounce of `reason` (unknown reasons: 0.5)."""
        return self.weights.get(reason, self.weights.get('undefined', 0.5))
