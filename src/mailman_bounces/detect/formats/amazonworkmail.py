"""Amazon WorkMail DSNs (read by :mod:`.rfc3464`; this module only names them).

WorkMail signs its notices ``X-Mailer: Amazon WorkMail``; the text part says "An
error occurred while trying to deliver the mail to the following recipients:".
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'amazonworkmail'


def recognise(mail: Mail) -> bool:
    return 'amazon workmail' in mail.header('x-mailer').lower()
