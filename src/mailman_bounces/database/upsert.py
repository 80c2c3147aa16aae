"""Insert rows that may already exist, atomically, on every backend.

Two runner processes may register the same bounce at the same moment (the
MTA delivered it twice).  A unique constraint decides which row wins; the
loser's insert must be a no-op rather than an error that aborts its whole
transaction.  PostgreSQL and SQLite spell this ``ON CONFLICT DO NOTHING``,
MySQL/MariaDB ``ON DUPLICATE KEY UPDATE`` (a no-op update).

SQLAlchemy's dialect-specific insert constructs cannot be cached, so every
execution would be compiled again (a large share of a registration's cost).
The statement is written once per table, column set and dialect as a typed
`text` construct instead, which SQLAlchemy caches like any other.  Being
text, it gets no column defaults from SQLAlchemy: they are filled in here,
so that a row means the same as it would in an ORM insert.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

__all__ = ['insert_ignoring_duplicates']


@lru_cache(maxsize=64)
def _statement(table: Table, columns: tuple[str, ...],
               dialect: Dialect) -> TextClause:
    quote = dialect.identifier_preparer.quote
    names = ', '.join(quote(column) for column in columns)
    values = ', '.join(f':{column}' for column in columns)
    sql = (f'INSERT INTO {dialect.identifier_preparer.format_table(table)} '
           f'({names}) VALUES ({values})')
    if dialect.name in ('postgresql', 'sqlite'):
        sql += ' ON CONFLICT DO NOTHING'
    elif dialect.name in ('mysql', 'mariadb'):
        key = quote(next(iter(table.primary_key.columns)).name)
        sql += f' ON DUPLICATE KEY UPDATE {key} = {key}'
    else:                                               # pragma: no cover
        raise NotImplementedError(f'unsupported database: {dialect.name}')
    # Typed parameters, so Mailman's column types (enums, UUIDs, dates)
    # convert values as they do for ORM statements.
    return text(sql).bindparams(
        *(bindparam(column, type_=table.c[column].type)
          for column in columns))


@lru_cache(maxsize=64)
def _missing_defaults(table: Table, columns: tuple[str, ...]
                      ) -> dict[str, Any]:
    """The scalar column defaults of `table`'s columns not in `columns`."""
    return {column.key: column.default.arg for column in table.columns
            if column.key not in columns and column.default is not None
            and column.default.is_scalar}


def insert_ignoring_duplicates(session: Session, table: Table,
                               rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table`, silently skipping those that would
    violate a unique constraint (with a row in the table or an earlier one
    of `rows`).  Every row must have the same keys; the columns they leave
    out get their column defaults.  One statement with many parameter
    sets: the drivers send it in pages, not row by row.
    """
    if not rows:
        return
    defaults = _missing_defaults(table, tuple(rows[0]))
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    statement = _statement(table, tuple(rows[0]),
                           session.get_bind().dialect)
    session.execute(statement, rows)
