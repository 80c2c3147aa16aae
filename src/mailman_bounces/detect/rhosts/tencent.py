"""Tencent: QQ Mail, Foxmail and Tencent Exmail.

Tencent answers in fixed English sentences followed by a link to its help
pages (service.mail.qq.com).  Source: the provider's published error codes
(QQ Mail help centre, "returned mail" explanations).
"""

from __future__ import annotations

from .common import first_reason, table

NAME = 'Tencent (QQ Mail, Exmail)'
DOMAINS = ('qq.com', 'foxmail.com')
MARKERS = ('service.mail.qq.com', 'exmail.qq.com')

_TABLE = table((
    ('toomanyconn', (r'(?:ip|connection) frequency limited',)),
    ('authfailure', (r'dmarc check failed', r'spf check failed')),
    ('spamdetected', (r'mail content denied', r'suspected spam')),
    ('blocked', (r'bad connection ip',)),
    ('userunknown', (r'mailbox not found',)),
    ('mailboxfull', (r'mailbox is full', r'over quota')),
    ('mesgtoobig', (r'message too large',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    return first_reason(_TABLE, text)
