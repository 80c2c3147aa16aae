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

On SQLite, where writers take turns on one database-wide lock, the plugin
also makes each connection wait longer for that lock than the driver's
5 seconds (`patient_sqlite`).
"""

from __future__ import annotations

from public import public
from sqlalchemy import event
from sqlalchemy.engine import Engine

# How long a SQLite connection waits for another writer (milliseconds).
# The driver's default, 5 s, is shorter than a pass's batch or notice batch
# can hold the write lock on a loaded machine: the waiting runner then
# failed with "database is locked" instead of taking its turn.
SQLITE_BUSY_TIMEOUT_MS = 120_000


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


def _wait_for_writers(connection, _record) -> None:
    connection.execute(f'PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}')


@public
def patient_sqlite(engine: Engine) -> bool:
    """Make every new SQLite connection of `engine` wait up to
    `SQLITE_BUSY_TIMEOUT_MS` for the write lock.

    Mailman's SQLite engine has no connection pool (each transaction opens
    a connection), so the setting is made on each connect.  Returns whether
    the engine was changed (only SQLite engines are).
    """
    if engine.dialect.name != 'sqlite':
        return False
    if not event.contains(engine, 'connect', _wait_for_writers):
        event.listen(engine, 'connect', _wait_for_writers)
    return True
