"""Update many rows by primary key, each with its own values.

SQLAlchemy sends such an update as one statement with many parameter sets.
psycopg2 runs that as pages of separate UPDATE statements, each parsed,
planned and executed on its own, after formatting every row in Python.  In
the policy benchmark (10,000 members, 10k bounces) the pass's updates of
events, members and their standings took 0.15 ms per bounce that way on
PostgreSQL, and 0.08 ms as one statement per table, with one array per
column::

    UPDATE member SET bounce_score = v.bounce_score
    FROM unnest(CAST(:id AS INTEGER[]), CAST(:bounce_score AS INTEGER[]))
        AS v(id, bounce_score)
    WHERE member.id = v.id

whose text does not depend on the number of rows, so SQLAlchemy compiles
it once.  SQLite (in process) and MySQL/MariaDB keep the ORM's bulk
update.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Table, bindparam, inspect, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

__all__ = ['update_by_primary_key']


def update_by_primary_key(session: Session, entity: type,
                          rows: list[dict[str, Any]]) -> None:
    """Update `entity`'s rows: each of `rows` maps attribute names to new
    values and names the row by its primary key attributes.  Rows may set
    different attributes; the result is that of applying them in order."""
    if not rows:
        return
    mapper = inspect(entity)
    keys = tuple(mapper.get_property_by_column(column).key
                 for column in mapper.primary_key)
    merged = _merged(rows, keys)
    groups = _by_attributes(merged.values())
    dialect = session.get_bind().dialect
    if dialect.name != 'postgresql':
        # Bulk UPDATE by primary key needs the same keys in every row.
        for group in groups.values():
            session.execute(update(entity), group)
        return
    for attributes, group in groups.items():
        columns = tuple(mapper.attrs[name].columns[0] for name in attributes)
        statement = _unnest_update(mapper.local_table, columns, dialect)
        session.execute(statement, {
            f'p{index}': [row[name] for row in group]
            for index, name in enumerate(attributes)})
    _expire_loaded(session, mapper, keys, merged)


def _merged(rows: list[dict[str, Any]], keys: tuple[str, ...]
            ) -> dict[tuple, dict[str, Any]]:
    """One row per primary key, with each attribute's last value: what
    applying `rows` one after the other leaves."""
    merged: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        merged.setdefault(tuple(row[key] for key in keys), {}).update(row)
    return merged


def _by_attributes(rows) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """`rows` grouped by the set of attributes they set."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


@lru_cache(maxsize=64)
def _unnest_update(table: Table, columns: tuple[Column, ...],
                   dialect: Dialect) -> TextClause:
    """The statement setting `columns` (primary key included) from one
    array parameter each, ``p0``, ``p1`` ..."""
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    primary = {column.name for column in table.primary_key.columns}
    names = [quote(column.name) for column in columns]
    arrays = ', '.join(
        f'CAST(:p{index} AS {column.type.compile(dialect=dialect)}[])'
        for index, column in enumerate(columns))
    assignments = ', '.join(
        f'{quoted} = v.{quoted}'
        for column, quoted in zip(columns, names)
        if column.name not in primary)
    matches = ' AND '.join(
        f'{name}.{quoted} = v.{quoted}'
        for column, quoted in zip(columns, names)
        if column.name in primary)
    sql = (f'UPDATE {name} SET {assignments} '
           f'FROM unnest({arrays}) AS v({", ".join(names)}) '
           f'WHERE {matches}')
    # Typed arrays, so Mailman's column types (enums, dates) convert each
    # value as they do for ORM statements.
    return text(sql).bindparams(*(
        bindparam(f'p{index}', type_=ARRAY(column.type))
        for index, column in enumerate(columns)))


def _expire_loaded(session: Session, mapper, keys: tuple[str, ...],
                   rows: dict[tuple, dict[str, Any]]) -> None:
    """Objects of these rows already loaded in `session` reload the values
    just written when next read (the ORM's bulk update sets them)."""
    if not session.identity_map:
        return
    for identity, row in rows.items():
        instance = session.identity_map.get(
            mapper.identity_key_from_primary_key(list(identity)))
        if instance is not None:
            session.expire(instance, [name for name in row
                                      if name not in keys])
