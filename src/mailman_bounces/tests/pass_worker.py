"""A separate process running the periodic pass, for concurrency and crash
tests.

Usage: python -m mailman_bounces.tests.pass_worker CONFIG BATCH [crash]

Initialises Mailman from the test layer's CONFIG (the plugin comes from
MAILMAN_EXTRA_TESTING_CFG, inherited), waits for the file named by
MAILMAN_BOUNCES_GO (so that several workers start together), then runs
passes with batches of BATCH events until none is left.  With
MAILMAN_BOUNCES_WORKERS=N (N > 1), a worker that has committed its first
batch waits until all N have committed one, so each of them really does
work, and then they go on side by side (without it, one worker could
drain the queue before another one's first claim).  With ``crash`` it
dies abruptly (os._exit, no rollback, no clean-up) just before committing
its first batch of events, the way a killed runner would.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace


def main(config_file: str, batch: int, crash: bool) -> None:
    from mailman.core.initialize import initialize
    initialize(config_file)
    from mailman_bounces.app.bounce_pass import run_pass
    from mailman_bounces.config import set_site_config, site_config
    set_site_config(replace(site_config(), batch_size=batch))
    go = os.environ.get('MAILMAN_BOUNCES_GO')
    if go:
        # Tell the test we are ready, and wait until every worker is.
        with open(f'{go}.ready.{os.getpid()}', 'w'):
            pass
        while not os.path.exists(go):
            time.sleep(0.01)
    workers = int(os.environ.get('MAILMAN_BOUNCES_WORKERS', '1'))
    if go and workers > 1:
        _meet_after_first_batch(go, workers)
    if crash:
        from mailman_bounces.app import bounce_pass
        apply = bounce_pass._Batch.apply

        def apply_then_die(batch):
            apply(batch)
            # Everything is written but not committed.
            os._exit(17)
        bounce_pass._Batch.apply = apply_then_die
    processed = 0
    deadline = time.monotonic() + 240
    while True:
        report = run_pass()
        processed += report.events
        if report.events == 0 and (not _pending()
                                   or time.monotonic() > deadline):
            break
        if report.events == 0:
            # Events are left that another transaction still holds: the
            # crashed worker's, until the server has rolled its transaction
            # back (MySQL may take a while under load), or another
            # runner's.  A real runner gets them at its next pass.
            time.sleep(0.2)
    print(f'processed {processed}', flush=True)


def _pending() -> bool:
    """Are there unprocessed events (whoever holds them)?"""
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    found = config.db.store.execute(select(BounceEvent.id).where(
        BounceEvent.processed.is_(False)).limit(1)).first()
    config.db.commit()
    return found is not None


def _meet_after_first_batch(go: str, workers: int,
                            timeout: float = 60.0) -> None:
    """After this worker's first committed batch, wait (at most `timeout`
    seconds) until each of the `workers` has committed one."""
    from mailman_bounces.app import bounce_pass
    process_batch = bounce_pass.process_batch

    def process_then_meet(*args, **kws):
        count = process_batch(*args, **kws)
        if count:
            bounce_pass.process_batch = process_batch
            with open(f'{go}.worked.{os.getpid()}', 'w'):
                pass
            folder, name = os.path.split(go)
            deadline = time.monotonic() + timeout
            while (sum(entry.startswith(f'{name}.worked.')
                       for entry in os.listdir(folder or '.')) < workers
                   and time.monotonic() < deadline):
                time.sleep(0.01)
        return count
    bounce_pass.process_batch = process_then_meet


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), 'crash' in sys.argv[3:])
