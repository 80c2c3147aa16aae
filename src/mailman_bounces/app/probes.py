"""Probes: asking a member's mailbox directly before disabling it.

A probe is core's probe message (the ``list:user:notice:probe`` template,
the bouncing message attached) sent from a signed return path naming the
member's probe (`mailman_bounces.app.signing`), valid for the list's
``probe_wait`` and a margin.  Only the member's mailbox receives that
address, so a bounce to it is verified evidence: it is registered in the
probe context and disables the member.  A probe that has not bounced after
``probe_wait`` resets the member's score.  (Core's probe, whose one-time
token lives in the pending database, is no longer sent by the plugin; core's
tokens still decode.)
"""

from __future__ import annotations

import logging
from email.mime.message import MIMEMessage
from email.mime.text import MIMEText
from typing import Any

from mailman.config import config
from mailman.core.i18n import _
from mailman.email.message import UserNotification
from mailman.interfaces.member import DeliveryStatus
from mailman.interfaces.template import ITemplateLoader
from mailman.model.member import Member
from mailman.utilities.string import expand, wrap
from public import public
from zope.component import getUtility
from zope.interface import implementer

from mailman_bounces.app.notice_mail import stored_bounce
from mailman_bounces.app.settings import policy_for
from mailman_bounces.app.signing import (
    PROBE_MARGIN,
    SIGNATURE_HEADER,
    address_with,
    signed_address,
    signed_token,
    token_of,
)
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.model.notice import Notice
from mailman_bounces.signing import PROBE

log = logging.getLogger('mailman.bounce')


def send_probe(mlist, member, msg=None) -> str:
    """Send `member` core's probe message from a signed return path;
    return the path's token."""
    language = member.preferred_language
    email = member.address.email
    template = getUtility(ITemplateLoader).get(
        'list:user:notice:probe', mlist, language=language.code,
        code=language.code)
    text = wrap(expand(template, mlist, {
        'sender_email': email, 'address': email, 'email': email,
        'owneraddr': mlist.owner_address}))
    lifetime = policy_for(mlist).probe_wait + PROBE_MARGIN
    # Core's probe return path (a 40-character token) would be longer
    # still: where no signed one fits, the standard one all the same.
    sender = signed_address(mlist, PROBE, member.id, lifetime) or (
        address_with(mlist, signed_token(mlist, PROBE, member.id, lifetime)))
    with _.using(language.code):
        subject = _('${mlist.display_name} mailing list probe message')
    probe = UserNotification(email, sender, subject, lang=language)
    probe.set_type('multipart/mixed')
    probe[SIGNATURE_HEADER] = token_of(sender)
    probe.attach(MIMEText(text, _charset=language.charset))
    if msg is not None:
        probe.attach(MIMEMessage(msg))
    # Like core's probes: the envelope sender is the signed address, no
    # Precedence: bulk.
    probe.send(mlist, sender=sender, verp=False, add_precedence=False)
    return token_of(sender)


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
    token = send_probe(mlist, member, stored_bounce(notice.event_id))
    state = store.get(MemberBounceState, member.id)
    if state is not None:
        state.probe_token = token
    log.info('Probe sent to %s on %s', notice.email, mlist.list_id)
    return token


@public
@implementer(INoticeHandler)
class Probe:
    """Send a member a probe (core's probe message)."""

    kind = NoticeKind.probe

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        send_member_probe(batch.mailing_list(notice.list_id), notice)
