"""Microsoft: Outlook.com, Hotmail, Live and Exchange Online (Microsoft 365).

Exchange Online's enhanced status codes are finer than RFC 3463 (``5.7.606``,
``4.4.312``) and Outlook.com tags its refusals with an ``(Snnnn)`` code.
Source: the provider's published error codes (Microsoft Learn, "Email
non-delivery reports and SMTP errors in Exchange Online"; Outlook.com's
postmaster pages, sender.office.com).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Microsoft (Outlook.com, Exchange Online)'
DOMAINS = ('outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'onmicrosoft.com',
           'exchangelabs.com')
MARKERS = ('(s3', 'resolver.adr.', 'resolver.rst.', 'postmaster.live.com', 'sender.office.com',
           'outlook.com')

_TABLE = table((
    # 4.4.310: the DNS domain does not exist; 4.4.312: DNS query failed (also
    # reported as 5.4.312 once the message expired).
    ('hostunknown', (r'\b[45]\.4\.310\b',)),
    ('networkerror', (r'\b[45]\.4\.312\b',)),
    # 5.7.606-5.7.649: the sending IP is on Microsoft's block list; (S3140),
    # (S3150): "part of their network is on our block list"; 5.7.705, 5.7.708,
    # 5.7.750: the sending tenant or IP is blocked.
    ('blocked', (r'\b5\.7\.6(?:0[6-9]|[1-4]\d)\b', r'\(s31[45]0\)', r'\b5\.7\.7(?:05|08|50)\b',
                 r"messages from \S+ weren.t sent")),
    # 4.7.650 and (S3113)-(S3115): rate limited because of the IP's reputation.
    ('badreputation', (r'\b[45]\.7\.65\d\b', r'\(s311[3-5]\)')),
    # 5.7.509: DMARC; 5.7.515: the From domain does not meet the required
    # authentication level (SPF, DKIM, DMARC).
    ('authfailure', (r'\b5\.7\.5(?:09|15)\b',)),
    ('securityerror', (r'\b5\.7\.57\b',)),
    # 5.1.10 RecipientNotFound and 5.1.1 RecipNotFound (and, in the generic
    # tables, 5.4.1 "Recipient address rejected: Access denied", directory-based
    # edge blocking): the recipient is not in the directory.
    ('userunknown', (r'resolver\.adr\.recip(?:ient)?notfound', r'\b5\.1\.10\b')),
    ('exceedlimit', (r'resolver\.rst\.recipsizelimit',)),
    ('speeding', (r'\b5\.2\.12[12]\b',)),
    ('rejected', (r'bad outbound sender',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
