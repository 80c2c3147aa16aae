"""Insert rows that may already exist, atomically, on every backend.

Two runner processes may register the same bounce at the same moment (the
MTA delivered it twice).  A unique constraint decides which row wins; the
loser's insert must be a no-op rather than an error that aborts its whole
transaction.  PostgreSQL and SQLite spell this ``ON CONFLICT DO NOTHING``,
MySQL/MariaDB ``ON DUPLICATE KEY UPDATE`` (a no-op update).

SQLAlchemy's dialect-specific insert constructs cannot be cached, so every
execution would be compiled again (a large share of a registration's cost).
The statement is written once per table, column set and dialect as a typed
`text` construct instead, which SQLAlchemy caches like any other.
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
def _statement(table: Table, columns: tuple[str, ...], dialect: Dialect,
               returning: str | None = None) -> TextClause:
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
    if returning is not None:
        sql += f' RETURNING {quote(returning)}'
    # Typed parameters, so Mailman's column types (enums, UUIDs, dates)
    # convert values as they do for ORM statements.
    return text(sql).bindparams(
        *(bindparam(column, type_=table.c[column].type)
          for column in columns))


def insert_ignoring_duplicates(session: Session, table: Table,
                               rows: list[dict[str, Any]],
                               returning: str | None = None) -> Any:
    """Insert `rows` into `table`, silently skipping those that would
    violate a unique constraint.  Every row must have the same keys.

    With `returning` (one row only), return that column of the inserted
    row, or None if the row already existed.  (On MySQL/MariaDB, which
    cannot say, it always returns None: the caller looks the row up.)
    """
    if not rows:
        return None
    dialect = session.get_bind().dialect
    if returning is not None and dialect.name in ('postgresql', 'sqlite'):
        statement = _statement(table, tuple(rows[0]), dialect, returning)
        return session.execute(statement, rows[0]).scalar_one_or_none()
    statement = _statement(table, tuple(rows[0]), dialect)
    session.execute(statement, rows)
    return None


def pair_supported(session: Session) -> bool:
    """Can `insert_pair_ignoring_duplicates` write both rows at once?"""
    return session.get_bind().dialect.name == 'postgresql'


@lru_cache(maxsize=16)
def _pair_statement(parent: Table, parent_columns: tuple[str, ...],
                    parent_key: str, child: Table,
                    child_columns: tuple[str, ...], link: str,
                    dialect: Dialect) -> TextClause:
    quote = dialect.identifier_preparer.quote
    table = dialect.identifier_preparer.format_table
    parent_names = ', '.join(quote(c) for c in parent_columns)
    parent_values = ', '.join(f':p_{c}' for c in parent_columns)
    child_names = ', '.join(quote(c) for c in (*child_columns, link))
    child_values = ', '.join(f':c_{c}' for c in child_columns)
    # The parent's id: the row just inserted or, if it existed, that row
    # (written earlier in this transaction or committed before it).
    sql = (f'WITH inserted AS (INSERT INTO {table(parent)} ({parent_names}) '
           f'VALUES ({parent_values}) ON CONFLICT DO NOTHING RETURNING id), '
           f'parent AS (SELECT id FROM inserted UNION ALL '
           f'SELECT id FROM {table(parent)} '
           f'WHERE {quote(parent_key)} = :p_{parent_key}) '
           f'INSERT INTO {table(child)} ({child_names}) '
           f'VALUES ({child_values}, (SELECT id FROM parent LIMIT 1)) '
           'ON CONFLICT DO NOTHING')
    return text(sql).bindparams(
        *(bindparam(f'p_{c}', type_=parent.c[c].type)
          for c in parent_columns),
        *(bindparam(f'c_{c}', type_=child.c[c].type)
          for c in child_columns))


def insert_pair_ignoring_duplicates(session: Session, parent: Table,
                                    parent_row: dict[str, Any],
                                    parent_key: str, child: Table,
                                    child_row: dict[str, Any],
                                    link: str) -> None:
    """Insert `parent_row` (unless a row with its unique `parent_key`
    exists) and `child_row` linked to it through `child.link`, in one
    statement and round trip; a child that would violate a unique
    constraint is skipped.  PostgreSQL only: see `pair_supported`.
    """
    columns = tuple(column for column in child_row if column != link)
    statement = _pair_statement(parent, tuple(parent_row), parent_key,
                                child, columns, link,
                                session.get_bind().dialect)
    session.execute(statement, {
        **{f'p_{c}': v for c, v in parent_row.items()},
        **{f'c_{c}': child_row[c] for c in columns}})
