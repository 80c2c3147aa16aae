"""Symantec Email Security.cloud (MessageLabs) DSNs (read by :mod:`.rfc3464`;
this module only names them).

"This is the mail delivery agent at Symantec Email Security.cloud." (formerly
"... at messagelabs.com").
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'messagelabs'


def recognise(mail: Mail) -> bool:
    head = mail.text[:1000]
    return 'mail delivery agent at Symantec Email Security.cloud' in head or \
        'mail delivery agent at messagelabs.com' in head
