"""amavis (amavisd-new) content-filter DSNs (read by :mod:`.rfc3464`; this
module only names them).

Sent from "Content-filter at <host>"; "The message WAS NOT relayed to:" or a
subject naming the verdict ("Considered UNSOLICITED BULK EMAIL ...").
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'amavis'


def recognise(mail: Mail) -> bool:
    return mail.sender.lstrip('"').startswith('content-filter at ') or 'WAS NOT relayed to' in mail.text[:1000]
