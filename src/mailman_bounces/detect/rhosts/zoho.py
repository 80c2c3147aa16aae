"""Zoho Mail (zoho.com, zohomail.com).

Source: the provider's published error codes (Zoho Mail help, "Email bounce
error codes").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Zoho Mail'
DOMAINS = ('zoho.com', 'zohomail.com', 'zoho.eu', 'zoho.in', 'zohomail.eu', 'zohomail.in')
MARKERS = ()

_TABLE = table((
    ('userunknown', (r'user does not exist',)),
    ('spamdetected', (r'flagged as spam',)),
    ('authfailure', (r'dmarc policy',)),
    ('norelaying', (r'relaying disallowed',)),
    ('mesgtoobig', (r'message size exceeds',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
