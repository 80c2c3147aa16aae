"""Microsoft Exchange Server 2007 and later, on the customer's premises: DSNs
(read by :mod:`.rfc3464`; this module only names them).

The text part opens "Delivery has failed to these recipients or distribution
lists:" (2007; "... or groups:" from 2010), or the same in the server's
language, and has a "Diagnostic information for administrators:" section.
Exchange Online's DSNs have the same layout and are named by
:mod:`.office365`, tried first.
"""

from __future__ import annotations

from ..mail import Mail

NAME = 'exchange2007'

# The opening words in the languages seen in practice, and the section all share.
_BANNERS = (
    'Delivery has failed to these recipients or',
    '\u00c9chec de la remise pour ces destinataires ou',
    'Il recapito non \u00e8 riuscito per i seguenti destinatari',
    'Die Zustellung an folgende Empf\u00e4nger oder Gruppen ist fehlgeschlagen',
    'Error en la entrega a estos destinatarios o grupos',
    'Diagnostic information for administrators:',
)


def recognise(mail: Mail) -> bool:
    head = mail.text[:2000]
    return any(banner in head for banner in _BANNERS)
