"""Mimecast email security gateways.

Mimecast answers with short phrases and a link to its documentation of them.
Source: the provider's published error codes (Mimecast community, "Mimecast
SMTP error codes").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Mimecast'
DOMAINS = ('mimecast.com', 'mimecast.co.za', 'mimecast-offshore.com')
MARKERS = ('mimecast',)

_TABLE = table((
    # The recipient organisation's policy does not permit the sending network.
    ('policyviolation', (r'host network not allowed', r'rejected by (?:attachment|content) polic')),
    ('spamdetected', (r'spamsignature', r'spam signature')),
    ('virusdetected', (r'virus (?:signature|detected)',)),
    ('authfailure', (r'(?:spf|dmarc) (?:check )?fail',)),
    ('userunknown', (r'invalid recipient',)),
    ('mesgtoobig', (r'message (?:is )?too large',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
