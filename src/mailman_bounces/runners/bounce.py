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

Message tracking's reports (success and delay DSNs, MDNs) are stored with
the batch (`mailman_bounces.app.tracking`) and are never bounces.

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

An error that says the database (or the disk) is unavailable for now
(`mailman_bounces.database.faults.is_transient`: connection lost,
read-only, lock timeout, deadlock, disk full ...) is no message's fault:
the files of the batch go back to the queue unchanged, the runner logs it
in ``mailman.bounce`` and tries again after a growing pause (2 s doubling
up to 5 minutes), on new connections, until the database is back.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from email.message import Message

from mailman.app.bounces import maybe_forward
from mailman.config import config
from mailman.core.runner import Runner
from mailman.interfaces.bounce import IBounceProcessor
from public import public
from zope.component import getUtility

from mailman_bounces.app.intake import intake
from mailman_bounces.app.processor import Registration
from mailman_bounces.app.tracking import TrackingUpdate, record_tracking
from mailman_bounces.database.faults import describe, is_transient
from mailman_bounces.utilities.backoff import Backoff

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
    tracking: list[TrackingUpdate]


class _Unavailable(Exception):
    """The database is unavailable: `files` go back to the queue."""

    def __init__(self, error: Exception, files: list[_Queued]) -> None:
        super().__init__(str(error))
        self.error = error
        self.files = files


def _abort() -> None:
    """Roll back, whatever state the connection is in."""
    try:
        config.db.abort()
    except Exception:  # a dead connection cannot roll back
        log.debug('Rollback failed', exc_info=True)


@public
class BounceRunner(Runner):
    """The bounce runner."""

    def __init__(self, name, slice=None):
        super().__init__(name, slice)
        self._processor = getUtility(IBounceProcessor)
        # Tries while the database is unavailable.
        self._backoff = Backoff()
        # What `_handle` found to register in the current queue file.
        self._pending: list[Registration] = []
        # What message tracking stores from the current queue file.
        self._tracking: list[TrackingUpdate] = []

    def _one_iteration(self):
        """Like core's loop over the queue, but one transaction per batch;
        while the database is unavailable, nothing leaves the queue."""
        if self._backoff.remaining(time.monotonic()):
            return 0
        files = self.switchboard.files
        try:
            self._process_files(files)
        except _Unavailable as outage:
            self._wait_for_database(outage)
            return len(files)
        failures = self._backoff.succeeded()
        if failures:
            log.info('Database available again after %d failed tries',
                     failures)
        return len(files)

    def _process_files(self, files: list[str]) -> None:
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
            self._pending, self._tracking = [], []
            queued = _Queued(filebase, msg, msgdata, self._pending,
                             self._tracking)
            try:
                self._process_one_file(msg, msgdata)
            except Exception as error:  # shunt, never lose it
                # Only reads happened; the batch's registrations wait in
                # memory.  (A failed read can spoil the transaction.)
                _abort()
                if is_transient(error):
                    raise _Unavailable(error, [*batch, queued]) from error
                self._shunt(msg, msgdata, error)
                self.switchboard.finish(filebase)
                continue
            batch.append(queued)
            if len(batch) >= BATCH_FILES:
                self._register(batch)
                batch = []
            if self._short_circuit():
                break
        self._register(batch)

    def _register(self, batch: list[_Queued]) -> None:
        """Register the whole batch in one transaction, with a few
        statements; if that fails by itself, file by file, to shunt only
        the culprit.  Raises `_Unavailable` (files not yet registered
        left to put back) when the database is unavailable."""
        if not batch:
            return
        try:
            self._write(batch)
        except Exception as error:  # find the bad file
            _abort()
            if is_transient(error):
                raise _Unavailable(error, batch) from error
            self._log(error)
        else:
            return
        for index, queued in enumerate(batch):
            try:
                self._write([queued])
            except Exception as error:  # shunt, never lose it
                _abort()
                if is_transient(error):
                    raise _Unavailable(error, batch[index:]) from error
                # It failed alone, after failing in its batch: its own.
                self._shunt(queued.msg, queued.msgdata, error)
                self.switchboard.finish(queued.filebase)

    def _write(self, batch: list[_Queued]) -> None:
        self._processor.record_all(
            [r for queued in batch for r in queued.registrations])
        record_tracking([t for queued in batch for t in queued.tracking])
        config.db.commit()
        # Only once committed: a crash before leaves the files queued.
        for queued in batch:
            self.switchboard.finish(queued.filebase)

    def _wait_for_database(self, outage: _Unavailable) -> None:
        """Put the files back in the queue unchanged and wait a while."""
        for queued in outage.files:
            self._put_back(queued.filebase)
        # A connection may keep a state that fails every transaction (one
        # that a server made read-only, one a failover left half-open):
        # start the next try on new connections.
        config.db.engine.dispose()
        delay = self._backoff.failed(time.monotonic())
        log.warning('Database unavailable (%s): %d bounce(s) stay queued, '
                    'next try in %.0f s (failed tries: %d)',
                    describe(outage.error), len(outage.files), delay,
                    self._backoff.failures)

    def _put_back(self, filebase: str) -> None:
        """Undo `dequeue`: the file is the same, so nothing to write (the
        disk may be full)."""
        directory = self.switchboard.queue_directory
        try:
            os.rename(os.path.join(directory, filebase + '.bak'),
                      os.path.join(directory, filebase + '.pck'))
        except OSError as error:
            # The .bak file stays; Mailman recovers it at the next start.
            elog.error('Cannot put %s back in the bounces queue: %s',
                       filebase, error)

    def _snooze(self, filecnt):
        wait = self._backoff.remaining(time.monotonic())
        if wait:
            # In steps no longer than the runner's usual sleep, so that a
            # stop request is seen as soon as usual.
            time.sleep(min(wait, max(self.sleep_float, 1.0)))
            return
        super()._snooze(filecnt)

    def _dispose(self, mlist, msg, msgdata):
        self._handle(mlist, msg, msgdata)
        # Never keep the message in this queue.
        return False

    def _handle(self, mlist, msg, msgdata):
        found = intake(mlist, msg, msgdata)
        message_id = (msg.get('message-id') or 'n/a').strip()
        # Registered with the rest of the batch (see `_register`).
        self._tracking.extend(found.tracking)
        if found.outcome == 'tracking':
            log.info('%s: tracking report for %s, not a bounce', message_id,
                     mlist.list_id)
            return
        if found.outcome == 'autoreply':
            log.info('%s: auto-reply to %s, not a bounce',
                     message_id, mlist.list_id)
            return
        if found.outcome == 'unrecognised':
            # Like core, forward even VERPed messages that are not readable
            # failure reports: a message to the bounce address that is not a
            # bounce must never score.
            log.info('%s: unrecognised bounce for %s (VERP: %s)', message_id,
                     mlist.list_id,
                     ', '.join(sorted(found.verp.addresses)) or '-')
            maybe_forward(mlist, msg)
            return
        if found.outcome == 'not-bounce':
            log.info('%s: not a bounce for %s, by rule', message_id,
                     mlist.list_id)
            maybe_forward(mlist, msg)
            return
        if found.outcome == 'no-address':
            log.info('%s: bounce for %s names no address', message_id,
                     mlist.list_id)
            maybe_forward(mlist, msg)
            return
        # Registered with the rest of the batch (see `_register`).
        self._pending.extend(found.registrations)

    def _shunt(self, msg, msgdata, error):
        reason = f'{type(error).__name__}: {error}'
        msgdata[SHUNT_REASON_KEY] = reason
        msgdata['whichq'] = self.switchboard.name
        filebase = config.switchboards['shunt'].enqueue(msg, msgdata)
        elog.error('Bounce for %s shunted as %s: %s',
                   msgdata.get('listid', '?'), filebase, reason)
        self._log(error)
