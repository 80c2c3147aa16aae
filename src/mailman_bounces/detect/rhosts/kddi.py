"""KDDI au (ezweb.ne.jp, au.com, and the other au mobile domains).

au's servers accept the recipient and refuse the message after DATA when the
recipient's reception filter (domain or address filter) does not let it in;
that refusal is "550 : User unknown" without the address.  Source: the
provider's published error codes (au support, "returned mail" explanations).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'KDDI au'
DOMAINS = ('ezweb.ne.jp', 'au.com', 'uqmobile.jp')
MARKERS = ('550 : user unknown',)

_TABLE = table((
    ('filtered', (r'\b550 : user unknown\b',)),
    ('mailboxfull', (r'mailbox (?:is )?full', r'exceeded the local limit')),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
