"""The database backends the test suite can run on.

SQLite needs nothing.  PostgreSQL and MariaDB/MySQL are used when their
servers answer; ``MAILMAN_BOUNCES_TEST_DB`` selects the backend of a pytest
run.  The servers' addresses can be changed with ``MAILMAN_BOUNCES_PG_URL``
and ``MAILMAN_BOUNCES_MYSQL_URL``.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

BACKENDS = ('sqlite', 'postgresql', 'mysql')

DEFAULT_URLS = {
    'postgresql': 'postgresql://postgres@127.0.0.1:5432/test',
    'mysql': 'mysql+pymysql://root:@127.0.0.1:3306/test'
             '?charset=utf8mb4&use_unicode=1',
}

DATABASE_CLASSES = {
    'postgresql': 'mailman.database.postgresql.PostgreSQLDatabase',
    'mysql': 'mailman.database.mysql.MySQLDatabase',
}


def selected_backend() -> str:
    backend = os.environ.get('MAILMAN_BOUNCES_TEST_DB', 'sqlite').strip()
    if backend not in BACKENDS:
        raise SystemExit(f'MAILMAN_BOUNCES_TEST_DB={backend!r}: '
                         f'expected one of {", ".join(BACKENDS)}')
    return backend


def backend_url(backend: str) -> str | None:
    """The server URL of `backend` (None for SQLite)."""
    if backend == 'sqlite':
        return None
    variable = {'postgresql': 'MAILMAN_BOUNCES_PG_URL',
                'mysql': 'MAILMAN_BOUNCES_MYSQL_URL'}[backend]
    return os.environ.get(variable, DEFAULT_URLS[backend])


def database_config(backend: str) -> str:
    """The [database] section selecting `backend` (empty for SQLite)."""
    if backend == 'sqlite':
        return ''
    return (f'\n[database]\nclass: {DATABASE_CLASSES[backend]}\n'
            f'url: {backend_url(backend)}\n')


def reachable(backend: str, timeout: float = 2.0) -> bool:
    """Does the server of `backend` accept TCP connections?"""
    if backend == 'sqlite':
        return True
    parts = urlsplit(backend_url(backend))
    try:
        with socket.create_connection(
                (parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False
