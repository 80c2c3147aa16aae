"""Amazon SES notifications, delivered by SNS.

Verification: the SNS signature (`mailman_bounces.esp.sns`), the
endpoint's required allow-list of topic ARNs (a valid signature only
proves that some SNS topic sent the request) and the age of the signed
Timestamp (a replayed message is refused).  A SubscriptionConfirmation
for an allowed topic is confirmed.  Bounce notifications count every
``bouncedRecipients`` entry; Complaint and DeliveryDelay are read too.
"""

from __future__ import annotations

import json
from typing import Any

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.esp.base import (
    HookRequest,
    Malformed,
    Parsed,
    Unverified,
    address,
    event,
    list_from_header,
    load_json,
    status_of,
    text,
)
from mailman_bounces.esp.sns import check_published, verify_message

NAME = 'ses'

# Bounce subtypes that decide the reason whatever the diagnostic says.
# Suppression answers are SES refusing to send, not a new failure of the
# address: recorded as a policy matter (weight 0 unless the list says so).
_SUBTYPES = {
    'noemail': 'userunknown',
    'suppressed': 'policyviolation',
    'onaccountsuppressionlist': 'policyviolation',
    'mailboxfull': 'mailboxfull',
    'messagetoolarge': 'mesgtoobig',
    'contentrejected': 'contenterror',
    'attachmentrejected': 'policyviolation',
}
_DELAY_TYPES = {
    'mailboxfull': 'mailboxfull',
    'spamdetected': 'spamdetected',
    'ipfailure': 'blocked',
    'recipientservererror': 'systemerror',
    'transientcommunicationfailure': 'networkerror',
    'sendingdeferral': 'policyviolation',
    'internalfailure': 'systemerror',
}


def _message(request: HookRequest) -> dict:
    message = load_json(request.body)
    if not isinstance(message, dict):
        raise Malformed('not an SNS message')
    return message


def verify(request: HookRequest, endpoint: EndpointConfig,
           window: float) -> None:
    message = _message(request)
    if message.get('TopicArn') not in endpoint.topics:
        raise Unverified(f'topic {message.get("TopicArn")!r} not allowed')
    verify_message(message)
    check_published(message, request.now, window)


def parse(request: HookRequest) -> Parsed:
    message = _message(request)
    kind = message.get('Type')
    if kind == 'SubscriptionConfirmation':
        return Parsed(subscribe_url=text(message.get('SubscribeURL'), 2000))
    if kind != 'Notification':
        return Parsed(ignored=1)
    try:
        notification = json.loads(message.get('Message') or '')
    except (TypeError, ValueError):
        raise Malformed('the SNS Message is not JSON') from None
    if not isinstance(notification, dict):
        raise Malformed('the SNS Message is not an object')
    return _notification(notification)


def _notification(notification: dict) -> Parsed:
    kind = str(notification.get('notificationType')
               or notification.get('eventType') or '')
    mail = notification.get('mail') if isinstance(
        notification.get('mail'), dict) else {}
    extra = {'list_hint': _list_id(mail),
             'message_id': text(mail.get('messageId'))}
    readers = {'Bounce': _bounce, 'Complaint': _complaint,
               'DeliveryDelay': _delay}
    reader = readers.get(kind)
    if reader is None:
        return Parsed(ignored=1)
    section = notification.get(kind[0].lower() + kind[1:])
    if not isinstance(section, dict):
        raise Malformed(f'{kind} notification without its section')
    return Parsed(events=reader(section, mail, extra))


def _list_id(mail: dict) -> str | None:
    for header in mail.get('headers') or ():
        if isinstance(header, dict) and str(
                header.get('name', '')).lower() == 'list-id':
            return list_from_header(header.get('value'))
    return None


def _records(section: dict, key: str) -> list[dict]:
    records = section.get(key)
    if not isinstance(records, list):
        raise Malformed(f'{key} missing')
    return [record for record in records if isinstance(record, dict)]


def _event_id(section: dict, mail: dict, recipient: str) -> str:
    # feedbackId names the notification; SNS retries repeat it.
    base = text(section.get('feedbackId')) or '{}/{}'.format(
        text(mail.get('messageId')), text(section.get('timestamp')))
    return f'{base}/{recipient}'


def _bounce(section: dict, mail: dict, extra: dict[str, Any]) -> list:
    permanent = str(section.get('bounceType')) == 'Permanent'
    subtype = str(section.get('bounceSubType', '')).lower()
    reason = _SUBTYPES.get(subtype)
    if str(section.get('bounceType')) == 'Undetermined':
        reason = 'undefined'
    events = []
    for record in _records(section, 'bouncedRecipients'):
        recipient = address(record.get('emailAddress'))
        if recipient is None:
            continue
        status = status_of(record.get('status'))
        events.append(event(
            _event_id(section, mail, recipient), recipient,
            reason=reason, status=status, permanent=permanent,
            diagnostic=record.get('diagnosticCode') or (
                f'Amazon SES {section.get("bounceType")} bounce '
                f'({section.get("bounceSubType")})'),
            remote_mta=text(section.get('reportingMTA')), **extra))
    return events


def _complaint(section: dict, mail: dict, extra: dict[str, Any]) -> list:
    feedback = text(section.get('complaintFeedbackType'), 32) or 'abuse'
    return [event(_event_id(section, mail, recipient), recipient,
                  kind='complaint', feedback_type=feedback, **extra)
            for record in _records(section, 'complainedRecipients')
            if (recipient := address(record.get('emailAddress')))]


def _delay(section: dict, mail: dict, extra: dict[str, Any]) -> list:
    reason = _DELAY_TYPES.get(str(section.get('delayType', '')).lower())
    events = []
    for record in _records(section, 'delayedRecipients'):
        recipient = address(record.get('emailAddress'))
        if recipient is None:
            continue
        status = status_of(record.get('status'))
        diagnostic = record.get('diagnosticCode')
        events.append(event(
            _event_id(section, mail, recipient), recipient, kind='delay',
            reason=reason or (None if diagnostic or status else 'expired'),
            status=status, permanent=False, diagnostic=diagnostic,
            remote_mta=text(section.get('reportingMTA')), **extra))
    return events
