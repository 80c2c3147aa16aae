"""Probes: asking a member's mailbox directly before disabling it.

A probe is a VERP message with a one-time token (core's own probe, so the
``list:user:notice:probe`` template and the bounce runner's probe decoding
apply).  A probe that bounces disables the member (its bounce is registered
in the probe context); one that has not bounced after the list's
``probe_wait`` resets the member's score.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid

from mailman.app.bounces import send_probe
from mailman.config import config
from mailman.interfaces.member import DeliveryStatus
from mailman.model.member import Member
from public import public

from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.model.notice import Notice

log = logging.getLogger('mailman.bounce')


@public
def send_member_probe(mlist, notice: Notice) -> str | None:
    """Send the probe `notice` asks for; return its token."""
    store = config.db.store
    member = store.get(Member, notice.member_id)
    if member is None or (member.preferences.delivery_status
                          == DeliveryStatus.by_bounces):
        log.info('Probe for %s on %s not sent: gone or disabled',
                 notice.email, mlist.list_id)
        return None
    event = store.get(BounceEvent, notice.event_id) if notice.event_id else (
        None)
    message_id = (event.message_id if event is not None else None) or (
        make_msgid())
    from mailman_bounces.app.notices import _stored_bounce
    token = send_probe(member, msg=_stored_bounce(notice.event_id),
                       message_id=message_id)
    # Core's send_probe zeroes the score; the plugin keeps it until the
    # probe has had its chance to bounce.
    state = store.get(MemberBounceState, member.id)
    if state is not None:
        member.bounce_score = state.core_score
        state.probe_token = token
    log.info('Probe sent to %s on %s', notice.email, mlist.list_id)
    return token
