"""Turning a detection report into the fields of a bounce event.

The detection engine (`mailman_bounces.detect`) is pure; this module is the
thin piece of glue that picks, for one member address, the recipient record
of a report that is about it, and flattens it into event columns.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from public import public

from mailman_bounces.detect import Kind, Recipient, Report, detect

# Report kinds that become bounce events.  Auto-replies never do.
REGISTERED_KINDS = frozenset({Kind.bounce, Kind.delay, Kind.complaint})


@public
def safe_detect(msg: Message, received: bytes | None = None) -> Report:
    """Run the engine; it never raises, but a bug must not lose a bounce.

    *received* is the message as the LMTP runner received it (see
    `mailman_bounces.app.store.received_bytes`): when there, the engine
    reads those bytes, the first ``MAX_INPUT_BYTES`` of them, rather than
    flattening the parsed `msg` again.
    """
    try:
        return detect(received if received else msg)
    except Exception:  # noqa: BLE001 - a bug must not lose a bounce
        return Report(kind=Kind.none, recipients=[], detector=None)


@public
def recipient_for(report: Report, email: str) -> Recipient | None:
    """The recipient record of `report` that is about `email`, if any."""
    wanted = email.lower()
    for recipient in report.recipients:
        if wanted in (recipient.address, (recipient.original or '').lower()):
            return recipient
    return None


@public
def event_columns(report: Report | None,
                  recipient: Recipient | None) -> dict[str, Any]:
    """Event columns describing `recipient` of `report`."""
    if recipient is None:
        kind = report.kind.value if report is not None and (
            report.kind in REGISTERED_KINDS) else 'unknown'
        fields = {'kind': kind, 'detector': getattr(report, 'detector', None)}
        if report is not None and report.kind in (Kind.bounce, Kind.delay) \
                and not report.recipients:
            # A delivery failure that names nobody usable, registered for
            # the member VERP names: nothing says why, so it counts as an
            # undefined failure (weighted as such), not as nothing.
            fields.update(severity='soft', reason='undefined')
        return fields
    kind = report.kind.value if report is not None else 'unknown'
    if report is not None and report.kind == Kind.bounce and _temporary(
            recipient):
        # A DSN mixing permanent and temporary results: this recipient's
        # part is a delay.  (A "soft" severity alone is not: a permanent
        # policy rejection is soft too.)
        kind = Kind.delay.value
    return {
        'kind': kind,
        'severity': recipient.severity.value,
        'reason': recipient.reason,
        'status': recipient.status,
        'reply_code': recipient.reply_code,
        'diagnostic': recipient.diagnostic,
        'remote_mta': _cut(recipient.remote_mta, 255),
        'detector': recipient.detector,
        'feedback_type': recipient.feedback_type or getattr(
            report, 'feedback_type', None),
        'final_recipient': _cut(recipient.address, 255),
        'original_recipient': _cut(recipient.original, 255),
    }


def _temporary(recipient: Recipient) -> bool:
    return (recipient.action or '').lower() == 'delayed' or (
        recipient.status or '').startswith('4')


def _cut(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]
