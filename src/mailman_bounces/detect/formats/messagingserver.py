"""Sun Java System / Oracle Communications Messaging Server DSNs (read by
:mod:`.rfc3464`; this module only names them).

"This report relates to a message you sent with the following header fields:"
and subjects such as "Delivery Notification: Delivery has failed".
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'messagingserver'


def recognise(mail: Mail) -> bool:
    return 'This report relates to a message you sent' in mail.text[:1000]
