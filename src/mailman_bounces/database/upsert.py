"""Insert rows that may already exist, atomically, on every backend.

Two runner processes may register the same bounce at the same moment (the
MTA delivered it twice).  A unique constraint decides which row wins; the
loser's insert must be a no-op rather than an error that aborts its whole
transaction.  PostgreSQL and SQLite spell this ``ON CONFLICT DO NOTHING``,
MySQL/MariaDB ``ON DUPLICATE KEY UPDATE`` (a no-op update).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ['insert_ignoring_duplicates']


def insert_ignoring_duplicates(session: Session, table: Table,
                               rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table`, silently skipping those that would
    violate a unique constraint."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == 'postgresql':
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == 'sqlite':
        statement = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect in ('mysql', 'mariadb'):
        key = next(iter(table.primary_key.columns))
        statement = mysql.insert(table)
        statement = statement.on_duplicate_key_update({key.name: key})
    else:                                               # pragma: no cover
        raise NotImplementedError(f'unsupported database: {dialect}')
    session.execute(statement, rows)
