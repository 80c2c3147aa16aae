"""The plugin's bounce runner: decode, detect, register.

It takes the ``bounces`` queue over from core's runner.  For each message:

1. VERP decoding, envelope recipient first (`mailman_bounces.app.verp`);
2. detection and classification by the plugin's engine;
3. registration of one event per affected member, each with its own
   classification (a DSN mixing temporary and permanent results registers
   each recipient with its own severity; temporary failures are registered,
   not thrown away as core does; auto-replies are never bounces);
4. forwarding of unrecognised messages per the list's
   ``forward_unrecognized_bounces_to``.

Scoring and actions are not done here but by the periodic pass
(`mailman_bounces.runners.periodic`), in batches.

Core commits after every queue file.  This runner registers the bounces of
up to `BATCH_FILES` queue files together, with a few multi-row statements in
one transaction, and removes their queue files only after the commit: a
crash before it leaves the files in the queue (Mailman recovers them at
start-up) and registration is idempotent, so nothing is lost or counted
twice.  A message this runner cannot handle is never lost and never stops
the runner: it goes to the shunt queue with the reason logged.  (If the
batch's registration fails, the batch is registered again file by file, so
that only the culprit is shunted.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import Message

from mailman.app.bounces import maybe_forward
from mailman.config import config
from mailman.core.runner import Runner
from mailman.interfaces.bounce import IBounceProcessor
from public import public
from zope.component import getUtility

from mailman_bounces.app.classify import REGISTERED_KINDS, safe_detect
from mailman_bounces.app.matching import affected_members
from mailman_bounces.app.processor import Registration
from mailman_bounces.app.verp import decode_verp
from mailman_bounces.detect import Kind

log = logging.getLogger('mailman.bounce')
elog = logging.getLogger('mailman.error')

# msgdata key holding why a bounce was shunted.
SHUNT_REASON_KEY = 'bounces_shunt_reason'
# Queue files registered per transaction.
BATCH_FILES = 100


@dataclass
class _Queued:
    """A queue file read in this batch, and what it is to register."""

    filebase: str
    msg: Message
    msgdata: dict
    registrations: list[Registration]


@public
class BounceRunner(Runner):
    """The bounce runner."""

    def __init__(self, name, slice=None):
        super().__init__(name, slice)
        self._processor = getUtility(IBounceProcessor)
        # What `_handle` found to register in the current queue file.
        self._pending: list[Registration] = []

    def _one_iteration(self):
        """Like core's loop over the queue, but one transaction per batch."""
        files = self.switchboard.files
        batch: list[_Queued] = []
        for filebase in files:
            try:
                msg, msgdata = self.switchboard.dequeue(filebase)
            except Exception as error:  # noqa: BLE001 - keep it for analysis
                self._log(error)
                elog.error('Skipping and preserving unparseable message: %s',
                           filebase)
                self.switchboard.finish(filebase, preserve=True)
                continue
            self._pending = []
            try:
                self._process_one_file(msg, msgdata)
            except Exception as error:  # noqa: BLE001 - shunt, never lose it
                # Only reads happened; the batch's registrations wait in
                # memory.  (A failed read can spoil the transaction.)
                config.db.abort()
                self._shunt(msg, msgdata, error)
                self.switchboard.finish(filebase)
                continue
            batch.append(_Queued(filebase, msg, msgdata, self._pending))
            if len(batch) >= BATCH_FILES:
                self._register(batch)
                batch = []
            if self._short_circuit():
                break
        self._register(batch)
        return len(files)

    def _register(self, batch: list[_Queued]) -> None:
        """Register the whole batch in one transaction, with a few
        statements; if that fails, file by file, to shunt the culprit."""
        if not batch:
            return
        try:
            self._processor.record_all(
                [r for queued in batch for r in queued.registrations])
        except Exception as error:  # noqa: BLE001 - find the bad file
            config.db.abort()
            self._log(error)
            for queued in batch:
                self._register_alone(queued)
            return
        self._commit(batch)

    def _register_alone(self, queued: _Queued) -> None:
        try:
            self._processor.record_all(queued.registrations)
        except Exception as error:  # noqa: BLE001 - shunt, never lose it
            config.db.abort()
            self._shunt(queued.msg, queued.msgdata, error)
            self.switchboard.finish(queued.filebase)
            return
        self._commit([queued])

    def _commit(self, batch: list[_Queued]) -> None:
        try:
            config.db.commit()
        except Exception as error:  # noqa: BLE001 - retry the batch later
            config.db.abort()
            self._log(error)
            self._requeue(batch)
            return
        for queued in batch:
            self.switchboard.finish(queued.filebase)

    def _requeue(self, batch: list[_Queued]) -> None:
        for queued in batch:
            self.switchboard.enqueue(queued.msg, queued.msgdata)
            self.switchboard.finish(queued.filebase)

    def _dispose(self, mlist, msg, msgdata):
        self._handle(mlist, msg, msgdata)
        # Never keep the message in this queue.
        return False

    def _handle(self, mlist, msg, msgdata):
        verp = decode_verp(mlist, msg, msgdata)
        report = safe_detect(msg)
        message_id = (msg.get('message-id') or 'n/a').strip()
        if report.kind == Kind.autoreply:
            log.info('%s: auto-reply to %s, not a bounce',
                     message_id, mlist.list_id)
            return
        if report.kind not in REGISTERED_KINDS:
            # Like core, forward even VERPed messages that are not readable
            # failure reports: a message to the bounce address that is not a
            # bounce must never score.
            log.info('%s: unrecognised bounce for %s (VERP: %s)', message_id,
                     mlist.list_id, ', '.join(sorted(verp.addresses)) or '-')
            maybe_forward(mlist, msg)
            return
        affected = affected_members(mlist, report, verp)
        if not affected:
            log.info('%s: bounce for %s names no address', message_id,
                     mlist.list_id)
            maybe_forward(mlist, msg)
            return
        # Registered with the rest of the batch (see `_register`).
        self._pending.extend(
            Registration(mlist.list_id, email, msg, verp.context, report,
                         recipient, msgdata)
            for email, recipient in affected)

    def _shunt(self, msg, msgdata, error):
        reason = f'{type(error).__name__}: {error}'
        msgdata[SHUNT_REASON_KEY] = reason
        msgdata['whichq'] = self.switchboard.name
        filebase = config.switchboards['shunt'].enqueue(msg, msgdata)
        elog.error('Bounce for %s shunted as %s: %s',
                   msgdata.get('listid', '?'), filebase, reason)
        self._log(error)
