"""Serialising schema changes between processes on one host.

`mailman start` launches many runner processes at once and each runs the
plugin's post_hook; like core's database creation, the plugin's schema step
runs under a file lock so only one of them migrates.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flufl.lock import Lock
from mailman.config import config

LOCK_LIFETIME = timedelta(minutes=10)


@contextmanager
def schema_lock() -> Iterator[None]:
    """Hold the plugin's schema lock."""
    path = os.path.join(config.LOCK_DIR, 'mailman-bounces-schema.lck')
    with Lock(path, lifetime=LOCK_LIFETIME):
        yield
