"""Notices saying "Unable to deliver message to the following address(es)".

Written by unidentified qmail-derived MTAs (set-of-emails and Sisimai call
them X2), so the module is named after the notice.

Two layouts.  "Message from <host>." and "Unable to deliver message to the
following address(es).", then qmail-style ``<address>:`` paragraphs up to
"--- Original message follows.".  Or "NOTICE: Delivery Failure.", "Your delivery
to the following address has been failed.", then per recipient "Delivery
failed: <address>", the remote host, "Remote host said[Response Message]: ..."
and "STEP: <SMTP command> SEND".
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from .common import cut, read_blocks

NAME = 'unable_to_deliver'

_BANNER_RE = re.compile(r'^Message from\s+\S+\.\s*\nUnable to deliver message to the following address\(es\)\.',
                        re.IGNORECASE | re.MULTILINE)
_END_RE = re.compile(r'^--- Original message follows', re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE_RE = re.compile(r'^<(?P<address>[^<>\s]+@[^<>\s]+)>:\s*(?P<rest>.*)$')
_NOTICE_RE = re.compile(r'Your delivery to the following address(?:es)? ha(?:s|ve) been failed', re.IGNORECASE)
_FAILED_RE = re.compile(r'^Delivery failed: (?P<address>\S+@\S+)\s*\n(?P<block>(?:.+\n?)*)', re.MULTILINE)
_SAID_RE = re.compile(r'^Remote host said(?:\[Response Message\])?:\s*(?P<answer>.+)$', re.IGNORECASE | re.MULTILINE)
_STEP_RE = re.compile(r'^STEP: (?P<command>[A-Z]+)', re.MULTILINE)


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    if _BANNER_RE.search(text, 0, 2000):
        found = read_blocks(cut(text, _END_RE), _ADDRESS_LINE_RE)
    elif _NOTICE_RE.search(text, 0, 2000):
        found = [_failed(match) for match in _FAILED_RE.finditer(text)]
    else:
        return None
    for item in found:
        item.permanent = True
    return Finding(found) if found else None


def _failed(match: re.Match[str]) -> Found:
    block = match.group('block')
    said = _SAID_RE.search(block)
    step = _STEP_RE.search(block)
    return Found(address=match.group('address'),
                 diagnostic=said.group('answer').strip() if said else ' '.join(block.split()) or None,
                 command=step.group('command') if step else None)
