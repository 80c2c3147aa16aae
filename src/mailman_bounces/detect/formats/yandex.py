"""Yandex.Mail DSNs (read by :mod:`.rfc3464`; this module only names them).

Sent from mailer-daemon@yandex.ru, worded in Russian and English.
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'yandex'


def recognise(mail: Mail) -> bool:
    return mail.sender.rstrip('>').endswith(('@yandex.ru', '@yandex.com', '@yandex.net'))
