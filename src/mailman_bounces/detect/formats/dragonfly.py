"""DragonFly Mail Agent (dma) bounces.

"There was an error delivering your mail to <address>." followed by the remote
host's answer, then "Message headers follow."  One recipient per bounce.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import cut

NAME = 'dragonfly'

_BANNER_RE = re.compile(r'This is the DragonFly Mail Agent', re.IGNORECASE)
_RECIPIENT_RE = re.compile(r'There was an error delivering your mail to <([^<>\s]+)>\.?',
                           re.IGNORECASE)
_END_RE = re.compile(r'^Message headers follow\.?', re.IGNORECASE | re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text[:2000]):
        return None
    found: list[Found] = []
    body = cut(text, _END_RE)
    matches = list(_RECIPIENT_RE.finditer(body))
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(body)
        diagnostic = body[match.end():end].strip()
        found.append(Found(address=match.group(1), diagnostic=diagnostic or None, permanent=True))
    return Finding(found) if found else None
