"""The database backends the test suite can run on.

SQLite needs nothing.  PostgreSQL and MariaDB/MySQL are used when their
servers answer; ``MAILMAN_BOUNCES_TEST_DB`` selects the backend of a pytest
run.  The servers' addresses can be changed with ``MAILMAN_BOUNCES_PG_URL``
and ``MAILMAN_BOUNCES_MYSQL_URL``.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy.engine import make_url

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
    url = make_url(backend_url(backend))
    socket_path = url.query.get('host') or url.query.get('unix_socket')
    if socket_path:
        # A server reached through its Unix socket (e.g. from a private
        # network namespace): PostgreSQL's host= names the socket's
        # directory, PyMySQL's unix_socket= the socket itself.
        if os.path.isdir(socket_path):
            socket_path = os.path.join(socket_path, f'.s.PGSQL.{url.port or 5432}')
        return os.path.exists(socket_path)
    try:
        with socket.create_connection(
                (url.host, url.port), timeout=timeout):
            return True
    except OSError:
        return False


# Where Debian's servers keep their Unix sockets.
SOCKETS = {
    'postgresql': ('host', '/var/run/postgresql', '.s.PGSQL.{port}'),
    'mysql': ('unix_socket', '/run/mysqld/mysqld.sock', ''),
}


def socket_url(backend: str) -> str | None:
    """`backend`'s URL through the server's Unix socket, for a run in a
    network namespace of its own (where the host's 127.0.0.1 is out of
    reach); the URL unchanged when it names no loopback host, and None when
    it does but no socket is there."""
    url = backend_url(backend)
    if url is None:
        return None
    parsed = make_url(url)
    if parsed.host not in ('127.0.0.1', 'localhost', '::1'):
        return url
    parameter, where, name = SOCKETS[backend]
    path = os.path.join(where, name.format(port=parsed.port or 5432)) \
        if name else where
    if not os.path.exists(path):
        return None
    # PostgreSQL's host= names the socket's directory; PyMySQL wants a host
    # name beside unix_socket= and ignores it.
    query = dict(parsed.query, **{parameter: where})
    rendered = parsed.set(
        host='localhost' if backend == 'mysql' else '', port=None,
        query={}).render_as_string(hide_password=False)
    return rendered + '?' + '&'.join(f'{key}={value}'
                                     for key, value in query.items())
