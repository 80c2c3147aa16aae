"""Tables of benchmark results written into the docs.

A table lives in a doc between ``.. NAME-begin`` and ``.. NAME-end``, as an
indented block; the benchmark that measured it rewrites it (``--docs``),
and `tests/test_readme.py` checks that each block of a saved results file
is that file's text, so no doc quotes a run that is not the saved one.
"""

from __future__ import annotations

import textwrap


def replace_block(text: str, name: str, table: str) -> str:
    """`text` with block `name` holding `table` (unchanged if `text` has
    no such block)."""
    begin, end = f'.. {name}-begin', f'.. {name}-end'
    if begin not in text or end not in text:
        return text
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    indented = '\n'.join('    ' + line if line else ''
                         for line in table.splitlines())
    return f'{head}{begin}\n\n{indented}\n\n{end}{tail}'


def block(text: str, name: str) -> str | None:
    """The table in block `name` of `text` (None if there is none)."""
    begin, end = f'.. {name}-begin', f'.. {name}-end'
    if begin not in text or end not in text:
        return None
    inside = text.split(begin, 1)[1].split(end, 1)[0]
    return textwrap.dedent(inside).strip('\n')
