"""The bouncemail runner: polls the site's bounce mailboxes.

For sites whose bounces cannot reach Mailman's LMTP port and land in an
ordinary mailbox instead, each ``[mailbox.NAME]`` section of the plugin's
configuration names an IMAP or POP3 mailbox.  This runner wakes up every
few seconds and polls each mailbox whose poll interval (or back-off after
an error) has passed; see `mailman_bounces.app.mailboxes.poll`.
"""

from __future__ import annotations

import logging

from mailman.core.runner import Runner
from public import public

from mailman_bounces.app.mailboxes.poll import poll_all

log = logging.getLogger('mailman.bounce')


@public
class BounceMailRunner(Runner):
    """Polls the configured bounce mailboxes when they are due."""

    is_queue_runner = False

    def _do_periodic(self):
        try:
            poll_all()
        except Exception:
            # A failed poll is recorded and backs off; this is for bugs.
            # Never let them kill the runner.
            log.exception('Polling the bounce mailboxes failed')
