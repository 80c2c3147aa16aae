"""GoDaddy hosted mail (secureserver.net).

GoDaddy tags its refusals with ``IBnnn`` codes; the 600s are its per-hour
sending limits.  Source: the provider's published error codes (GoDaddy Help,
"What do the SMTP error codes mean?").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'GoDaddy'
DOMAINS = ('secureserver.net', 'godaddy.com')
MARKERS = ('secureserver.net',)

_TABLE = table((
    ('speeding', (r'\bib6\d\d\b', r'too many recipients this hour')),
    ('blocked', (r'spamhaus',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
