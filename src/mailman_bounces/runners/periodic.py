"""The periodic bounce pass, as a runner of its own.

Core's bounce runner processes every pending event and runs the warnings
query after every single queue file.  The plugin moves that work here: once
every ``[bounces]pass_interval`` this runner applies the lists' policies to
the newly registered events in batches, sends warnings, removes members,
lifts expired outage freezes and evicts old history.  Several instances,
on one host or many sharing the database, can run at once: every step
claims its rows, so each event is handled once.
"""

from __future__ import annotations

import logging

from mailman.core.runner import Runner
from public import public

from mailman_bounces.app.bounce_pass import run_pass

log = logging.getLogger('mailman.bounce')


@public
class PeriodicRunner(Runner):
    """Runs the periodic bounce pass every pass_interval (its sleep_time)."""

    is_queue_runner = False

    def _do_periodic(self):
        try:
            run_pass()
        except Exception:
            # The pass is transactional per batch; a failed batch is rolled
            # back and retried next time.  Never let it kill the runner.
            log.exception('Periodic bounce pass failed')
