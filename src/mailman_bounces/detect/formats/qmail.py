"""qmail (and netqmail, notqmail, s/qmail, vpopmail) bounces.

"Hi. This is the qmail-send program at ...", then one ``<address>:`` line per
recipient followed by the explanation, ending with qmail's status code in
``(#5.1.1)`` form.  qmail only bounces when it has given up, so failures are
permanent unless the code says otherwise.
"""

from __future__ import annotations

import re

from ..mail import Finding, Mail
from .common import cut, read_blocks

NAME = 'qmail'

_BANNER_RE = re.compile(
    r"(?:this is the qmail-send program|i'm afraid i wasn't able to deliver your message|"
    r'this is the qmail-\w+ program|unable to deliver your message to the following addresses)',
    re.IGNORECASE,
)
_END_RE = re.compile(r'^--- (?:Below this line is|Enclosed is|Undeliverable message follows|'
                     r'Attached is)', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^<(?P<address>[^<>\s]+@[^<>\s]+)>:\s*(?P<rest>.*)$')


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if not _BANNER_RE.search(text[:3000]):
        return None
    found = read_blocks(cut(text, _END_RE), _ADDRESS_LINE_RE)
    for item in found:
        item.permanent = True
    return Finding(found) if found else None
