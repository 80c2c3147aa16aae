"""Google: Gmail, Google Workspace and Google Groups as the receiving side.

Google's inbound servers answer with fixed English sentences, each documented
with its status code.  Source: the provider's published error codes (Google
Workspace Admin Help, "SMTP error reference").
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Google (Gmail, Google Workspace, Google Groups)'
DOMAINS = ('google.com', 'googlemail.com', 'gmail.com', 'googlegroups.com')
MARKERS = ('gsmtp', 'support.google.com/')

_TABLE = table((
    ('speeding', (r'receiving mail (?:too quickly|at a rate that prevents)',
                  r'(?:daily )?user sending (?:quota|limit) exceeded', r'email quota exceeded')),
    ('mailboxfull', (r'account that you tried to reach is over quota', r'out of storage space')),
    ('suspend', (r'account that you tried to reach is (?:disabled|inactive)',)),
    ('userunknown', (r'account that you tried to reach does not exist',)),
    ('notcompliantrfc', (r'not rfc ?5322 compliant', r'multiple addresses in from',
                         r'missing a valid message-id')),
    ('authfailure', (r'dmarc policy', r'sender is unauthenticated', r'requires all senders to authenticate',
                     r'spf record with a hard fail', r'unauthenticated email')),
    ('requireptr', (r'does not have a ptr record',)),
    ('badreputation', (r'low reputation of the sending',)),
    ('spamdetected', (r'likely unsolicited mail', r'rejected due to spam classification')),
    ('blocked', (r'not authorized to send email directly to our servers',
                 r'unusual rate of unsolicited mail originating from your ip')),
    ('securityerror', (r'must issue a starttls command first',)),
    ('policyviolation', (r'has a policy that prohibited the mail',)),
    # Gmail refuses a "Send mail as" address whose settings no longer verify.
    ('rejected', (r"'send mail as'",)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
