"""PowerMTA DSNs (read by :mod:`.rfc3464`; this module only names them).

"Hello, this is the mail server on <host>." and "I am sending you this message
to inform you on the delivery status of a message you previously sent."
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'powermta'


def recognise(mail: Mail) -> bool:
    return 'this is the mail server on' in mail.text[:300] and 'inform you on the delivery status' in mail.text[:1000]
