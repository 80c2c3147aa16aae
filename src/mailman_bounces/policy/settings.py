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
from configparser import ConfigParser
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mailman_bounces.detect import REASONS
from mailman_bounces.validators import (
    MAX_DURATION,
    MAX_INTEGER,
    Boolean,
    Choice,
    Duration,
    Integer,
    InvalidValue,
    Number,
    Optional,
    Parser,
    Weights,
    echoed,
    echoed_value,
)

__all__ = [
    'ACTIONS',
    'COMPLAINT_ACTIONS',
    'CORE_SETTINGS',
    'FORWARD_DISPOSITIONS',
    'MAX_WEIGHT',
    'PLUGIN_SETTINGS',
    'RESETTABLE',
    'SCORE_MODES',
    'SETTINGS',
    'TRACKING_MODES',
    'UNVERIFIED_ACTIONS',
    'WEIGHT',
    'WEIGHTS',
    'ListPolicy',
    'Setting',
    'SettingError',
]

SCORE_MODES = ('mailman', 'sympa')
COMPLAINT_ACTIONS = ('none', 'disable', 'unsubscribe')
# What reaching the threshold on unverified evidence alone does.
UNVERIFIED_ACTIONS = ('probe', 'count', 'ignore')
# What a Sympa level can do to a member.
ACTIONS = ('none', 'notify_owner', 'probe', 'disable', 'unsubscribe')
# Names of core's UnrecognizedBounceDisposition members.
FORWARD_DISPOSITIONS = ('discard', 'administrators', 'site_owner')
# Message tracking (Sympa's): off, delivery status notifications, or DSNs
# and message disposition notifications (read receipts).
TRACKING_MODES = ('off', 'dsn', 'mdn')
MAX_WEIGHT = 10
# How much one bounce of a reason may weigh (a list's or the site's).
WEIGHT = Number(0, MAX_WEIGHT)


class SettingError(ValueError):
    """A setting was refused.  Names the field, the value and the reason."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f'{echoed(field)}: invalid value '
                         f'{echoed_value(value)}: expected {allowed}')


@dataclass(frozen=True)
class Setting:
    """One setting: its parser (which also describes what it accepts) and
    a one-line description."""

    name: str
    parse: Parser
    doc: str

    def check(self, value: Any) -> Any:
        """Parse `value`, raising `SettingError` naming this setting."""
        try:
            return self.parse(value)
        except InvalidValue as error:
            raise SettingError(self.name, value, error.allowed) from None


def _table(*settings: Setting) -> Mapping[str, Setting]:
    return MappingProxyType({s.name: s for s in settings})


# Core's per-list bounce settings (attributes of IMailingList).  They accept
# what core's REST API accepts for them (the same words, the same ranges),
# so that a value set through core or Postorius can be given back here;
# only what the database or the pass's date arithmetic cannot hold is
# refused (integers past 32 bits, durations past MAX_DURATION).
CORE_SETTINGS = _table(
    Setting('process_bounces', Boolean(),
            'Whether bounces for this list are processed at all.'),
    Setting('bounce_score_threshold', Integer(0, MAX_INTEGER),
            'The score at which a member is disabled (or probed).'),
    Setting('bounce_info_stale_after', Duration(),
            'A score older than this is reset by the next bounce.'),
    Setting('bounce_you_are_disabled_warnings', Integer(0, MAX_INTEGER),
            'How many warnings a disabled member gets before removal.'),
    Setting('bounce_you_are_disabled_warnings_interval', Duration(),
            'The time between two warnings (and before removal).'),
    Setting('bounce_notify_owner_on_disable', Boolean(),
            'Tell the owners when a member is disabled.'),
    Setting('bounce_notify_owner_on_removal', Boolean(),
            'Tell the owners when a member is removed.'),
    Setting('bounce_notify_owner_on_bounce_increment', Boolean(),
            "Tell the owners every time a member's score goes up."),
    Setting('forward_unrecognized_bounces_to', Choice(FORWARD_DISPOSITIONS),
            'Where unrecognised bounces go.'),
)

# The plugin's own per-list settings with a site-wide default in the
# [list_defaults] section of the plugin's configuration.
PLUGIN_SETTINGS = _table(
    Setting('score_mode', Choice(SCORE_MODES),
            'mailman (weighted daily increments) or sympa (rated score).'),
    Setting('score_threshold', Optional(Number(0, 1000, True)),
            'Fractional threshold; empty follows bounce_score_threshold.'),
    Setting('complaint_action', Choice(COMPLAINT_ACTIONS),
            'What a verified abuse complaint about a member does (an ARF '
            'report is verified only when the copy it returns was signed: '
            'a share of posts set by verp_rate, tracked posts, probes; an '
            "ESP webhook's is)."),
    Setting('notify_owner_on_complaint', Boolean(),
            'Tell the owners about abuse complaints.'),
    Setting('notify_owner_on_ignored', Boolean(),
            'Send the owners a periodic summary of bounces not held against '
            'members (DMARC, spam filters, reputation ...).'),
    Setting('probe_before_disable', Boolean(),
            'Send a VERP probe before disabling a member.'),
    Setting('probe_wait', Duration(MAX_DURATION),
            'How long a probe may take to bounce before the score is reset.'),
    Setting('retention', Duration(MAX_DURATION),
            'How long bounce events and bounce messages are kept.'),
    Setting('failover', Boolean(),
            "Move a disabled member to their user's other verified address."),
    Setting('sympa_min_count', Integer(1, 10000),
            'Sympa mode: bounces needed before a member is scored.'),
    Setting('sympa_min_period', Duration(MAX_DURATION),
            'Sympa mode: bouncing period needed before a member is scored.'),
    Setting('sympa_level1', Number(0, 100),
            'Sympa mode: the score of the first level.'),
    Setting('sympa_level1_action', Choice(ACTIONS),
            'Sympa mode: what reaching the first level does.'),
    Setting('sympa_level2', Number(0, 100),
            'Sympa mode: the score of the second level.'),
    Setting('sympa_level2_action', Choice(ACTIONS),
            'Sympa mode: what reaching the second level does.'),
    Setting('unverified_action', Choice(UNVERIFIED_ACTIONS),
            'What reaching the threshold on unverified bounces alone does: '
            'probe (a signed probe decides), count (like core) or ignore.'),
    Setting('verp_rate', Number(0, 100),
            'The share (0-100 %) of each post\'s recipients who get a '
            'signed VERP copy, rotating; members with recent unverified '
            'bounces always do.'),
    Setting('tracking', Choice(TRACKING_MODES),
            'Track the delivery of each post per recipient: off, dsn '
            '(delivery status notifications) or mdn (DSNs and read '
            'receipts; members see a read-receipt prompt).'),
    Setting('tracking_retention', Duration(MAX_DURATION),
            'How long the tracking of a post is kept.'),
)

# The list's weights are merged into the site's [weights] section.
WEIGHTS = Setting(
    'weights', Weights(REASONS, MAX_WEIGHT),
    'How much one bounce of each reason adds to a score (mailman score '
    'mode); 0 means never held against members.')

# What a list can leave to the site's default: the plugin's settings and
# its weights.
RESETTABLE = _table(*PLUGIN_SETTINGS.values(), WEIGHTS)
# Every bounce setting of a list, core's first, in the order they are shown.
SETTINGS = _table(*CORE_SETTINGS.values(), *RESETTABLE.values())

# The plugin's configuration schema: its [list_defaults] are the defaults.
SCHEMA = Path(__file__).resolve().parent.parent / 'config' / 'schema.cfg'


def schema_defaults() -> dict[str, Any]:
    """The plugin settings' defaults, parsed from the schema's
    [list_defaults] section: the one place they are written."""
    schema = ConfigParser(interpolation=None, comment_prefixes=('#',))
    schema.read(SCHEMA, encoding='utf-8')
    section = schema['list_defaults']
    return {name: setting.parse(section[name])
            for name, setting in PLUGIN_SETTINGS.items()}


_DEFAULT = schema_defaults()


@dataclass(frozen=True)
class ListPolicy:
    """Everything the pure policy needs to know about one list's settings."""

    list_id: str
    # Core's settings: a new list's values (Mailman's list styles).  The
    # plugin always passes the list's own; these serve pure-policy callers.
    process_bounces: bool = True
    bounce_score_threshold: int = 5
    bounce_info_stale_after: timedelta = timedelta(days=7)
    bounce_you_are_disabled_warnings: int = 3
    bounce_you_are_disabled_warnings_interval: timedelta = timedelta(days=7)
    bounce_notify_owner_on_disable: bool = True
    bounce_notify_owner_on_removal: bool = True
    bounce_notify_owner_on_bounce_increment: bool = False
    score_mode: str = _DEFAULT['score_mode']
    score_threshold: float | None = _DEFAULT['score_threshold']
    complaint_action: str = _DEFAULT['complaint_action']
    notify_owner_on_complaint: bool = _DEFAULT['notify_owner_on_complaint']
    notify_owner_on_ignored: bool = _DEFAULT['notify_owner_on_ignored']
    probe_before_disable: bool = _DEFAULT['probe_before_disable']
    probe_wait: timedelta = _DEFAULT['probe_wait']
    retention: timedelta = _DEFAULT['retention']
    failover: bool = _DEFAULT['failover']
    sympa_min_count: int = _DEFAULT['sympa_min_count']
    sympa_min_period: timedelta = _DEFAULT['sympa_min_period']
    sympa_level1: float = _DEFAULT['sympa_level1']
    sympa_level1_action: str = _DEFAULT['sympa_level1_action']
    sympa_level2: float = _DEFAULT['sympa_level2']
    sympa_level2_action: str = _DEFAULT['sympa_level2_action']
    unverified_action: str = _DEFAULT['unverified_action']
    verp_rate: float = _DEFAULT['verp_rate']
    tracking: str = _DEFAULT['tracking']
    tracking_retention: timedelta = _DEFAULT['tracking_retention']
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
