"""The plugin's outgoing delivery: core's, with signed VERP.

Mailman hands every outgoing message to the callable named by ``[mta]
outgoing`` (core's `mailman.mta.deliver.deliver`).  The plugin installs
`deliver` there from its pre_hook.  Messages that core delivers per
recipient with VERP (``verp_delivery_interval``, ``verp_personalized_
deliveries``: the ``verp`` key of the message metadata) go from a signed
return path naming the member instead of core's unsigned
``list-bounces+anne=example.org@`` address, and carry the signed token in a
header too (for abuse reports that return the message).

A list's ``verp_rate`` (Sympa's) VERPs a rotating share of each post's
recipients (`mailman_bounces.policy.verp_rate`), and always the members
whose bounces within ``bounce_info_stale_after`` were unverified, so that
their next bounce is verified evidence; the rest of the post goes through
core's bulk delivery.  On a list that does not personalise, every member
gets the same text, so the share's copies are that text, decorated once,
each sent from its member's signed address (`SignedCopies`): one SMTP
transaction per copy and nothing more, where core's per-recipient delivery
decorates every copy again.  Each part of a post decorates a copy of its
own (core's bulk delivery decorates the message in place).  Everything
else goes through core's own delivery unchanged.

A list with ``tracking`` on delivers each post per recipient, tracked
(`mailman_bounces.app.tracked_delivery`), whatever ``verp_rate`` says.
"""

from __future__ import annotations

import copy
import logging

from mailman.config import config
from mailman.interfaces.mailinglist import Personalization
from mailman.interfaces.mta import SomeRecipientsFailed
from mailman.mta.arc_signing import ARCSigningMixin
from mailman.mta.base import BaseDelivery
from mailman.mta.decorating import DecoratingMixin
from mailman.mta.deliver import Deliver
from mailman.mta.deliver import deliver as core_deliver
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select

from mailman_bounces.app.settings import policy_for
from mailman_bounces.app.signing import (
    DELIVERY_LIFETIME,
    SIGNATURE_HEADER,
    OneKeyPerDelivery,
    ensure_key,
    local_part_fits,
    signed_address,
    token_of,
)
from mailman_bounces.app.tracked_delivery import tracked_delivery
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.policy.verp_rate import rotating_share
from mailman_bounces.signing import MEMBER_DELIVERY

log = logging.getLogger('mailman.smtp')

# What the site had configured as ``[mta] outgoing`` before the plugin:
# only core's own delivery is wrapped.
CORE_OUTGOING = 'mailman.mta.deliver.deliver'


class SignedDeliver(OneKeyPerDelivery, Deliver):
    """Core's individual delivery, from a signed return path per member."""

    def __init__(self) -> None:
        super().__init__()
        self.callbacks.append(self.sign)

    def _signed_sender(self, mlist, msgdata) -> str | None:
        # IndividualDelivery looked the member up already.
        member = msgdata.get('member')
        if member is None:
            # Not (or no longer) a member: core's unsigned VERP (as when
            # the list's name leaves no room for a signed one).
            return None
        return signed_address(mlist, MEMBER_DELIVERY, member.id,
                              DELIVERY_LIFETIME, self.signing_key)

    def _get_sender(self, mlist, msg, msgdata):
        core = super()._get_sender(mlist, msg, msgdata)
        if not msgdata.get('verp', False):
            return core
        signed = msgdata.get('_bounces_signed_sender')
        if signed:
            return signed
        if msgdata.get('member') is not None and not local_part_fits(core):
            # No signed return path fits the list's name, nor core's VERP
            # the member's address: core's return path without VERP.
            return mlist.bounces_address
        return core

    def sign(self, mlist, msg, msgdata) -> None:
        """Callback run on each recipient's copy before it is sent."""
        del msg[SIGNATURE_HEADER]
        msgdata.pop('_bounces_signed_sender', None)
        if not msgdata.get('verp', False):
            return
        signed = self._signed_sender(mlist, msgdata)
        if signed is not None:
            msgdata['_bounces_signed_sender'] = signed
            msg[SIGNATURE_HEADER] = token_of(signed)


class SignedCopies(DecoratingMixin, ARCSigningMixin, BaseDelivery):
    """The message decorated and ARC-signed once, as core's bulk delivery
    does, then sent to each recipient alone from their signed address
    (core's list-bounces address for one who is not a member, or when the
    list's name leaves no room for a signed one)."""

    def _get_sender(self, mlist, msg, msgdata):
        return (msgdata.get('_bounces_signed_sender')
                or super()._get_sender(mlist, msg, msgdata))

    def deliver(self, mlist, msg, msgdata):
        """See `IMailTransportAgentDelivery`."""
        self.decorate(mlist, msg, msgdata)
        self.arc_sign(mlist, msg, msgdata)
        key = ensure_key()
        refused = {}
        for recipient in msgdata.get('recipients', ()):
            member = mlist.members.get_member(recipient)
            signed = None if member is None else signed_address(
                mlist, MEMBER_DELIVERY, member.id, DELIVERY_LIFETIME, key)
            del msg[SIGNATURE_HEADER]
            if signed is not None:
                msg[SIGNATURE_HEADER] = token_of(signed)
            refused.update(self._deliver_to_recipients(
                mlist, msg, {**msgdata, '_bounces_signed_sender': signed},
                [recipient]))
        del msg[SIGNATURE_HEADER]
        return refused


def _failures(refused: dict) -> tuple[list, list]:
    # As core's deliver: 5xx (but 552) permanent, the rest temporary.
    temporary = [r for r, (code, _) in refused.items()
                 if code < 500 or code == 552]
    permanent = [(r, code, text) for r, (code, text) in refused.items()
                 if code >= 500 and code != 552]
    return temporary, permanent


def _signed_delivery(mlist, msg, msgdata) -> tuple[list, list]:
    """Every recipient alone, from a signed address: the same text for
    each, decorated once, on a list that does not personalise; else as
    core's VERP delivery, each copy decorated for its member."""
    agent = (SignedCopies() if mlist.personalize == Personalization.none
             and not msgdata.get('verp', False) else SignedDeliver())
    refused = agent.deliver(mlist, msg, {**msgdata, 'verp': True})
    agent._connection.quit()
    log.info('%s signed VERP delivery for %s: %d recipients, %d refused',
             msg.get('message-id', 'n/a').strip(), mlist.fqdn_listname,
             len(msgdata['recipients']), len(refused))
    return _failures(refused)


def _core_delivery(mlist, msg, msgdata) -> tuple[list, list]:
    try:
        core_deliver(mlist, msg, msgdata)
    except SomeRecipientsFailed as error:
        return (list(error.temporary_failures),
                list(error.permanent_failures))
    return [], []


def _unverified_bouncers(mlist) -> set[str]:
    """Addresses whose bounces on `mlist` within its stale window were
    unverified (bounded by the events of that window)."""
    since = now() - mlist.bounce_info_stale_after
    event = BounceEvent
    return set(config.db.store.execute(
        select(event.email).distinct().where(
            event.list_id == mlist.list_id, event.evidence == 'unverified',
            event.timestamp >= since)).scalars())


def verp_share(mlist, recipients) -> set[str]:
    """The recipients of the post in hand that get a signed VERP copy."""
    rate = policy_for(mlist).verp_rate / 100
    chosen = rotating_share(recipients, mlist.post_id, rate)
    return chosen | (_unverified_bouncers(mlist) & set(recipients))


@public
def deliver(mlist, msg, msgdata):
    """Deliver `msg` like core, signing VERPed copies."""
    recipients = msgdata.get('recipients')
    if not recipients:
        return core_deliver(mlist, msg, msgdata)
    tracking = policy_for(mlist).tracking if msgdata.get(
        'to_list', False) else 'off'
    if tracking != 'off':
        temporary, permanent = _failures(
            tracked_delivery(mlist, msg, msgdata, tracking))
    elif msgdata.get('verp', False):
        temporary, permanent = _signed_delivery(mlist, msg, msgdata)
    elif msgdata.get('to_list', False):
        chosen = verp_share(mlist, recipients)
        rest = [r for r in recipients if r not in chosen]
        temporary, permanent = [], []
        for part, delivery in ((rest, _core_delivery),
                               (sorted(chosen), _signed_delivery)):
            if part:
                # A copy each: core's bulk delivery decorates in place.
                failed = delivery(mlist, copy.deepcopy(msg),
                                  {**msgdata, 'recipients': part})
                temporary.extend(failed[0])
                permanent.extend(failed[1])
    else:
        return core_deliver(mlist, msg, msgdata)
    if temporary or permanent:
        raise SomeRecipientsFailed(temporary, permanent)
    return None
