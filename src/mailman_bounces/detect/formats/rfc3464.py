"""RFC 3464 delivery status notifications (and RFC 6533 global DSNs).

The standard: a multipart/report whose message/delivery-status part holds one
per-message field block and one block per recipient (Final-Recipient,
Original-Recipient, Action, Status, Remote-MTA, Diagnostic-Code).  Most MTAs
(Postfix, Sendmail, Exchange, Office 365, Gmail ...) send these; this module also
reads the delivery-status fields when an MTA put them in a text part.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from ..message import Part, parse_fields
from .common import diagnostic_near

NAME = 'rfc3464'

DSN_TYPES = ('message/delivery-status', 'message/global-delivery-status')
_RECIPIENT_FIELDS = ('final-recipient', 'original-recipient', 'x-actual-recipient')
_INLINE_DSN_RE = re.compile(r'^(?:final|original)-recipient:', re.IGNORECASE | re.MULTILINE)
_RFC822_PREFIX_RE = re.compile(r'\A\s*[\w.-]+\s*;\s*')


def parse(mail: Mail) -> Finding | None:
    parts = mail.parts_of_type(*DSN_TYPES)
    recipients: list[Found] = []
    for part in parts:
        recipients.extend(read_delivery_status(part.text()))
    if not parts:
        body = _inline_dsn_text(mail)
        if body is None:
            return None
        recipients = read_delivery_status(body)
    if not recipients:
        return None
    enrich_from_text(mail, recipients)
    return Finding(recipients)


def _inline_dsn_text(mail: Mail) -> str | None:
    """Delivery-status fields written into a text part (some MTAs and gateways)."""
    for text in mail.all_texts(3):
        match = _INLINE_DSN_RE.search(text)
        if match:
            start = text.rfind('\n\n', 0, match.start())
            return text[start + 1 if start >= 0 else 0:]
    return None


def read_delivery_status(body: str) -> list[Found]:
    """Parse a delivery-status body into one :class:`Found` per recipient block."""
    blocks = _blocks(body)
    per_message: dict[str, str] = {}
    recipients: list[Found] = []
    for fields in blocks:
        names = {name for name, _ in fields}
        if not names.intersection(_RECIPIENT_FIELDS):
            if not recipients:
                per_message.update((name, value) for name, value in fields)
            continue
        recipients.extend(_recipients_of_block(fields, per_message))
    return recipients


def _blocks(body: str) -> list[list[tuple[str, str]]]:
    """Field blocks separated by blank lines; a block holding two Final-Recipient
    fields (blank line missing) is split before the second."""
    blocks: list[list[tuple[str, str]]] = []
    for chunk in re.split(r'\n[ \t]*\n', body.strip('\n')):
        fields = parse_fields(chunk)
        current: list[tuple[str, str]] = []
        for name, value in fields:
            if name == 'final-recipient' and any(n == 'final-recipient' for n, _ in current):
                blocks.append(current)
                current = []
            current.append((name, value))
        if current:
            blocks.append(current)
    return blocks


def _recipients_of_block(fields: list[tuple[str, str]], per_message: dict[str, str]) -> list[Found]:
    values: dict[str, str] = {}
    for name, value in fields:
        values.setdefault(name, value)
    final = _address_value(values.get('final-recipient'))
    original = _address_value(values.get('x-actual-recipient')) or \
        _address_value(values.get('original-recipient'))
    remote = values.get('remote-mta') or per_message.get('received-from-mta')
    diagnostic = values.get('diagnostic-code')
    return [Found(
        address=final or original,
        original=original if final else None,
        action=values.get('action'),
        status=values.get('status'),
        diagnostic=diagnostic,
        remote_mta=remote,
    )]


def _address_value(value: str | None) -> str | None:
    if not value:
        return None
    return _RFC822_PREFIX_RE.sub('', value, count=1).strip()


def enrich_from_text(mail: Mail, recipients: list[Found]) -> None:
    """Give recipients without a Diagnostic-Code the explanation from the text part."""
    missing = [found for found in recipients if not found.diagnostic]
    if not missing:
        return
    text = mail.text
    for found in missing:
        found.diagnostic = diagnostic_near(text, found.address, found.original)


def first_dsn_part(mail: Mail) -> Part | None:
    parts = mail.parts_of_type(*DSN_TYPES)
    return parts[0] if parts else None
