"""NTT DoCoMo (docomo.ne.jp, mopera.net).

DoCoMo answers an unknown address at RCPT time, and a message its recipient's
reception settings refuse after DATA, with the same words "550 Unknown user"
(the generic rule for "unknown user" after DATA tells them apart); its own
wordings are "552 Too much mail data" for a full mailbox and "552 Too many
recipients".  Source: the provider's published
error codes (NTT DoCoMo, "returned mail" explanations for senders).
"""

from __future__ import annotations

NAME = 'NTT DoCoMo'
DOMAINS = ('docomo.ne.jp', 'mopera.net', 'docomo.blackberry.com')
MARKERS = ()


def reason(text: str, command: str | None = None) -> str | None:
    if 'too much mail data' in text:
        return 'mailboxfull'
    if 'too many recipients' in text:
        return 'toomanyconn'
    return None
