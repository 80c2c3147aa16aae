"""Cox Communications (cox.net).

Cox ends each refusal with ``AUP#`` and a code naming the cause (``CXBL``,
``CXDNS``, ``CDRBL`` ...).  Source: the provider's published error codes
(cox.com, "Email error codes").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Cox Communications'
DOMAINS = ('cox.net', 'cox.com')
MARKERS = ('aup#', 'cox.com/')

_TABLE = table((
    # CXBL, CDRBL: the sending IP is on Cox's own or dynamic block list;
    # IPBLnnnn: on a third-party block list.
    ('blocked', (r'\bcxbl\b', r'\bcdrbl\b', r'\bipbl\d{3,4}\b')),
    ('requireptr', (r'\bcxdns\b',)),            # the sending IP has no valid reverse DNS
    ('rejected', (r'\bcxsndr\b',)),             # the sender's address or domain is refused
    ('syntaxerror', (r'\bcxsmtp\b',)),          # SMTP protocol violation
    ('toomanyconn', (r'\bcxcnct\b',)),          # too many connections from the IP
    ('spamdetected', (r'\bcxmj\b', r'\burlbl\d{3}\b')),  # junk content, block-listed URL
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
