"""What the provider modules share: how a table is written and how it is matched.

A provider module ("rhost", the receiving host's side of a bounce) describes one
mail provider's own answers: the error codes and wordings it publishes for its
refusals.  Each module defines

``NAME``
    the provider, as the documentation names it;
``DOMAINS``
    the provider's host and mail domains; the provider is selected when the
    remote MTA or the recipient's address is in one of them (``outlook.com``
    covers ``mx1.outlook.com`` and ``user@outlook.com``);
``MARKERS``
    lower-case text only this provider writes in its answers (the start of its
    codes, ``ofr`` of ``OFR_506``, or a link such as ``postmaster.facebook.com``),
    so a bounce is recognised even when no host name was recorded.  Plain
    substrings: they are looked for in every diagnostic, so they must be cheap;
    the table that follows is what has to be precise;
``reason(text, command)``
    the reason the provider's table gives for the lower-cased diagnostic *text*
    (*command* is the SMTP command it answered, when known), or ``None`` to let
    the generic phrase tables decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: (reason, compiled alternation of the reason's codes and phrases), in order.
Table = tuple[tuple[str, re.Pattern[str]], ...]


def table(rows: Iterable[tuple[str, tuple[str, ...]]]) -> Table:
    """Compile ``(reason, (pattern, ...))`` rows; the first matching row wins."""
    return tuple((reason, re.compile('|'.join(f'(?:{pattern})' for pattern in patterns)))
                 for reason, patterns in rows)


def first_reason(rows: Table, text: str) -> str | None:
    """The reason of the first row with a pattern found in *text*."""
    for reason, pattern in rows:
        if pattern.search(text):
            return reason
    return None
