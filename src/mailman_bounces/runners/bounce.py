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
(`mailman_bounces.runners.periodic`), in batches.  A message this runner
cannot handle is never lost and never stops the runner: it goes to the
shunt queue with the reason logged.
"""

from __future__ import annotations

import logging

from mailman.app.bounces import maybe_forward
from mailman.config import config
from mailman.core.runner import Runner
from mailman.interfaces.bounce import IBounceProcessor
from public import public
from zope.component import getUtility

from mailman_bounces.app.classify import REGISTERED_KINDS, safe_detect
from mailman_bounces.app.matching import affected_members
from mailman_bounces.app.verp import decode_verp
from mailman_bounces.detect import Kind

log = logging.getLogger('mailman.bounce')
elog = logging.getLogger('mailman.error')

# msgdata key holding why a bounce was shunted.
SHUNT_REASON_KEY = 'bounces_shunt_reason'


@public
class BounceRunner(Runner):
    """The bounce runner."""

    def __init__(self, name, slice=None):
        super().__init__(name, slice)
        self._processor = getUtility(IBounceProcessor)

    def _dispose(self, mlist, msg, msgdata):
        try:
            self._handle(mlist, msg, msgdata)
        except Exception as error:  # noqa: BLE001 - shunt, never lose it
            self._shunt(mlist, msg, msgdata, error)
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
        for email, recipient in affected:
            self._processor.register(
                mlist, email, msg, verp.context, report=report,
                recipient=recipient, msgdata=msgdata)

    def _shunt(self, mlist, msg, msgdata, error):
        config.db.abort()
        reason = f'{type(error).__name__}: {error}'
        msgdata[SHUNT_REASON_KEY] = reason
        msgdata['whichq'] = self.switchboard.name
        filebase = config.switchboards['shunt'].enqueue(msg, msgdata)
        elog.exception('Bounce for %s shunted as %s: %s',
                       getattr(mlist, 'list_id', '?'), filebase, reason)
