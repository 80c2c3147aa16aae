"""SurfControl E-mail Filter DSNs (read by :mod:`.rfc3464`; this module only
names them).  Signed ``X-Mailer: SurfControl E-mail Filter``.
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'surfcontrol'


def recognise(mail: Mail) -> bool:
    return 'surfcontrol' in mail.header('x-mailer').lower()
