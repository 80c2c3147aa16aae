"""Barracuda Spam Firewall refusal DSNs (read by :mod:`.rfc3464`; this module
only names them).

"Your message to: <address> was blocked by our Spam Firewall", subject
"**Message you sent blocked by our bulk email filter**".
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'barracuda'


def recognise(mail: Mail) -> bool:
    return 'blocked by our bulk email filter' in mail.subject.lower() or 'by our Spam Firewall' in mail.text[:1000]
