"""Tuning of the site's database engine for set-based work.

The bounce runner inserts, and the bounce pass updates, hundreds of rows per
batch with one statement and many parameter sets (``executemany``).  psycopg2 sends each parameter set
in its own round trip, which makes a 100-row update cost ~100 times the
network latency.  SQLAlchemy offers psycopg2's ``execute_batch`` for this
(``executemany_mode='values_plus_batch'``), but only as an argument to
``create_engine``, which Mailman core calls; the plugin switches the mode
on the engine core created.  The one thing the mode changes besides speed
is that an executemany UPDATE or DELETE reports no row count, and the
dialect says so (neither Mailman nor the plugin relies on one).  The pass's
own many-row updates go further: `bulk_update` sends them as one statement.
"""

from __future__ import annotations

from public import public
from sqlalchemy.engine import Engine


@public
def batch_executemany(engine: Engine) -> bool:
    """Send many-row statements in pages on psycopg2.

    Returns whether the engine was changed (only PostgreSQL with psycopg2
    is; other drivers batch already or are in-process).
    """
    dialect = engine.dialect
    if dialect.name != 'postgresql' or dialect.driver != 'psycopg2':
        return False
    from sqlalchemy.dialects.postgresql.psycopg2 import (
        EXECUTEMANY_VALUES_PLUS_BATCH,
    )
    dialect.executemany_mode = EXECUTEMANY_VALUES_PLUS_BATCH
    dialect.supports_sane_multi_rowcount = False
    return True
