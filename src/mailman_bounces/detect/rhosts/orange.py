"""Orange (Wanadoo) and La Poste, France.

Both end their answers with a numbered code (``OFR_506``, ``OFR006_102``,
``ODR_416``, ``LPN007_416``, ``LPNAAA_426``) whose last three digits name the
cause, and word the answer in French and English.  La Poste uses the same
numbers for the same causes (416 invalid recipient in both).  Source: the providers' published error codes
(Orange postmaster "codes d'erreur", La Poste's messaging help).
"""

from __future__ import annotations

import re

from .common import first_reason, table

NAME = 'Orange, Wanadoo, La Poste'
DOMAINS = ('orange.fr', 'wanadoo.fr', 'laposte.net', 'voila.fr')
MARKERS = ('ofr', 'odr', 'lpn')
_CODE_RE = re.compile(r'\b(?:ofr|odr|lpn)(?:\d*|aaa)_(\d{3})\b')

CODES = {
    '102': 'blocked',       # source IP blocked after a spam incident
    '416': 'userunknown',   # invalid recipient address
    '426': 'suspend',       # the recipient's account is blocked
    '505': 'systemerror',   # service refused, try again later
    '506': 'spamdetected',  # message rejected as spam
}

# The bilingual wording, for codes not in the table above.
_TABLE = table((
    ('blocked', (r'adresse ip source bloqu', r'client host blocked')),
    ('userunknown', (r'destinataire invalide',)),
    ('suspend', (r'compte du destinataire est bloqu',)),
    ('mailboxfull', (r'boite (?:aux lettres )?(?:du destinataire )?(?:est )?pleine',)),
    ('systemerror', (r'service refus',)),
))


def reason(text: str, command: str | None = None) -> str | None:
    code = _CODE_RE.search(text)
    if code and code.group(1) in CODES:
        return CODES[code.group(1)]
    return first_reason(_TABLE, text)
