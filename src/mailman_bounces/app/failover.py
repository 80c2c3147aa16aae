"""Failover: moving a user's subscriptions off a dead address.

A member subscribed through their user record receives the list at the
user's preferred address.  When that address is about to be disabled for
bouncing and the user has another verified address that is not bouncing
too, the preferred address is switched to it instead (so all the user's
subscriptions follow) and the member is told at the new address.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mailman.config import config
from mailman.model.user import User
from public import public
from sqlalchemy import exists, select

from mailman_bounces.model.event import BounceEvent

log = logging.getLogger('mailman.bounce')


def _bouncing_since(email: str, since: datetime) -> bool:
    return config.db.store.execute(select(exists().where(
        BounceEvent.email == email, BounceEvent.timestamp >= since,
        BounceEvent.kind.in_(('bounce', 'delay'))))).scalar()


@public
def fail_over(user_id: int | None, email: str, now: datetime,
              stale_after: timedelta) -> str | None:
    """Switch the preferred address of user `user_id` away from `email`;
    return the new address, or None when there is nowhere to go."""
    if user_id is None:
        return None
    user = config.db.store.get(User, user_id)
    preferred = getattr(user, 'preferred_address', None)
    if user is None or preferred is None or preferred.email != email:
        return None
    candidates = sorted(
        (address for address in user.addresses
         if address.verified_on is not None and address.email != email
         and not _bouncing_since(address.email, now - stale_after)),
        key=lambda address: address.verified_on, reverse=True)
    if not candidates:
        return None
    user.preferred_address = candidates[0]
    log.info('Failover: %s now receives mail at %s instead of %s',
             user.display_name or user.user_id, candidates[0].email, email)
    return candidates[0].email
