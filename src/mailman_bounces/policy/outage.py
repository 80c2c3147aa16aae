"""Outage protection: when to freeze scoring for a failing domain.

When many members of one recipient domain (or behind one receiving mail
server) bounce within a short window, the cause is almost certainly the
receiving system, not their addresses: on 2020-12-14 Gmail answered
"550 5.1.1 user does not exist" for valid users for hours.  Scoring for
that domain is then frozen: its bounces stay recorded and are evaluated
when the freeze ends.

A freeze lasts ``window`` after the last burst that kept it going, so
anyone who can send mail could keep a domain frozen by sending a burst
every ``window``.  Without a site administrator's confirmation a freeze is
therefore never extended past ``max_unconfirmed`` after it started (its
cap); when the cap stops an extension the site administrator is told, and
once the freeze ends the domain's bounces count again: no new freeze of the
same key starts for ``max_unconfirmed`` after a capped one ended.  A
confirmation moves the cap to ``max_unconfirmed`` after it.

Pure: counts and times in, decisions out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailman_bounces.config.site import OutageConfig

__all__ = [
    'BounceBurst',
    'Extension',
    'FreezeTimes',
    'confirmed_until',
    'extend_freeze',
    'freeze_cap',
    'may_freeze_again',
    'new_freeze_expiry',
    'should_freeze',
    'wanted_keys',
    'wanted_scopes',
]


@dataclass(frozen=True)
class BounceBurst:
    """How many members of one key bounced within the window."""

    key_type: str            # 'domain' or 'mx'
    key: str
    list_id: str | None      # None: counted site-wide
    bouncing: int            # distinct bouncing members in the window
    members: int | None      # members concerned (None: unknown)


def wanted_scopes(config: OutageConfig) -> tuple[str, ...]:
    """The scopes to count: 'list', 'site' or both."""
    return ('list', 'site') if config.scope == 'both' else (config.scope,)


def wanted_keys(config: OutageConfig) -> tuple[str, ...]:
    """What groups bounces: 'domain', 'mx' or both."""
    return ('domain', 'mx') if config.key == 'both' else (config.key,)


def should_freeze(config: OutageConfig, burst: BounceBurst) -> bool:
    """Is `burst` an outage?  It must involve at least ``min_members``
    members, and reach ``share`` of the domain's members, or ``count``
    members when an absolute trigger is configured (non-zero)."""
    if not config.enabled or burst.bouncing < config.min_members:
        return False
    if config.count and burst.bouncing >= config.count:
        return True
    if not burst.members:
        return False
    return burst.bouncing >= config.share * burst.members


@dataclass(frozen=True)
class FreezeTimes:
    """What the cap of a freeze depends on."""

    started: datetime
    expires: datetime
    # Set by a site administrator's confirmation: the cap until then.
    confirmed_until: datetime | None = None


@dataclass(frozen=True)
class Extension:
    """A freeze kept going by a new burst."""

    expires: datetime
    # Whether the cap stopped the extension short.
    capped: bool


def freeze_cap(config: OutageConfig, freeze: FreezeTimes) -> datetime | None:
    """The latest a freeze may last without (further) confirmation; None
    when the site set no cap (``max_unconfirmed: 0``)."""
    if freeze.confirmed_until is not None:
        return freeze.confirmed_until
    if not config.max_unconfirmed:
        return None
    return freeze.started + config.max_unconfirmed


def new_freeze_expiry(config: OutageConfig, now: datetime) -> datetime:
    """When a freeze started at `now` ends unless a burst extends it."""
    expires = now + config.window
    if config.max_unconfirmed:
        expires = min(expires, now + config.max_unconfirmed)
    return expires


def extend_freeze(config: OutageConfig, freeze: FreezeTimes,
                  now: datetime) -> Extension:
    """A burst at `now` keeps `freeze` going for another window, up to its
    cap."""
    wanted = max(freeze.expires, now + config.window)
    cap = freeze_cap(config, freeze)
    if cap is None or wanted <= cap:
        return Extension(wanted, capped=False)
    return Extension(cap, capped=True)


def may_freeze_again(config: OutageConfig, capped_freeze_ended: datetime | None,
                     now: datetime) -> bool:
    """May a new freeze start at `now` for a key whose last capped freeze
    ended at `capped_freeze_ended` (None: none did)?  Not for
    ``max_unconfirmed`` after it, or the cap would only cost the sender a
    pause."""
    if capped_freeze_ended is None or not config.max_unconfirmed:
        return True
    return now >= capped_freeze_ended + config.max_unconfirmed


def confirmed_until(config: OutageConfig, now: datetime) -> datetime:
    """The new cap of a freeze a site administrator confirms at `now`."""
    return now + (config.max_unconfirmed or config.window)
