"""m-FILTER (Digital Arts) bounces, common in Japanese companies.

The Japanese text says sending to the addresses below failed; the addresses
follow one per line, then "-------server message" with the remote answer and
"-------SMTP command" with the command it answered.  Most notices name the
product; some sites' templates do not.
"""

from __future__ import annotations

import re

from ..address import clean_address
from ..mail import Finding, Found, Mail

NAME = 'mfilter'

_SERVER_RE = re.compile(r'^-{5,}server message\s*\n(?P<why>.*?)(?:\n-{5,}|\Z)', re.MULTILINE | re.DOTALL)
_COMMAND_RE = re.compile(r'^-{5,}SMTP command\s*\n\s*(\S+)', re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    # The product names itself in most notices; its two section rules are
    # distinctive enough when a site's template leaves the name out.
    if 'm-FILTER' not in text[:2000] and not ('-----server message' in text and '-----SMTP command' in text):
        return None
    server = _SERVER_RE.search(text)
    head = text[:server.start()] if server else text[:2000]
    addresses = [a for a in (clean_address(line.strip()) for line in head.split('\n')) if a]
    why = ' '.join(server.group('why').split()) if server else None
    command = _COMMAND_RE.search(text)
    smtp_command = command.group(1).upper() if command else None
    found = [Found(address=address, diagnostic=why, permanent=True, command=smtp_command)
             for address in addresses]
    return Finding(found) if found else None
