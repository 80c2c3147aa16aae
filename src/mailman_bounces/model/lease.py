"""Leases: which runner does a once-at-a-time step of the pass.

Most of the periodic pass runs in parallel (each runner claims its own
events).  A few steps must run in one place at a time (outage detection,
warnings and removals, eviction).  A runner takes the step's lease with one
atomic UPDATE; a lease that is not renewed expires, so a crashed runner
never blocks the others for long.  On SQLite, taking a lease is also the
first write of a transaction, which serialises writers before they read.
"""

from mailman.database.model import Model
from public import public
from sqlalchemy import Column, DateTime, Unicode


@public
class Lease(Model):
    """A named lease and its current holder."""

    __tablename__ = 'bounces_lease'

    name = Column(Unicode(64), primary_key=True)
    holder = Column(Unicode(128))
    until = Column(DateTime)
