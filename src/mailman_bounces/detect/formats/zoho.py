"""Zoho Mail's bounces (``X-Mailer: Zoho Mail``).

Exim's opening sentences, then one line per recipient: ``address Invalid
Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <address>... User Unknown`` (the
SMTP reply code, then the remote answer), or ``address Error, ERROR_CODE :421,
ERROR_CODE :, Host not reachable.``.  A temporary reply code in a notice that
says "This is a permanent error" means Zoho stopped retrying: the delivery
time expired.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail

NAME = 'zoho'

_LINE_RE = re.compile(r'^(?P<address>\S+@\S+) (?P<summary>[^,\n]+), ERROR_CODE :(?P<code>\d{3})?, '
                      r'ERROR_CODE :(?P<answer>.*)$', re.MULTILINE)
_PERMANENT_RE = re.compile(r'This is a permanent error', re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    if 'zoho' not in mail.header('x-mailer').lower() and 'zoho' not in mail.sender:
        return None
    text = mail.text
    permanent = bool(_PERMANENT_RE.search(text, 0, 2000))
    found = [_recipient(match, permanent) for match in _LINE_RE.finditer(text)]
    return Finding(found) if found else None


def _recipient(match: re.Match[str], permanent: bool) -> Found:
    code = match.group('code')
    answer = match.group('answer').strip(' ,')
    diagnostic = ' '.join(filter(None, [code, answer])) or match.group('summary')
    gave_up = permanent and code is not None and code.startswith('4')
    return Found(address=match.group('address'), diagnostic=diagnostic, reply_code=code,
                 action='failed' if permanent else None, permanent=permanent,
                 reason='expired' if gave_up else None)
