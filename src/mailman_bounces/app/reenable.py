"""Re-enabling delivery: clearing a member's bounce standing, and redeeming
the one-time token of a warning.

A token comes back by reply (the ``reenable`` email command,
`mailman_bounces.commands.eml_reenable`) or through the REST API (the
site's ``reenable_url`` front end, `mailman_bounces.rest.reenable`); both
redeem it with `redeem`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailman.config import config
from mailman.interfaces.member import DeliveryStatus
from mailman.model.member import Member
from mailman.utilities.datetime import now
from public import public

from mailman_bounces.app.callbacks import enqueue
from mailman_bounces.app.notices import queue_notice
from mailman_bounces.app.reenable_tokens import redeem_token
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.member import STANDING_COLUMNS, MemberBounceState


@public
def reenable_member(member: Member) -> bool:
    """Turn delivery back on and clear the member's bounce standing.

    Returns whether delivery had been disabled by bounces.
    """
    was_disabled = (member.preferences.delivery_status
                    == DeliveryStatus.by_bounces)
    if was_disabled:
        member.preferences.delivery_status = DeliveryStatus.enabled
        # Reported in this transaction, whoever re-enabled (a token, REST,
        # the command line).
        when = now()
        enqueue('member.reenabled', f'reenable:{member.id}:{when.isoformat()}',
                member.list_id, {'email': member.address.email,
                                 'at': when.isoformat()})
    member.bounce_score = 0
    member.total_warnings_sent = 0
    member.last_bounce_received = None
    state = config.db.store.get(MemberBounceState, member.id)
    if state is not None:
        for name, value in MemberBounceState.initial(
                *STANDING_COLUMNS).items():
            setattr(state, name, value)
    return was_disabled


@public
@dataclass(frozen=True)
class Redeemed:
    """What redeeming a re-enable token did."""

    mlist: object
    member: Member
    email: str
    # Whether delivery had been disabled by bounces.
    was_disabled: bool


@public
def redeem(token: str, list_id: str | None = None) -> Redeemed | None:
    """Redeem re-enable `token`: consume it, re-enable the member's
    delivery, clear their standing and queue the member's confirmation.

    None if the token is unknown, used, expired or of another kind, or (when
    `list_id` is given) for another list, which leaves it unused.
    """
    redeemed = redeem_token(token, list_id)
    if redeemed is None:
        return None
    mlist, member = redeemed
    was_disabled = reenable_member(member)
    email = member.address.email
    queue_notice(NoticeKind.reenabled, list_id=mlist.list_id, email=email,
                 member_id=member.id)
    return Redeemed(mlist, member, email, was_disabled)
