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

No reply carries an exception's text.  A temporary fault (disk full,
database unavailable, see `mailman_bounces.database.faults`) is answered
451, so that the sending MTA tries again; a message that can never be
queued (MIME nested too deep to parse or to pickle) 554; and a queue file
that could not be written whole is removed.
"""

from __future__ import annotations

import logging
import os
from contextlib import suppress

from aiosmtpd.lmtp import LMTP
from mailman.config import config
from mailman.database.transaction import transactional
from mailman.interfaces.listmanager import IListManager
from mailman.runners.lmtp import (
    CRLF,
    ERR_451,
    LMTPController,
    LMTPHandler,
)
from mailman.runners.lmtp import (
    LMTPRunner as CoreLMTPRunner,
)
from mailman.utilities.datetime import now
from public import public
from zope.component import getUtility

from mailman_bounces.app.intake import (
    bounces_list,
    received_message,
    received_metadata,
)
from mailman_bounces.config import site_config
from mailman_bounces.database.faults import is_transient

elog = logging.getLogger('mailman.error')
slog = logging.getLogger('mailman.smtp')

OK = '250 Ok'
# For a message that no later try can make acceptable (RFC 5321: 554,
# transaction failed); as neutral as core's ERR_451 for temporary faults.
ERR_554 = '554 Requested action not taken: message cannot be accepted'


def _reply_for(error: BaseException) -> str:
    """The LMTP reply for a message that `error` stopped: permanent for
    one that can never be accepted, temporary otherwise (the sending MTA
    tries again).  Neutral texts: the cause is for the log, not for the
    sender."""
    if isinstance(error, RecursionError):
        # Nested too deep to parse or to queue (pickle): a message the
        # same in every try.
        return ERR_554
    if not is_transient(error):
        elog.error('LMTP: unexpected error, answered as temporary')
    return ERR_451


def _enqueue(queue: str, msg, msgdata: dict) -> None:
    """Queue `msg` like the switchboard does, leaving no partial file when
    that fails (a full disk leaves a ``.pck.tmp`` file behind)."""
    switchboard = config.switchboards[queue]
    before = _partial_files(switchboard.queue_directory)
    try:
        switchboard.enqueue(msg, msgdata)
    except BaseException:
        # The partial file is the one that was not there before (this
        # runner queues one message at a time).
        for name in _partial_files(switchboard.queue_directory) - before:
            with suppress(OSError):
                os.unlink(os.path.join(switchboard.queue_directory, name))
        raise


def _partial_files(directory: str) -> set[str]:
    """The ``.pck.tmp`` files in `directory`: queue files being written."""
    return {name for name in os.listdir(directory)
            if name.endswith('.pck.tmp')}


def _abort() -> None:
    try:
        config.db.abort()
    except Exception:  # noqa: BLE001 - the connection may be the fault
        elog.debug('LMTP: rollback failed', exc_info=True)


class BounceKeepingHandler(LMTPHandler):
    """Handles -bounces recipients itself and the rest through core."""

    async def handle_DATA(self, server, session, envelope):
        try:
            return self._handle_bounces_first(server, session, envelope)
        except Exception as error:  # noqa: BLE001 - never aiosmtpd's 500 with the text
            elog.exception('LMTP: cannot handle a message')
            _abort()
            reply = _reply_for(error)
            return CRLF.join(reply for _ in envelope.rcpt_tos)

    def _handle_bounces_first(self, server, session, envelope):
        try:
            listnames = set(getUtility(IListManager).names)
        except Exception:  # noqa: BLE001 - answer 451, the MTA retries
            slog.exception("Can't get list names")
            _abort()
            return CRLF.join(ERR_451 for _ in envelope.rcpt_tos)
        targets = [bounces_list(rcpt, listnames)
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
            msg = received_message(envelope.content, envelope.mail_from)
        except Exception as error:  # noqa: BLE001 - see _reply_for
            elog.exception('LMTP bounce parsing')
            return {rcpt: _reply_for(error) for rcpt in bounces}
        max_size = site_config().max_message_size
        received = now()
        statuses = {}
        for rcpt, listname in bounces.items():
            try:
                mlist = getUtility(IListManager).get_by_fqdn(listname)
                msgdata = received_metadata(mlist.list_id, envelope.content,
                                            rcpt, received, max_size)
                _enqueue('bounces', msg, msgdata)
            except Exception as error:  # noqa: BLE001 - this recipient only
                elog.exception('LMTP: cannot queue %s for %s',
                               msg['message-id'], rcpt)
                statuses[rcpt] = _reply_for(error)
                continue
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
