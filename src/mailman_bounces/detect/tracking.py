"""Reading the reports message tracking asks for: DSNs and MDNs.

Two kinds of ``multipart/report`` come back for a tracked post:

* ``report-type=delivery-status`` (RFC 3464): one record per recipient,
  whose ``Action`` is ``delivered``, ``relayed``, ``expanded``, ``delayed``
  or ``failed``; the per-message part carries the ``Original-Envelope-Id``
  (the ENVID the post was sent with);
* ``report-type=disposition-notification`` (RFC 8098): a read receipt,
  whose ``Disposition`` ends in ``displayed``, ``deleted``, ``dispatched``
  or ``processed``, about ``Final-Recipient``.

`parse_report` reads either into a `TrackingReport`; the bounce engine
(`mailman_bounces.detect.detect`) keeps reading failures.  Pure: standard
library only.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import HeaderParser
from email.utils import parsedate_to_datetime

from .address import clean_address
from .engine import normalise_action
from .message import MAX_INPUT_BYTES
from .status import normalise_status

__all__ = [
    'ACTIONS',
    'DISPOSITIONS',
    'DSN',
    'MDN',
    'SUCCESS_ACTIONS',
    'TrackingRecord',
    'TrackingReport',
    'parse_report',
]

DSN = 'dsn'
MDN = 'mdn'
# RFC 3464's actions, and RFC 8098's disposition types (with RFC 3798's
# older ones, which some clients still send).
ACTIONS = ('failed', 'delayed', 'delivered', 'relayed', 'expanded')
SUCCESS_ACTIONS = ('delivered', 'relayed', 'expanded')
DISPOSITIONS = ('displayed', 'deleted', 'dispatched', 'processed',
                'denied', 'failed')
# A report names at most this many recipients (a tracked copy has one).
MAX_RECORDS = 100
MAX_DIAGNOSTIC = 1000

_TYPED = re.compile(r'^\s*[\w.-]+\s*;\s*(?P<value>.*)$', re.DOTALL)
_SPACE = re.compile(r'\s+')


@dataclass(frozen=True, slots=True)
class TrackingRecord:
    """What one report says about one recipient."""

    kind: str                   # DSN or MDN
    value: str                  # the action or the disposition type
    address: str | None = None  # Final-Recipient
    original: str | None = None  # Original-Recipient
    status: str | None = None
    diagnostic: str | None = None
    # When the reporter says it happened (naive UTC): a DSN record's
    # Arrival-Date or Last-Attempt-Date, an MDN's Date.
    reported: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrackingReport:
    """A DSN or an MDN, read."""

    kind: str
    envelope_id: str | None
    original_message_id: str | None
    records: tuple[TrackingRecord, ...]
    # Recipient blocks whose action was not one of `ACTIONS` (left to the
    # bounce engine, which reads more).
    unread: int = 0

    @property
    def failures(self) -> tuple[TrackingRecord, ...]:
        """The DSN records of recipients whose delivery failed."""
        return tuple(r for r in self.records
                     if r.kind == DSN and r.value == 'failed')


def _typed_value(text: str | None) -> str | None:
    """``rfc822; anne@example.org`` is ``anne@example.org``."""
    if not text:
        return None
    text = _SPACE.sub(' ', str(text)).strip()
    match = _TYPED.match(text)
    value = (match['value'] if match else text).strip().strip('<>')
    return value or None


def _address(text: str | None) -> str | None:
    # Final-Recipient and Original-Recipient, read as the bounce engine
    # reads them.
    return clean_address(str(text)) if text else None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(str(text).strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _diagnostic(text: str | None) -> str | None:
    value = _typed_value(text)
    return value[:MAX_DIAGNOSTIC] if value else None


def _status(text: str | None) -> str | None:
    # The Status field, read as the bounce engine reads it.
    return normalise_status(str(text)) if text else None


def _report_part(msg: Message, report_type: str,
                 content_type: str) -> Message | None:
    if msg.get_content_type() != 'multipart/report':
        return None
    if msg.get_param('report-type', '').lower() != report_type:
        return None
    for part in msg.get_payload() or ():
        if isinstance(part, Message) and (
                part.get_content_type() == content_type):
            return part
    return None


def _field_blocks(part: Message) -> list[Message]:
    """The blocks of fields of a report part, however the parser saw it
    (a list of messages, or text)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part.get_payload(decode=True) or b''
    blocks = re.split(rb'\r?\n\s*\r?\n', text.strip())
    return [HeaderParser().parsestr(block.decode('utf-8', 'replace'))
            for block in blocks if block.strip()]


def _dsn(msg: Message) -> TrackingReport | None:
    part = _report_part(msg, 'delivery-status', 'message/delivery-status')
    if part is None:
        return None
    blocks = _field_blocks(part)
    if not blocks:
        return None
    per_message, recipients = blocks[0], blocks[1:MAX_RECORDS + 1]
    arrival = _time(per_message.get('arrival-date'))
    records, unread = [], 0
    for block in recipients:
        # As the bounce engine reads it (``Action: failure`` is failed).
        action = normalise_action(block.get('action'))
        if action not in ACTIONS:
            unread += 1
            continue
        records.append(TrackingRecord(
            DSN, action, _address(block.get('final-recipient')),
            _address(block.get('original-recipient')),
            _status(block.get('status')),
            _diagnostic(block.get('diagnostic-code')),
            _time(block.get('last-attempt-date')) or arrival))
    return TrackingReport(
        DSN, _typed_value(per_message.get('original-envelope-id')),
        None, tuple(records), unread)


def _mdn(msg: Message) -> TrackingReport | None:
    part = _report_part(msg, 'disposition-notification',
                        'message/disposition-notification')
    if part is None:
        return None
    blocks = _field_blocks(part)
    if not blocks:
        return None
    fields = blocks[0]
    # manual-action/MDN-sent-manually; displayed/error  (RFC 8098 3.2.6)
    disposition = str(fields.get('disposition') or '')
    kind = disposition.partition(';')[2].strip().split('/')[0].strip()
    kind = kind.lower()
    if kind not in DISPOSITIONS:
        return TrackingReport(MDN, None, None, ())
    record = TrackingRecord(
        MDN, kind, _address(fields.get('final-recipient')),
        _address(fields.get('original-recipient')),
        reported=_time(msg.get('date')))
    original = _typed_value(fields.get('original-message-id'))
    return TrackingReport(MDN, None, original and f'<{original}>',
                          (record,))


def parse_report(message: Message | bytes | str) -> TrackingReport | None:
    """The DSN or MDN `message` is, or None if it is neither.  Never
    raises."""
    try:
        if isinstance(message, bytes):
            message = email.message_from_bytes(message[:MAX_INPUT_BYTES])
        elif isinstance(message, str):
            message = email.message_from_string(message[:MAX_INPUT_BYTES])
        return _dsn(message) or _mdn(message)
    except Exception:  # noqa: BLE001 - a stranger wrote the message
        return None
