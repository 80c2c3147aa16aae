"""Outage protection: when to freeze scoring for a failing domain.

When many members of one recipient domain (or behind one receiving mail
server) bounce within a short window, the cause is almost certainly the
receiving system, not their addresses: on 2020-12-14 Gmail answered
"550 5.1.1 user does not exist" for valid users for hours.  Scoring for
that domain is then frozen: its bounces stay recorded and are evaluated
when the freeze ends.

Pure: counts in, decisions out.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailman_bounces.config.site import OutageConfig

__all__ = ['BounceBurst', 'should_freeze', 'wanted_keys', 'wanted_scopes']


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
