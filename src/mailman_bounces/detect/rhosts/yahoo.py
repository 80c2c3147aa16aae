"""Yahoo Inc.: Yahoo Mail, AOL Mail and their shared inbound servers.

Yahoo tags its refusals with a bracketed code (``[TSS04]``, ``[BL21]``) that
names the cause, and AOL's older servers used parenthesised ones (``(DYN:T1)``).
Source: the providers' published error codes (postmaster.yahooinc.com
"SMTP error codes", formerly postmaster.verizonmedia.com; AOL's postmaster
error pages).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Yahoo Inc. (Yahoo, AOL)'
DOMAINS = ('yahoodns.net', 'yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com', 'aim.com',
           'yahoo.co.uk', 'yahoo.ca', 'yahoo.fr', 'yahoo.de', 'yahoo.es', 'yahoo.it', 'yahoo.in')
MARKERS = ('[ts0', '[tss', '[bl2', '[ph01]', 'postmaster.yahooinc.com', 'postmaster.verizonmedia.com',
           '(dyn:', '(rly:', '(rtr:', '(hvu:', '(con:', '(dns:nr)')

_TABLE = table((
    # [TS03], [TSS09]: all mail from the IP is permanently deferred; [BL21-23]:
    # the IP is on a Spamhaus list.  AOL: (DYN:T1) dynamic IP, (RLY:Bn), (RTR:BL),
    # (HVU:Bn), (CON:Bn) the IP is on AOL's block lists.
    ('blocked', (r'\[ts03\]', r'\[tss09\]', r'\[bl2[1-3]\]', r'permanently deferred',
                 r'\(dyn:t1\)', r'\(rly:b\d\)', r'\(rtr:b[bl]\)', r'\(hvu:b\d\)', r'\(con:b\d\)')),
    # AOL (DNS:NR): the connecting IP has no reverse DNS.
    ('requireptr', (r'\(dns:nr\)',)),
    # [TS01], [TS02], [TSS04], [TSS11]: deferred because of the volume of, or
    # complaints about, the mail from this IP (Yahoo's reputation system).
    ('badreputation', (r'\[ts0[12]\]', r'\[tss0[4-7]\]', r'\[tss1[01]\]', r'user complaints')),
    ('authfailure', (r'sender is unauthenticated', r'requires all senders to authenticate',
                     r'dmarc')),
    # 554 5.7.9 and [PH01]: "not accepted for policy reasons".
    ('policyviolation', (r'\[ph01\]', r'not accepted for policy reasons')),
    ('suspend', (r'this mailbox is disabled', r'\(554\.30\)')),
    ('userunknown', (r"this user doesn.t have an? \S+ account", r'mailbox not found')),
    ('mailboxfull', (r'over quota', r'mailbox (?:is )?full')),
    ('toomanyconn', (r'max message per connection', r'too many connections')),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
