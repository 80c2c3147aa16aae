"""Amazon SES notifications in JSON (delivered by SNS as an e-mail body).

``notificationType`` is Bounce, Complaint or Delivery; the recipients are in
``bounce.bouncedRecipients``, ``complaint.complainedRecipients`` or
``delivery.recipients``.  Parsed as JSON, never scraped: this is where naive
detectors pick up JSON fragments as addresses.  SNS may wrap the notification
as a JSON string in a ``Message`` field; that is unwrapped.
"""

from __future__ import annotations

import json

from ..mail import Finding, Found, Mail
from ..report import Kind

NAME = 'amazonses'

MAX_JSON_CHARS = 500_000
_BOUNCE_TYPES = {'permanent': True, 'transient': False}
_SUBTYPE_REASONS = {
    'noemail': 'userunknown', 'mailboxfull': 'mailboxfull', 'messagetoolarge': 'mesgtoobig',
    'contentrejected': 'contenterror', 'attachmentrejected': 'policyviolation',
}


def parse(mail: Mail) -> Finding | None:
    text = mail.text
    start = text.find('{')
    if start < 0 or 'notificationType' not in text[start:start + 5000] and '"Message"' not in text[:5000]:
        return None
    notification = _load(text[start:start + MAX_JSON_CHARS])
    if not isinstance(notification, dict):
        return None
    kind = str(notification.get('notificationType') or notification.get('eventType') or '').lower()
    if kind == 'bounce':
        return _bounce(notification.get('bounce'))
    if kind == 'complaint':
        return _complaint(notification.get('complaint'))
    if kind == 'delivery':
        return _delivery(notification.get('delivery'))
    return None


def _load(text: str) -> object:
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(text)
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get('Message'), str):
        try:
            return json.loads(value['Message'], strict=False)
        except ValueError:
            return None
    return value


def _records(section: object, key: str) -> list[dict[str, object]]:
    if not isinstance(section, dict):
        return []
    records = section.get(key)
    return [record for record in records if isinstance(record, dict)] if isinstance(records, list) else []


def _bounce(section: object) -> Finding | None:
    if not isinstance(section, dict):
        return None
    permanent = _BOUNCE_TYPES.get(str(section.get('bounceType', '')).lower())
    subtype = str(section.get('bounceSubType', '')).lower()
    reason = _SUBTYPE_REASONS.get(subtype)
    remote = section.get('reportingMTA')
    summary = f"Amazon SES {section.get('bounceType')} bounce ({section.get('bounceSubType')})"
    found = []
    for record in _records(section, 'bouncedRecipients'):
        diagnostic = _text(record.get('diagnosticCode'))
        found.append(Found(
            address=_text(record.get('emailAddress')),
            action=_text(record.get('action')),
            status=_text(record.get('status')),
            diagnostic=diagnostic or summary,
            remote_mta=_text(remote),
            permanent=permanent,
            reason=None if diagnostic else reason,
        ))
    return Finding(found) if found else None


def _complaint(section: object) -> Finding | None:
    if not isinstance(section, dict):
        return None
    feedback = _text(section.get('complaintFeedbackType')) or 'abuse'
    found = [Found(address=_text(record.get('emailAddress')), reason='feedback',
                   feedback_type=feedback)
             for record in _records(section, 'complainedRecipients')]
    return Finding(found, kind=Kind.complaint, feedback_type=feedback)


def _delivery(section: object) -> Finding | None:
    if not isinstance(section, dict):
        return None
    recipients = section.get('recipients')
    if not isinstance(recipients, list):
        return None
    diagnostic = _text(section.get('smtpResponse'))
    found = [Found(address=_text(address), reason='delivered', action='delivered', status='2.0.0',
                   diagnostic=diagnostic, remote_mta=_text(section.get('reportingMTA')))
             for address in recipients]
    return Finding(found) if found else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def recognise(mail: Mail) -> bool:
    """A DSN from Amazon SES, sending or receiving (read by :mod:`.rfc3464`):
    SES signs the Message-ID, and the From: when it is the sender."""
    if 'workmail' in mail.header('x-mailer').lower():
        return False
    return mail.sender.rstrip('>').endswith('amazonses.com') or mail.header('message-id').rstrip('> ').endswith(
        'amazonses.com')
