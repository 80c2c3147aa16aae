"""Facebook's DSNs for mail to facebook.com addresses (read by :mod:`.rfc3464`;
this module only names them).  "This message was created automatically by
Facebook."
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'facebook'


def recognise(mail: Mail) -> bool:
    return 'created automatically by Facebook' in mail.text[:1000]
