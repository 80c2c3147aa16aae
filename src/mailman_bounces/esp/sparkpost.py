"""SparkPost event webhooks.

SparkPost does not sign: the webhook is set up with basic auth, whose
password must be the endpoint's secret.  A request is a batch with an id
(``X-MessageSystems-Batch-ID``); SparkPost retries a batch with the same
id, so a batch seen before is acknowledged and not read again.  The bounce
class decides the reason where it is specific.
"""

from __future__ import annotations

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.esp.base import (
    MAX_EVENTS,
    HookEvent,
    HookRequest,
    Malformed,
    Parsed,
    address,
    basic_auth,
    event,
    load_json,
    status_of,
    text,
)

NAME = 'sparkpost'
BATCH_HEADER = 'X-MessageSystems-Batch-ID'
LIST_METADATA = 'mailman_list'

# bounce_class -> reason (None: the classifier decides).  Classes 60
# (auto-reply), 80, 90 (subscribe, unsubscribe) and 100 (challenge) are
# not failures.  25 and 26 are SparkPost's own policies and suppression.
_CLASSES = {
    '1': 'undefined', '10': 'userunknown', '20': None, '21': 'networkerror',
    '22': 'mailboxfull', '23': 'mesgtoobig', '24': 'expired',
    '25': 'policyviolation', '26': 'policyviolation', '30': 'undefined',
    '40': None, '50': 'blocked', '51': 'blocked', '52': 'spamdetected',
    '53': 'policyviolation', '54': 'norelaying', '70': 'expired',
}
_TYPES = ('bounce', 'out_of_band', 'delay', 'spam_complaint',
          'policy_rejection')


def verify(request: HookRequest, endpoint: EndpointConfig,
           window: float) -> None:
    basic_auth(request, endpoint.secret)


def parse(request: HookRequest) -> Parsed:
    batch = load_json(request.body)
    if not isinstance(batch, list) or len(batch) > MAX_EVENTS:
        raise Malformed('not a SparkPost batch')
    batch_id = text(request.header(BATCH_HEADER))
    parsed = Parsed(once=[('batch', batch_id)] if batch_id else [])
    for item in batch:
        msys = item.get('msys') if isinstance(item, dict) else None
        found = None
        if isinstance(msys, dict):
            found = _event(next((value for value in msys.values()
                                 if isinstance(value, dict)), {}))
        if found is None:
            parsed.ignored += 1
        else:
            parsed.events.append(found)
    return parsed


def _event(data: dict) -> HookEvent | None:
    name = data.get('type')
    recipient = address(data.get('rcpt_to') or data.get('raw_rcpt_to'))
    event_id = text(data.get('event_id'))
    if name not in _TYPES or not recipient or not event_id:
        return None
    metadata = data.get('rcpt_meta')
    extra = {'list_hint': text(metadata.get(LIST_METADATA))
             if isinstance(metadata, dict) else None,
             'message_id': text(data.get('message_id'))}
    if name == 'spam_complaint':
        return event(event_id, recipient, kind='complaint',
                     feedback_type=text(data.get('fbtype'), 32) or 'abuse',
                     **extra)
    diagnostic = text(data.get('raw_reason') or data.get('reason'), 2000)
    # The raw reason starts with the reply: '550 5.1.1 <...>: ...'.
    words = (diagnostic or '').split()
    status = status_of(words[1]) if len(words) > 1 else None
    if name == 'policy_rejection':
        return event(event_id, recipient, reason='policyviolation',
                     status=status, diagnostic=diagnostic, **extra)
    if name == 'delay':
        return event(event_id, recipient, kind='delay', status=status,
                     permanent=False, diagnostic=diagnostic,
                     reason=None if diagnostic else 'expired', **extra)
    bounce_class = str(data.get('bounce_class', ''))
    if bounce_class not in _CLASSES:
        return None
    return event(event_id, recipient, reason=_CLASSES[bounce_class],
                 status=status, diagnostic=diagnostic, **extra)
