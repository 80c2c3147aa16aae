"""Serialising schema changes, and other check-then-create steps, between
processes and hosts.

`mailman start` launches many runner processes at once and each runs the
plugin's post_hook; like core's database creation, the plugin's schema step
runs under a file lock (`schema_lock`) so only one of them migrates.

A file lock only covers the runners of one host: several hosts sharing one
database have a lock directory each, and all of them found the schema old,
created tables or ran migrations side by side, and all but one crashed
(duplicate table, duplicate version row).  `database_lock` therefore holds a
lock in the database itself around the check and the migration:

* PostgreSQL: a session-level advisory lock, on a connection of its own.
  Session-level advisory locks are not released by COMMIT or ROLLBACK, only
  by pg_advisory_unlock or the end of the session, so the migration's
  commits cannot drop it; keeping it off the migration's connection also
  means an aborted migration transaction cannot stop the unlock.
* MySQL/MariaDB: GET_LOCK on a connection of its own (also held until
  RELEASE_LOCK or the session ends, whatever is committed meanwhile; DDL's
  implicit commits included).
* SQLite: the database's own write lock, taken with BEGIN IMMEDIATE on the
  migration's connection before the check.  SQLite has no named locks, and
  none are needed: every process using the database shares its file, whose
  lock serialises writers.  But the driver opens no transaction before DDL,
  so without the explicit BEGIN each CREATE TABLE committed on its own and a
  second process saw some of the tables and no version.

`creation_lock` serialises a smaller step inside a session's transaction:
looking for a row and making it if there is none (the first VERP signing
key), which two processes doing at once would both do.  It is held until
the session's transaction ends on PostgreSQL (a transaction-level advisory
lock) and SQLite (the write lock, taken by a write that changes nothing);
on MySQL/MariaDB, whose named locks belong to the session, until the block
ends: a reader that then comes in reads with a locking read, which waits
for the row the holder made until its transaction ends.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flufl.lock import Lock
from mailman.config import config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger('mailman.plugins')

LOCK_LIFETIME = timedelta(minutes=10)

# The database lock's name.  PostgreSQL's advisory locks are named by a
# 64-bit integer, derived from the name so that it is fixed and unlikely to
# collide with another application's key in the same database.
SCHEMA_LOCK_NAME = 'mailman_bounces_schema'


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], 'big',
                          signed=True)


SCHEMA_LOCK_KEY = _lock_key(SCHEMA_LOCK_NAME)

# How long a host waits for another host's migration.  Migrating a large
# table can take minutes; beyond this the other host is more likely stuck
# than busy, and a clear error says so instead of a silent hang.
SCHEMA_LOCK_TIMEOUT = LOCK_LIFETIME

# MySQL's lock names are limited to 64 characters.
MYSQL_LOCK_NAME_LENGTH = 64

# PostgreSQL's SQLSTATE for a lock wait cut off by lock_timeout.
PG_LOCK_NOT_AVAILABLE = '55P03'


class SchemaLockTimeout(RuntimeError):
    """Another process held the schema lock for longer than we wait."""

    def __init__(self, timeout: timedelta) -> None:
        seconds = int(timeout.total_seconds())
        super().__init__(
            f'mailman-bounces: waited {seconds} s for the schema lock, which '
            'another Mailman process or host holds while it creates or '
            "migrates the plugin's tables; if none is migrating, look for a "
            'stuck session holding the lock')


@contextmanager
def creation_lock(session: Session, name: str, table: str,
                  timeout: timedelta = LOCK_LIFETIME) -> Iterator[None]:
    """Hold the lock `name` for a check-then-create step in `table` in the
    transaction of `session` (see the module docstring); in the block,
    read the row with a locking read (``with_for_update``).

    :raises RuntimeError: on MySQL, after waiting `timeout` (the others
        wait as their writes wait for each other).
    """
    dialect = session.get_bind().dialect.name
    if dialect == 'postgresql':
        session.execute(text('SELECT pg_advisory_xact_lock(:key)'),
                        {'key': _lock_key(f'mailman_bounces:{name}')})
        yield
    elif dialect == 'mysql':
        # Server-wide, unlike the schema lock's name: sites sharing a
        # server at worst wait for each other's step, which is short.
        lock = {'name': f'mailman_bounces:{name}'[:MYSQL_LOCK_NAME_LENGTH]}
        got = session.execute(text('SELECT GET_LOCK(:name, :seconds)'), {
            **lock, 'seconds': int(timeout.total_seconds())}).scalar_one()
        if got != 1:
            raise RuntimeError(f'mailman-bounces: GET_LOCK({lock["name"]!r}) '
                               f'returned {got!r}')
        try:
            yield
        finally:
            session.execute(text('SELECT RELEASE_LOCK(:name)'), lock)
    else:
        # SQLite's one write lock: a write that changes nothing takes it.
        session.execute(text(f'UPDATE {table} SET id = id WHERE 0 = 1'))
        yield


@contextmanager
def schema_lock() -> Iterator[None]:
    """Hold the plugin's schema file lock (this host's runners only)."""
    path = os.path.join(config.LOCK_DIR, 'mailman-bounces-schema.lck')
    with Lock(path, lifetime=LOCK_LIFETIME):
        yield


@contextmanager
def database_lock(engine: Engine,
                  timeout: timedelta = SCHEMA_LOCK_TIMEOUT,
                  ) -> Iterator[Connection]:
    """Hold the plugin's schema lock in the database behind `engine`.

    Yields a connection in a transaction, committed when the block ends
    (rolled back if it raises); no other holder of the lock on the same
    database runs meanwhile.  Raises `SchemaLockTimeout` after waiting
    `timeout` for another holder.
    """
    if engine.dialect.name == 'sqlite':
        with _sqlite_write_lock(engine, timeout) as connection:
            yield connection
        return
    acquire, release = _SESSION_LOCKS[engine.dialect.name]
    with engine.connect() as lock_connection:
        acquire(lock_connection, timeout)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            _unlock(lock_connection, release)


def _unlock(lock_connection: Connection, release) -> None:
    try:
        release(lock_connection)
    except Exception:
        # The session is unusable (the server went away, say): closing it
        # for good ends the session, which releases the lock all the same.
        log.exception('mailman-bounces: releasing the schema lock failed; '
                      'closing its connection instead')
        lock_connection.invalidate()


@contextmanager
def _sqlite_write_lock(engine: Engine,
                       timeout: timedelta) -> Iterator[Connection]:
    with engine.begin() as connection:
        busy_ms = int(timeout.total_seconds() * 1000)
        connection.exec_driver_sql(f'PRAGMA busy_timeout = {busy_ms}')
        try:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
        except OperationalError as error:
            if 'locked' in str(error.orig):
                raise SchemaLockTimeout(timeout) from error
            raise
        yield connection


def _pg_lock(connection: Connection, timeout: timedelta) -> None:
    # SET LOCAL bounds the wait without leaving the setting on the pooled
    # connection; the advisory lock itself outlives the commit.
    try:
        with connection.begin():
            connection.execute(text(
                "SELECT set_config('lock_timeout', :ms, true)"),
                {'ms': str(int(timeout.total_seconds() * 1000))})
            connection.execute(text('SELECT pg_advisory_lock(:key)'),
                               {'key': SCHEMA_LOCK_KEY})
    except OperationalError as error:
        if getattr(error.orig, 'pgcode', None) == PG_LOCK_NOT_AVAILABLE:
            raise SchemaLockTimeout(timeout) from error
        raise


def _pg_unlock(connection: Connection) -> None:
    with connection.begin():
        released = connection.execute(text(
            'SELECT pg_advisory_unlock(:key)'),
            {'key': SCHEMA_LOCK_KEY}).scalar_one()
    if not released:
        log.error('mailman-bounces: the schema lock was not held at unlock')


def _mysql_lock_name(connection: Connection) -> str:
    """The lock's name for the current database.

    MySQL's named locks are server-wide, so the name includes the database:
    sites (or test databases) sharing a server do not wait for each other.
    """
    database = connection.execute(text('SELECT DATABASE()')).scalar_one()
    name = f'{SCHEMA_LOCK_NAME}:{database}'
    if len(name) > MYSQL_LOCK_NAME_LENGTH:
        digest = hashlib.sha256(str(database).encode()).hexdigest()[:32]
        name = f'{SCHEMA_LOCK_NAME}:{digest}'
    return name


def _mysql_lock(connection: Connection, timeout: timedelta) -> None:
    with connection.begin():
        got = connection.execute(text('SELECT GET_LOCK(:name, :seconds)'), {
            'name': _mysql_lock_name(connection),
            'seconds': int(timeout.total_seconds())}).scalar_one()
    # 1: acquired; 0: timed out; NULL: an error (such as being killed).
    if got == 0:
        raise SchemaLockTimeout(timeout)
    if got != 1:
        raise RuntimeError('mailman-bounces: GET_LOCK for the schema lock '
                           f'failed (returned {got!r})')


def _mysql_unlock(connection: Connection) -> None:
    with connection.begin():
        released = connection.execute(text('SELECT RELEASE_LOCK(:name)'), {
            'name': _mysql_lock_name(connection)}).scalar_one()
    if released != 1:
        log.error('mailman-bounces: the schema lock was not held at unlock '
                  '(RELEASE_LOCK returned %r)', released)


# How each server backend takes and releases its session-level lock.
_SESSION_LOCKS = {
    'postgresql': (_pg_lock, _pg_unlock),
    'mysql': (_mysql_lock, _mysql_unlock),
}
