"""A separate process running the periodic pass, for concurrency and crash
tests.

Usage: python -m mailman_bounces.tests.pass_worker CONFIG BATCH [crash]

Initialises Mailman from the test layer's CONFIG (the plugin comes from
MAILMAN_EXTRA_TESTING_CFG, inherited), waits for the file named by
MAILMAN_BOUNCES_GO (so that several workers start together), then runs
passes with batches of BATCH events until none is left.  With ``crash`` it
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
    from mailman_bounces.plugin import set_site_config, site_config
    set_site_config(replace(site_config(), batch_size=batch))
    go = os.environ.get('MAILMAN_BOUNCES_GO')
    if go:
        # Tell the test we are ready, and wait until every worker is.
        with open(f'{go}.ready.{os.getpid()}', 'w'):
            pass
        while not os.path.exists(go):
            time.sleep(0.01)
    if crash:
        from mailman_bounces.app import bounce_pass
        apply = bounce_pass._Batch.apply

        def apply_then_die(batch):
            apply(batch)
            # Everything is written but not committed.
            os._exit(17)
        bounce_pass._Batch.apply = apply_then_die
    processed = 0
    while True:
        report = run_pass()
        processed += report.events
        if report.events == 0:
            break
    print(f'processed {processed}', flush=True)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), 'crash' in sys.argv[3:])
