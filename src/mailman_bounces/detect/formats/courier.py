"""Courier mail server DSNs (read by :mod:`.rfc3464`; this module only names them).

The text part opens "This is a delivery status notification from <host>,
running the Courier mail server, version ...".
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'courier'


def recognise(mail: Mail) -> bool:
    return 'running the Courier mail server' in mail.text[:1000]
