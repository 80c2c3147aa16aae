"""An LMTP runner that keeps the envelope recipient of bounces.

Core's LMTP runner strips the VERP part from the envelope recipient
(``list-bounces+anne=example.org@host``) to find the list, and then throws
the envelope away.  When the VERP address is missing from the bounce's
headers too (SRS forwarding rewrites them, some MTAs' bounce formats never
had them) the bounce can no longer be tied to a member.

This runner takes over the messages addressed to a list's ``-bounces``
address: it accepts them even when their MIME structure has defects (a
bounce is still a bounce; the bounce runner shunts what it cannot handle),
records the envelope recipients and a fingerprint of the received bytes in
the message metadata, and queues them for the bounce runner.  Every other
recipient is handed to core's handler unchanged.
"""

from __future__ import annotations

import email
import logging
from email.utils import make_msgid, parseaddr

from aiosmtpd.lmtp import LMTP
from mailman.config import config
from mailman.database.transaction import transactional
from mailman.email.message import Message
from mailman.interfaces.listmanager import IListManager
from mailman.runners.lmtp import (
    CRLF,
    ERR_451,
    LMTPController,
    LMTPHandler,
    split_recipient,
)
from mailman.runners.lmtp import (
    LMTPRunner as CoreLMTPRunner,
)
from mailman.utilities.datetime import now
from mailman.utilities.email import add_message_hash
from public import public
from zope.component import getUtility

from mailman_bounces.app.store import (
    FINGERPRINT_KEY,
    RAW_KEY,
    fingerprint_bytes,
)
from mailman_bounces.app.verp import ENVELOPE_KEY
from mailman_bounces.plugin import site_config

elog = logging.getLogger('mailman.error')
slog = logging.getLogger('mailman.smtp')

OK = '250 Ok'


def _bounces_list(recipient: str, listnames: set[str]) -> str | None:
    """The list whose -bounces address `recipient` is, or None."""
    address = parseaddr(recipient)[1].lower()
    if '@' not in address:
        return None
    local, subaddress, domain = split_recipient(address)
    if subaddress != 'bounces':
        return None
    if f'{local}-{subaddress}@{domain}' in listnames:
        # A list really named "something-bounces": a posting address.
        return None
    listname = f'{local}@{domain}'
    return listname if listname in listnames else None


class BounceKeepingHandler(LMTPHandler):
    """Handles -bounces recipients itself and the rest through core."""

    async def handle_DATA(self, server, session, envelope):
        return self._handle_bounces_first(server, session, envelope)

    def _handle_bounces_first(self, server, session, envelope):
        try:
            listnames = set(getUtility(IListManager).names)
        except Exception:  # noqa: BLE001 - answer 451, the MTA retries
            slog.exception("Can't get list names")
            config.db.abort()
            return CRLF.join(ERR_451 for _ in envelope.rcpt_tos)
        targets = [_bounces_list(rcpt, listnames)
                   for rcpt in envelope.rcpt_tos]
        others = [rcpt for rcpt, target in zip(envelope.rcpt_tos, targets)
                  if target is None]
        bounces = {rcpt: target for rcpt, target in
                   zip(envelope.rcpt_tos, targets) if target is not None}
        statuses = self._queue_bounces(envelope, bounces) if bounces else {}
        if others:
            core_statuses = self._core_statuses(
                server, session, envelope, others)
            statuses.update(zip(others, core_statuses))
        # RFC 2033: one reply per recipient, in the order given.
        return CRLF.join(statuses[rcpt] for rcpt in envelope.rcpt_tos)

    def _core_statuses(self, server, session, envelope, recipients):
        saved = envelope.rcpt_tos
        envelope.rcpt_tos = recipients
        try:
            reply = self._handle_DATA(server, session, envelope)
        finally:
            envelope.rcpt_tos = saved
        return reply.split(CRLF)

    @transactional
    def _queue_bounces(self, envelope, bounces):
        try:
            msg = email.message_from_bytes(envelope.content, Message)
        except Exception:  # noqa: BLE001 - answer 451, the MTA retries
            elog.exception('LMTP bounce parsing')
            return {rcpt: ERR_451 for rcpt in bounces}
        msg.set_unixfrom(envelope.mail_from)
        if msg.get('message-id') is None:
            # Many DSNs carry no Message-ID; Mailman needs one.
            msg['Message-ID'] = make_msgid()
        msg.original_size = len(envelope.content)
        add_message_hash(msg)
        del msg['X-MailFrom']
        msg['X-MailFrom'] = envelope.mail_from or ''
        digest = fingerprint_bytes(envelope.content)
        max_size = site_config().max_message_size
        received = now()
        statuses = {}
        for rcpt, listname in bounces.items():
            mlist = getUtility(IListManager).get_by_fqdn(listname)
            msgdata = {
                'listid': mlist.list_id,
                'original_size': msg.original_size,
                'received_time': received,
                'subaddress': 'bounces',
                ENVELOPE_KEY: [parseaddr(rcpt)[1].lower()],
                FINGERPRINT_KEY: digest,
                # Stored as received (and not serialised again), but never
                # more than will be stored.
                RAW_KEY: envelope.content[:max_size],
            }
            config.switchboards['bounces'].enqueue(msg, msgdata)
            slog.debug('%s bounce for %s queued (envelope %s)',
                       msg['message-id'], mlist.list_id, rcpt)
            statuses[rcpt] = OK
        return statuses


class BounceKeepingController(LMTPController):
    def factory(self):
        server = LMTP(self.handler)
        server.__ident__ = 'GNU Mailman LMTP runner 2.0 (mailman-bounces)'
        return server


@public
class LMTPRunner(CoreLMTPRunner):
    """Core's LMTP runner with `BounceKeepingHandler`."""

    def __init__(self, name, slice=None):
        super().__init__(name, slice)
        self.lmtp = BounceKeepingController(
            BounceKeepingHandler(), hostname=self.lmtp.hostname,
            port=self.lmtp.port)
