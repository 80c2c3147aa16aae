"""Mailgun webhooks.

Verification: HMAC-SHA256 of timestamp + token with the endpoint's signing
key; the timestamp must be within the window and a token is accepted once
(the glue remembers them), so a captured request cannot be replayed.
Events: ``failed`` (permanent or temporary) and ``complained``.
"""

from __future__ import annotations

import hashlib
import hmac

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.esp.base import (
    HookRequest,
    Malformed,
    Parsed,
    Unverified,
    address,
    event,
    in_window,
    load_json,
    status_of,
    text,
)

NAME = 'mailgun'
LIST_VARIABLE = 'mailman_list'

# Mailgun's failure reasons that decide ours: suppression answers and
# Mailgun's own blocks are not failures of the address.
_REASONS = {
    'suppress-bounce': 'policyviolation',
    'suppress-complaint': 'policyviolation',
    'suppress-unsubscribe': 'policyviolation',
    'espblock': 'blocked',
    'old': 'expired',
}


def _body(request: HookRequest) -> dict:
    body = load_json(request.body)
    if not isinstance(body, dict) or not isinstance(
            body.get('signature'), dict) or not isinstance(
            body.get('event-data'), dict):
        raise Malformed('not a Mailgun webhook')
    return body


def sign(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(),
                    hashlib.sha256).hexdigest()


def verify(request: HookRequest, endpoint: EndpointConfig,
           window: float) -> None:
    signature = _body(request)['signature']
    timestamp, token = (str(signature.get('timestamp', '')),
                        str(signature.get('token', '')))
    given = str(signature.get('signature', ''))
    if not (timestamp and token and given and endpoint.secret):
        raise Unverified('unsigned')
    in_window(timestamp, request.now, window)
    if not hmac.compare_digest(sign(endpoint.secret, timestamp, token),
                               given):
        raise Unverified('bad Mailgun signature')


def parse(request: HookRequest) -> Parsed:
    body = _body(request)
    token = text(body['signature'].get('token'))
    parsed = Parsed(once=[('token', token)] if token else [])
    data = body['event-data']
    name = data.get('event')
    recipient = address(data.get('recipient'))
    event_id = text(data.get('id'))
    if name not in ('failed', 'complained') or not recipient or not event_id:
        parsed.ignored = 1
        return parsed
    variables = data.get('user-variables')
    message = data.get('message') if isinstance(data.get('message'),
                                                dict) else {}
    headers = message.get('headers') if isinstance(
        message.get('headers'), dict) else {}
    extra = {'list_hint': text(variables.get(LIST_VARIABLE))
             if isinstance(variables, dict) else None,
             'message_id': text(headers.get('message-id'))}
    if name == 'complained':
        parsed.events.append(event(event_id, recipient, kind='complaint',
                                   feedback_type='abuse', **extra))
        return parsed
    delivery = data.get('delivery-status') if isinstance(
        data.get('delivery-status'), dict) else {}
    permanent = data.get('severity') == 'permanent'
    diagnostic = ' '.join(filter(None, (
        text(delivery.get('code')), text(delivery.get('message'), 1000),
        text(delivery.get('description'), 1000))))
    parsed.events.append(event(
        event_id, recipient, kind='bounce' if permanent else 'delay',
        reason=_REASONS.get(str(data.get('reason'))),
        status=status_of(delivery.get('enhanced-code')),
        permanent=permanent, diagnostic=diagnostic or None,
        remote_mta=text(delivery.get('mx-host')), **extra))
    return parsed
