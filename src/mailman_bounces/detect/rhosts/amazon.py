"""Amazon SES as the receiving side: its SMTP submission interface
(email-smtp.*.amazonaws.com) and its inbound mail servers (inbound-smtp).

The submission interface refuses a message whose headers it cannot handle with
"554 Transaction failed: ..." and unverified senders with "Email address is not
verified".  Source: the provider's published error codes (Amazon SES Developer
Guide, "SMTP response codes").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Amazon SES'
DOMAINS = ('amazonaws.com', 'amazonses.com')
MARKERS = ('transaction failed:',)

_TABLE = table((
    ('contenterror', (r'transaction failed: (?:duplicate|illegal|invalid|missing) .{0,20}header',
                      r'transaction failed: .{0,40}header')),
    ('rejected', (r'email address (?:is )?not verified',)),
    ('speeding', (r'maximum sending rate exceeded', r'daily message quota exceeded')),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
