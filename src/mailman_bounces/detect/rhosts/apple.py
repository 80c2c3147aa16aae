"""Apple iCloud Mail (icloud.com, me.com, mac.com).

Source: the provider's published error codes (Apple Support, "iCloud Mail
server error messages", HT204137).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Apple iCloud Mail'
DOMAINS = ('icloud.com', 'me.com', 'mac.com', 'apple.com')
MARKERS = ('ht204137',)

_TABLE = table((
    ('hasmoved', (r'recipient no longer on server',)),
    ('userunknown', (r'inactive email address', r'user does not exist')),
    ('mailboxfull', (r'user is over quota',)),
    ('authfailure', (r'dmarc policy',)),
    ('blocked', (r'rejected due to listing in',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
