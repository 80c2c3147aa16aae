"""What the reports about a tracked copy add up to, and a post's counts.

A tracked copy starts ``sent``.  Each DSN record about it moves it to the
state its action names, unless the copy is already in a state that says
more: a failure says the most (the message is lost), then ``delivered``
(the final mailbox has it), then ``relayed`` and ``expanded`` (handed to a
next hop without DSN, or to an alias's members: the last word the sender
will get), then ``delayed``.  MDNs say what the reader did, beside that
state.  Pure: no Mailman imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    'COUNTS',
    'SENT',
    'STATES',
    'Copy',
    'count_groups',
    'next_state',
]

SENT = 'sent'
# From the least to the most a report can say.
STATES = (SENT, 'delayed', 'expanded', 'relayed', 'delivered', 'failed')
_RANK = {state: rank for rank, state in enumerate(STATES)}
# expanded and relayed say as much: the last word from this path.
_RANK['expanded'] = _RANK['relayed']
# The counts of a post, in the order they are shown.
COUNTS = ('recipients', 'delivered', 'relayed', 'delayed', 'failed',
          'displayed', 'no_answer')


def next_state(current: str, action: str) -> str:
    """The state of a copy in `current` after a DSN record with `action`
    (one of `mailman_bounces.detect.tracking.ACTIONS`)."""
    if action not in _RANK:
        return current
    return action if _RANK[action] >= _RANK.get(current, 0) else current


@dataclass(frozen=True)
class Copy:
    """What is known of one recipient's copy."""

    state: str
    disposition: str | None = None


def count_groups(groups: Iterable[tuple[Copy, int]]) -> dict[str, int]:
    """The counts of a post's copies (see `COUNTS`), given as (copy, how
    many such copies): ``relayed`` counts expanded copies too;
    ``no_answer`` the copies nothing came back about (no DSN, no MDN)."""
    counts = dict.fromkeys(COUNTS, 0)
    for copy, number in groups:
        counts['recipients'] += number
        state = 'relayed' if copy.state == 'expanded' else copy.state
        if state in counts:
            counts[state] += number
        if copy.disposition == 'displayed':
            counts['displayed'] += number
        if copy.state == SENT and copy.disposition is None:
            counts['no_answer'] += number
    return counts
