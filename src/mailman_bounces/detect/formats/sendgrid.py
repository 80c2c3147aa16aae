"""SendGrid DSNs (read by :mod:`.rfc3464`; this module only names them).

"This is an automatically generated message from SendGrid."
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'sendgrid'


def recognise(mail: Mail) -> bool:
    return 'generated message from SendGrid' in mail.text[:1000]
