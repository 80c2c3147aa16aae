"""SendGrid's Event Webhook.

Verification: ECDSA (P-256, SHA-256) over the timestamp header followed by
the raw body, with the endpoint's verification key; the timestamp must be
within the window.  Events: bounce (``type`` bounce or blocked), dropped
(a suppression-list answer), deferred and spamreport; the rest ignored.
A ``blocked`` bounce is SendGrid saying the receiver refused the sender
(reputation, content, volume), not the address: its reason is one of the
engine's block reasons whatever the text, so it weighs as a block does.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.esp.base import (
    BLOCK_REASONS,
    MAX_EVENTS,
    HookEvent,
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

NAME = 'sendgrid'
SIGNATURE = 'X-Twilio-Email-Event-Webhook-Signature'
TIMESTAMP = 'X-Twilio-Email-Event-Webhook-Timestamp'
# The custom argument naming the list.
LIST_ARGUMENT = 'mailman_list'

# SendGrid's bounce_classification, for when the text decides nothing.
_CLASSIFICATIONS = {
    'invalid address': 'userunknown',
    'reputation': 'badreputation',
    'content': 'contenterror',
    'frequency or volume': 'speeding',
    'mailbox unavailable': 'suspend',
}


def public_key(text_key: str) -> ec.EllipticCurvePublicKey:
    """The key SendGrid shows (base64 DER, SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(text_key))
    except (ValueError, binascii.Error):
        raise Unverified('bad verification key') from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Unverified('not an EC key')
    return key


def check_signature(key_text: str, body: bytes, signature: str,
                    timestamp: str) -> None:
    """Raise `Unverified` unless `signature` signs timestamp + body."""
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key(key_text).verify(raw, timestamp.encode() + body,
                                    ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature, ValueError):
        raise Unverified('bad SendGrid signature') from None


def verify(request: HookRequest, endpoint: EndpointConfig,
           window: float) -> None:
    signature, timestamp = request.header(SIGNATURE), request.header(
        TIMESTAMP)
    if not signature or not timestamp or not endpoint.public_key:
        raise Unverified('unsigned')
    in_window(timestamp, request.now, window)
    check_signature(endpoint.public_key, request.body, signature, timestamp)


def parse(request: HookRequest) -> Parsed:
    events = load_json(request.body)
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise Malformed('not a list of events')
    parsed = Parsed()
    for item in events:
        found = _event(item) if isinstance(item, dict) else None
        if found is None:
            parsed.ignored += 1
        else:
            parsed.events.append(found)
    return parsed


def _event(item: dict) -> HookEvent | None:
    name = item.get('event')
    recipient = address(item.get('email'))
    event_id = text(item.get('sg_event_id'))
    if name not in ('bounce', 'dropped', 'deferred', 'spamreport') or (
            recipient is None or event_id is None):
        return None
    extra = {'list_hint': text(item.get(LIST_ARGUMENT)),
             'message_id': text(item.get('smtp-id'))}
    if name == 'spamreport':
        return event(event_id, recipient, kind='complaint',
                     feedback_type='abuse', **extra)
    diagnostic = text(item.get('reason') or item.get('response'), 2000)
    status = status_of(item.get('status'))
    if name == 'dropped':
        # SendGrid did not send: the address is on a suppression list
        # (bounced, unsubscribed, reported spam) or invalid.  Not a new
        # failure of the address.
        return event(event_id, recipient, reason='policyviolation',
                     status=status, permanent=False,
                     diagnostic=f'dropped by SendGrid: {diagnostic}',
                     **extra)
    if name == 'deferred':
        return event(event_id, recipient, kind='delay', status=status,
                     reason=None if diagnostic else 'expired',
                     permanent=False, diagnostic=diagnostic, **extra)
    found = event(event_id, recipient, status=status,
                  diagnostic=diagnostic, **extra)
    classified = _CLASSIFICATIONS.get(
        str(item.get('bounce_classification', '')).lower())
    if item.get('type') == 'blocked' and found.reason not in BLOCK_REASONS:
        # The text said something vaguer (or about the address): SendGrid
        # says it is a block, and its classification may say which.
        reason = classified if classified in BLOCK_REASONS else 'blocked'
        return event(event_id, recipient, status=status, reason=reason,
                     diagnostic=diagnostic, **extra)
    if classified and found.reason in ('undefined', 'onhold'):
        found = event(event_id, recipient, status=status, reason=classified,
                      diagnostic=diagnostic, **extra)
    return found
