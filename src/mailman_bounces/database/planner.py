"""Steering the query planner towards the index that bounds the work.

The periodic steps filter the events on a time range (the outage window,
the retention cut-off) and on a few other columns that happen to have
indexes of their own (``reason``, ``processed``, ``domain``).  SQLite's
planner, which has no statistics, prefers any equality on an indexed column
over a range, and an index that yields GROUP BY's order over one that
bounds the rows, so it walked the whole ``reason``, ``processed`` or
``domain`` index: the cost of each pass grew with the number of events
kept.  Wrapping such a
filter's (or grouping's) column in an expression no index can serve leaves
the time range as the only way in, on every backend; the filter still
applies, row by row, to the few rows in the range.
"""

from __future__ import annotations

from public import public
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement


@public
def not_for_lookup(column: ColumnElement) -> ColumnElement:
    """`column`, in a form that filters but cannot pick an index."""
    # COALESCE(x, x) is x, with x's type; no planner looks inside it.
    return func.coalesce(column, column)
