"""Postmark bounce and spam complaint webhooks.

Postmark does not sign its webhooks: the endpoint's URL carries basic auth
credentials, and the password must be the endpoint's secret.  Postmark's
bounce types decide the reason where they are specific: a DMARC policy
rejection, a block, a manual deactivation (its suppression list) are
recorded but not held against the member (weight 0 unless the list gives
them one).
"""

from __future__ import annotations

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.detect.status import find_status
from mailman_bounces.esp.base import (
    HookRequest,
    Malformed,
    Parsed,
    address,
    basic_auth,
    event,
    load_json,
    text,
)

NAME = 'postmark'
LIST_METADATA = 'mailman_list'

# Type -> (kind, reason or None for the classifier's, fallback reason).
_TYPES = {
    'HardBounce': ('bounce', None, 'userunknown'),
    'BadEmailAddress': ('bounce', 'userunknown', None),
    'SoftBounce': ('bounce', None, 'undefined'),
    'Transient': ('delay', None, 'expired'),
    'DnsError': ('delay', 'networkerror', None),
    'SpamNotification': ('bounce', 'spamdetected', None),
    'VirusNotification': ('bounce', 'virusdetected', None),
    'Blocked': ('bounce', 'blocked', None),
    'DMARCPolicy': ('bounce', 'authfailure', None),
    'ManuallyDeactivated': ('bounce', 'policyviolation', None),
    'Unknown': ('bounce', None, 'undefined'),
}


def verify(request: HookRequest, endpoint: EndpointConfig,
           window: float) -> None:
    basic_auth(request, endpoint.secret)


def parse(request: HookRequest) -> Parsed:
    record = load_json(request.body)
    if not isinstance(record, dict):
        raise Malformed('not a Postmark record')
    recipient = address(record.get('Email'))
    event_id = text(record.get('ID'))
    kind = record.get('RecordType')
    if kind not in ('Bounce', 'SpamComplaint') or not recipient \
            or not event_id:
        return Parsed(ignored=1)
    metadata = record.get('Metadata')
    extra = {'list_hint': text(metadata.get(LIST_METADATA))
             if isinstance(metadata, dict) else None,
             'message_id': text(record.get('MessageID'))}
    if kind == 'SpamComplaint' or record.get('Type') == 'SpamComplaint':
        return Parsed(events=[event(event_id, recipient, kind='complaint',
                                    feedback_type='abuse', **extra)])
    known = _TYPES.get(str(record.get('Type')))
    if known is None:
        # Subscribe, AutoResponder, AddressChange ...: not failures.
        return Parsed(ignored=1)
    kind, reason, fallback = known
    details = text(record.get('Details'), 1500)
    diagnostic = ' '.join(filter(None, (text(record.get('Description'), 500),
                                        details)))
    # Postmark has no status field: the receiving server's answer, in
    # Details, often carries one ("550 5.1.1 ...").
    status = find_status(details)
    found = event(event_id, recipient, kind=kind, reason=reason,
                  status=status, permanent=kind == 'bounce',
                  diagnostic=diagnostic or None, **extra)
    if reason is None and found.reason in ('undefined', 'onhold'):
        found = event(event_id, recipient, kind=kind, reason=fallback,
                      status=status, permanent=kind == 'bounce',
                      diagnostic=diagnostic or None, **extra)
    return Parsed(events=[found])
