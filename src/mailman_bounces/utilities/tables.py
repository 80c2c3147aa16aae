"""Text tables and times for the command line."""

from __future__ import annotations

from datetime import datetime

from public import public


@public
def table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    """The lines of a table: left-aligned columns, as wide as their widest
    cell, without trailing blanks."""
    cells = [header, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[index]) for row in cells)
              for index in range(len(header))]
    return ['  '.join(cell.ljust(width) for cell, width
                      in zip(row, widths, strict=True)).rstrip()
            for row in cells]


@public
def when(value: datetime | None) -> str:
    """A (naive UTC) time to the second, or ``-`` for none."""
    return '-' if value is None else f'{value:%Y-%m-%d %H:%M:%S}'
