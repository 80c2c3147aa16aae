"""Which errors say "the database (or the disk) is unavailable for now".

A bounce that fails because of such an error is not at fault: it must stay
queued and be tried again once the database is back, never shunted.  A
bounce that fails with any other error fails by itself and is shunted.

The classification reads SQLAlchemy's exception types first and then the
backend's own code, since each driver maps the same condition to different
DB-API classes (a read-only PostgreSQL is an ``InternalError``, a MySQL lock
wait timeout an ``OperationalError``, SQLite says everything in words).
"""

from __future__ import annotations

import errno

from public import public
from sqlalchemy import exc

# PostgreSQL SQLSTATEs: serialization failure, deadlock, read-only
# transaction, lock not available, disk full, out of memory, too many
# connections, admin/crash shutdown, cannot connect now, idle session
# timeout; and whole classes: 08 (connection exception).
_PG_TRANSIENT = frozenset({
    '40001', '40P01', '25006', '55P03', '53100', '53200', '53300',
    '57P01', '57P02', '57P03', '57P05',
})
_PG_TRANSIENT_CLASSES = ('08',)

# MySQL/MariaDB error numbers: disk full, table full, too many connections,
# server shutdown, lock wait timeout, deadlock, read-only (--read-only and
# read-only transactions), connection killed, client-side connection
# errors (can't connect, server gone away, lost connection).
_MYSQL_TRANSIENT = frozenset({
    1021, 1040, 1053, 1114, 1205, 1213, 1290, 1792, 1836, 1927, 2002, 2003,
    2006, 2013, 2055, 4031,
})

# SQLite's extended error names (Python 3.11+) and their messages.
_SQLITE_TRANSIENT_NAMES = ('SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_READONLY',
                           'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN',
                           'SQLITE_PROTOCOL', 'SQLITE_NOMEM')
_SQLITE_TRANSIENT_TEXTS = ('readonly database', 'database is locked',
                           'database table is locked', 'disk i/o',
                           'database or disk is full', 'unable to open',
                           'out of memory')

# Operating-system errors of a full or failing disk or of too many open
# files: they pass when space is freed or load drops.
_TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO,
                               errno.EMFILE, errno.ENFILE, errno.EROFS,
                               errno.EAGAIN, errno.ENOMEM})


def _backend_verdict(orig: BaseException) -> bool | None:
    """What the driver's own error code says; None if it says nothing."""
    sqlstate = getattr(orig, 'pgcode', None) or getattr(orig, 'sqlstate', None)
    if isinstance(sqlstate, str) and sqlstate:
        return (sqlstate in _PG_TRANSIENT
                or sqlstate.startswith(_PG_TRANSIENT_CLASSES))
    name = getattr(orig, 'sqlite_errorname', None)
    if isinstance(name, str) and name:
        return name.startswith(_SQLITE_TRANSIENT_NAMES)
    if type(orig).__module__.startswith('sqlite3'):
        text = str(orig).lower()
        return any(words in text for words in _SQLITE_TRANSIENT_TEXTS)
    args = getattr(orig, 'args', ())
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL_TRANSIENT
    return None


@public
def is_transient(error: BaseException) -> bool:
    """Does `error` say that the database or the disk is unavailable for
    a while (so that trying again later, unchanged, can succeed)?"""
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        # Pool exhausted or a connection found dead on checkout.
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        verdict = _backend_verdict(error.orig)
        if verdict is not None:
            return verdict
        # PEP 249: "errors related to the database's operation and not
        # necessarily under the control of the programmer".
        return isinstance(error, exc.OperationalError)
    if isinstance(error, OSError):
        return error.errno in _TRANSIENT_ERRNOS
    return False


@public
def describe(error: BaseException) -> str:
    """A one-line description of `error` for the log (no SQL, no
    parameters: they may hold a stranger's data)."""
    if isinstance(error, exc.DBAPIError):
        orig = error.orig
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ''
        return f'{type(error).__name__} ({type(orig).__name__}): {first}'
    return f'{type(error).__name__}: {error}'
