"""Real database outages for tests, one mechanism per backend, private to
the test database (never a server-wide switch: other test sessions may
share the server).

* SQLite: every connection is made read-only with ``PRAGMA query_only``
  ("attempt to write a readonly database");
* PostgreSQL: the test database is made read-only for new sessions
  (``ALTER DATABASE ... SET default_transaction_read_only``) and its open
  sessions are terminated (``pg_terminate_backend``: "terminating
  connection due to administrator command", then SQLSTATE 25006);
* MySQL/MariaDB: the open sessions on the test database are killed
  (``KILL CONNECTION``: error 2013) and new ones made read-only
  (``SET SESSION TRANSACTION READ ONLY``: error 1792).

Recovery undoes the switch the way an administrator would; sessions
opened during the outage may stay read-only (PostgreSQL's database
setting applies at connection time): the code under test must cope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from mailman_bounces.tests.databases import backend_url, selected_backend


@dataclass
class Outage:
    """A switch that makes the test database unavailable and back."""

    engine: Engine
    backend: str = field(default_factory=selected_backend)
    down: bool = False

    def _on_checkout(self, dbapi_connection, record, proxy) -> None:
        # Per session, each time the pool hands a connection out.
        statement = {
            'sqlite': f'PRAGMA query_only = {int(self.down)}',
            'mysql': ('SET SESSION TRANSACTION READ ONLY' if self.down
                      else 'SET SESSION TRANSACTION READ WRITE'),
        }.get(self.backend)
        if statement:
            cursor = dbapi_connection.cursor()
            cursor.execute(statement)
            cursor.close()

    def _admin(self, *statements: str) -> None:
        admin = create_engine(backend_url(self.backend),
                              isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            admin.dispose()

    def _database(self) -> str:
        return self.engine.url.database

    def start(self) -> None:
        self.down = True
        if self.backend == 'postgresql':
            self._admin(
                f'ALTER DATABASE "{self._database()}" '
                'SET default_transaction_read_only = on',
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                'WHERE datname = current_database() '
                'AND pid <> pg_backend_pid()')
        elif self.backend == 'mysql':
            self._kill_mysql_sessions()

    def _kill_mysql_sessions(self) -> None:
        admin = create_engine(backend_url(self.backend),
                              isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as connection:
                ids = connection.execute(text(
                    'SELECT id FROM information_schema.processlist '
                    'WHERE db = DATABASE() AND id <> CONNECTION_ID()'
                )).scalars().all()
                for session in ids:
                    connection.execute(text(f'KILL CONNECTION {int(session)}'))
        finally:
            admin.dispose()

    def end(self) -> None:
        self.down = False
        if self.backend == 'postgresql':
            # The administrator's own session started read-only too.
            self._admin('SET default_transaction_read_only = off',
                        f'ALTER DATABASE "{self._database()}" '
                        'RESET default_transaction_read_only')


@contextmanager
def database_outage(engine: Engine) -> Iterator[Outage]:
    """An `Outage` of `engine`'s database, ended and cleaned up on exit
    whatever happens (the test layers need a writable database)."""
    outage = Outage(engine)
    event.listen(engine, 'checkout', outage._on_checkout)
    try:
        yield outage
    finally:
        outage.end()
        event.remove(engine, 'checkout', outage._on_checkout)
        # No session left over from the outage.
        engine.dispose()
