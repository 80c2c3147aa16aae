"""Symantec Email Security.cloud, formerly MessageLabs (Broadcom).

Source: the provider's published error codes (Symantec Email Security.cloud
"SMTP error codes" knowledge base).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Symantec Email Security.cloud (MessageLabs)'
DOMAINS = ('messagelabs.com', 'messagelabs.net')
MARKERS = ('messagelabs', 'symantec cloud', 'symanteccloud')

_TABLE = table((
    ('securityerror', (r'turn on smtp authentication', r'authentication required')),
    ('norelaying', (r'use me \S* ?as a relay',)),
    ('authfailure', (r'\bspf\b',)),
    ('blocked', (r'connection rejected by policy', r'rejected by symantec ?cloud')),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
