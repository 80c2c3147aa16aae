"""McAfee / Trellix Email Security (formerly MX Logic, mxlogic.net).

"Could not load DRD for domain" means the service has no routing data for the
recipient's domain: a failure on the provider's side.  Source: the provider's
published error codes (McAfee SaaS Email Protection knowledge base).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'McAfee Email Security (MX Logic)'
DOMAINS = ('mxlogic.net', 'mxlogicmx.net')
MARKERS = ()

_TABLE = table((
    ('systemerror', (r'could not load drd',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
