"""The ``bouncecallbacks`` runner: sends due callbacks from the outbox.

Every ``[callbacks]interval`` it sends what is due (see
`mailman_bounces.app.callbacks`).  Several instances, on one host or many
sharing the database, can run at once: each attempt is claimed first.
"""

from __future__ import annotations

import logging

from mailman.config import config
from mailman.core.runner import Runner
from public import public

from mailman_bounces.app.callbacks import deliver_due

log = logging.getLogger('mailman.bounce')


@public
class CallbackRunner(Runner):
    """Sends the callbacks that are due."""

    is_queue_runner = False

    def _do_periodic(self):
        try:
            deliver_due()
        except Exception:
            # Every attempt is its own transaction; a failure leaves the
            # callback due again after its claim ends.
            config.db.abort()
            log.exception('Sending callbacks failed')
