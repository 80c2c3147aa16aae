"""Delivering a post with message tracking (the list setting ``tracking``).

Each recipient's copy goes in its own SMTP transaction from a signed
return path whose token (kind ``t``) names the copy's row in
``bounces_tracked_delivery``, with the ESMTP DSN parameters of RFC 3461
when the relay advertises DSN::

    MAIL FROM:<list-bounces+TOKEN@host> RET=HDRS ENVID=TOKEN
    RCPT TO:<anne@example.org> NOTIFY=SUCCESS,FAILURE,DELAY
        ORCPT=rfc822;anne@example.org

A relay that does not advertise DSN would refuse the parameters: the copy
goes without them, and the row records it (no success or delay report can
come then; failures still do).  With ``mdn`` the copy also carries a
``Disposition-Notification-To:`` with the same signed address, so read
receipts come back to the list's bounce address, signed.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import Message

from lazr.config import as_boolean
from mailman.config import config
from mailman.interfaces.member import MemberRole
from mailman.model.address import Address
from mailman.model.member import Member
from mailman.mta.connection import Connection
from mailman.mta.deliver import Deliver
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select

from mailman_bounces.app.signing import (
    DELIVERY_LIFETIME,
    SIGNATURE_HEADER,
    OneKeyPerDelivery,
    address_with,
    signed_address,
    signed_token,
)
from mailman_bounces.app.store import message_id_of
from mailman_bounces.model.tracking import TrackedDelivery, TrackedPost
from mailman_bounces.policy.tracking import SENT
from mailman_bounces.signing import TRACKED_DELIVERY

log = logging.getLogger('mailman.smtp')

MDN_HEADER = 'Disposition-Notification-To'
# RFC 3461: success, failure and delay reports, with the headers only.
MAIL_OPTIONS = ('RET=HDRS',)
NOTIFY = 'NOTIFY=SUCCESS,FAILURE,DELAY'


@public
def xtext(text: str) -> str:
    """`text` as RFC 3461 xtext: ``+`` and ``=``, controls, spaces and
    non-ASCII as ``+XX``."""
    return ''.join(
        char if 33 <= ord(char) <= 126 and char not in '+=' else ''.join(
            f'+{byte:02X}' for byte in char.encode('utf-8'))
        for char in text)


@public
class DSNConnection(Connection):
    """Core's SMTP connection, passing DSN parameters to a server that
    advertises DSN.

    Core's `Connection.sendmail` takes no ESMTP options, so this is its
    sending part with them; `dsn_advertised` says whether the server
    advertised DSN for the last message sent.
    """

    def __init__(self, *args, **kws) -> None:
        super().__init__(*args, **kws)
        self.dsn_advertised = False
        # The (MAIL, RCPT) options of the next message, if DSN is there.
        self.options: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def sendmail(self, envsender, recipients, msg):
        """See `Connection.sendmail`."""
        if as_boolean(config.devmode.enabled):
            recipients = [config.devmode.recipient] * len(recipients)
        if self._connection is None:
            self._connect()
            self._login()
        assert isinstance(msg, Message), msg
        try:
            # After STARTTLS too: the extensions are the ones of the EHLO.
            self._connection.ehlo_or_helo_if_needed()
            self.dsn_advertised = self._connection.has_extn('dsn')
            mail_options, rcpt_options = (
                self.options if self.dsn_advertised else ((), ()))
            results = self._connection.send_message(
                msg, envsender, recipients, mail_options=mail_options,
                rcpt_options=rcpt_options)
        except smtplib.SMTPException:
            self.quit()
            raise
        self._session_count -= 1
        if self._session_count == 0:
            self.quit()
        return results


class TrackedDeliver(OneKeyPerDelivery, Deliver):
    """Core's individual delivery, each copy from its delivery's signed
    address and with the DSN parameters."""

    def __init__(self, deliveries: dict[str, TrackedDelivery],
                 mode: str) -> None:
        super().__init__()
        core = self._connection
        self._connection = DSNConnection(
            core._host, core._port, core._sessions_per_connection,
            core._username, core._password, core.secure_mode,
            core.verify_cert, core.verify_hostname)
        self._deliveries = deliveries
        self._mode = mode
        self.callbacks.append(self.track)

    def track(self, mlist, msg, msgdata) -> None:
        """Callback run on each recipient's copy before it is sent."""
        delivery = self._deliveries[msgdata['recipient']]
        signed = signed_address(mlist, TRACKED_DELIVERY, delivery.id,
                                DELIVERY_LIFETIME, self.signing_key)
        # The envelope id and the header have no 64-octet limit: they
        # carry the standard token even where the return path cannot (the
        # list's name too long), so that DSNs are still matched.
        token = signed_token(mlist, TRACKED_DELIVERY, delivery.id,
                             DELIVERY_LIFETIME, self.signing_key)
        msgdata['_bounces_tracked_sender'] = signed or mlist.bounces_address
        msgdata['_bounces_tracked_token'] = token
        del msg[SIGNATURE_HEADER]
        msg[SIGNATURE_HEADER] = token
        if self._mode == 'mdn':
            del msg[MDN_HEADER]
            msg[MDN_HEADER] = signed or address_with(mlist, token)

    def _get_sender(self, mlist, msg, msgdata):
        return msgdata['_bounces_tracked_sender']

    def _deliver_to_recipients(self, mlist, msg, msgdata, recipients):
        [recipient] = recipients
        delivery = self._deliveries[recipient]
        token = msgdata['_bounces_tracked_token']
        self._connection.options = (
            (*MAIL_OPTIONS, f'ENVID={token}'),
            (NOTIFY, f'ORCPT=rfc822;{xtext(recipient)}'))
        self._connection.dsn_advertised = False
        refused = super()._deliver_to_recipients(mlist, msg, msgdata,
                                                 recipients)
        delivery.dsn_supported = self._connection.dsn_advertised
        if recipient in refused:
            _refused(delivery, *refused[recipient])
        return refused


def _refused(delivery: TrackedDelivery, code: int, text) -> None:
    # Refused at SMTP time: no DSN will come.  As core's deliver: 5xx but
    # 552 is permanent, the rest is tried again later.
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    delivery.state = 'failed' if code >= 500 and code != 552 else 'delayed'
    delivery.state_at = now()
    delivery.status = str(code)
    delivery.diagnostic = str(text)[:1000]


def _post(mlist, msg, mode: str) -> TrackedPost:
    """The post's row, made at its first delivery (a retry of its
    temporary failures uses the same)."""
    store = config.db.store
    message_id = message_id_of(msg) or ''
    post = store.execute(select(TrackedPost).where(
        TrackedPost.list_id == mlist.list_id,
        TrackedPost.message_id == message_id)).scalar_one_or_none()
    if post is None:
        subject = msg.get('subject')
        post = TrackedPost(list_id=mlist.list_id, message_id=message_id,
                           subject=None if subject is None else str(subject),
                           mode=mode, sent_at=now())
        store.add(post)
        store.flush()
    return post


def _member_ids(list_id: str, known, recipients) -> dict[str, int]:
    """The member ids of the recipients without a row yet, by email."""
    wanted = sorted({r.lower() for r in recipients} - set(known))
    ids = {}
    # In chunks: a post to 100,000 members is not one IN list.
    for start in range(0, len(wanted), 500):
        ids.update(config.db.store.execute(
            select(Address.email, Member.id)
            .join(Member, Member.address_id == Address.id)
            .where(Member.list_id == list_id,
                   Member.role == MemberRole.member,
                   Address.email.in_(wanted[start:start + 500]))).all())
    return ids


def _deliveries(mlist, post: TrackedPost,
                recipients) -> dict[str, TrackedDelivery]:
    """The delivery rows of `recipients`, made in one flush where new."""
    store = config.db.store
    found = {row.email: row for row in store.execute(
        select(TrackedDelivery).where(
            TrackedDelivery.post_id == post.id)).scalars()}
    members = _member_ids(mlist.list_id, found.keys(), recipients)
    sent = now()
    for recipient in recipients:
        email = recipient.lower()
        if email not in found:
            found[email] = TrackedDelivery(
                post_id=post.id, list_id=mlist.list_id, email=email,
                member_id=members.get(email), sent_at=sent,
                dsn_supported=False, state=SENT, state_at=sent)
            store.add(found[email])
    store.flush()
    return {recipient: found[recipient.lower()] for recipient in recipients}


@public
def tracked_delivery(mlist, msg, msgdata, mode: str) -> dict:
    """Deliver the post `msg` to its recipients with tracking `mode` (dsn
    or mdn); the recipients refused, as `smtplib.SMTP.sendmail` says."""
    recipients = list(msgdata['recipients'])
    post = _post(mlist, msg, mode)
    deliveries = _deliveries(mlist, post, recipients)
    agent = TrackedDeliver(deliveries, mode)
    refused = agent.deliver(mlist, msg, {**msgdata, 'verp': False})
    agent._connection.quit()
    without = sum(not deliveries[r].dsn_supported for r in recipients)
    log.info('%s tracked delivery for %s: %d recipients, %d refused, %d '
             'without DSN at the relay', post.message_id,
             mlist.fqdn_listname, len(recipients), len(refused), without)
    return refused
