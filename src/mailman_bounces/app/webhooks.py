"""Taking ESP webhook notifications: verify, normalise, store once.

The `bouncehook` runner hands every POST to `accept`, which answers with
the HTTP status the ESP should see: 200 for stored or deliberately ignored,
400 for malformed, 401 for unverifiable or for a signed time outside the
window (a replay; logged without the body, with the reason), 404 for
an unknown endpoint, 503 when the database cannot store (the ESP retries).

Each notification becomes a bounce event like a bounce message's, with the
provider's event id, after the site's and the list's classification rules
(as a message's recipient: its diagnostic, status and remote MTA; it has
no text part or sender); the id is recorded in ``bounces_webhook_seen``
under a unique constraint, and the event's fingerprint is derived from it,
so a retried or replayed notification is stored once.  The periodic pass then
treats these events like any other: weights decide what counts against the
member (DMARC, blocks and suppression answers weigh 0 unless the list says
otherwise), complaints follow the list's complaint_action.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC
from functools import cache

from mailman.config import config
from mailman.interfaces.bounce import BounceContext
from mailman.interfaces.listmanager import IListManager
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from zope.component import getUtility

from mailman_bounces.app.callbacks import enqueue_for_events
from mailman_bounces.app.rules import recipient_facts, rule_columns, rules_for
from mailman_bounces.config import site_config
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.esp import (
    HookEvent,
    HookRequest,
    Malformed,
    Parsed,
    Stale,
    Unverified,
    provider,
)
from mailman_bounces.esp.sns import fetcher
from mailman_bounces.model.event import BounceEvent, event_row
from mailman_bounces.model.hooks import WebhookSeen

log = logging.getLogger('mailman.bounce')


@public
@dataclass(frozen=True)
class Answer:
    """What the listener answers."""

    status: int
    message: str
    stored: int = 0
    ignored: int = 0


class _Replayed(Exception):
    pass


def _epoch() -> float:
    return now().replace(tzinfo=UTC).timestamp()


@public
def accept(provider_name: str, endpoint_name: str,
           headers: dict[str, str], body: bytes) -> Answer:
    """Verify and store one webhook request (see the module docstring)."""
    settings = site_config().webhooks
    endpoint = settings.endpoints.get((provider_name, endpoint_name))
    module = provider(provider_name)
    if endpoint is None or module is None:
        return Answer(404, 'no such endpoint')
    request = HookRequest({k.lower(): v for k, v in headers.items()}, body,
                          _epoch())
    where = f'{provider_name}/{endpoint_name}'
    try:
        module.verify(request, endpoint, settings.window.total_seconds())
        parsed = module.parse(request)
    except Stale as error:
        log.warning('webhook %s: refused as stale, a replay or a clock off '
                    '(%s), %d bytes', where, error, len(body))
        return Answer(401, 'stale: signed time outside the window')
    except Unverified as error:
        log.warning('webhook %s: refused (%s), %d bytes', where, error,
                    len(body))
        return Answer(401, 'unverified')
    except Malformed as error:
        log.warning('webhook %s: malformed (%s)', where, error)
        return Answer(400, f'malformed: {error}')
    if parsed.subscribe_url:
        return _confirm(where, parsed.subscribe_url)
    try:
        answer = _store(provider_name, endpoint, parsed)
        config.db.commit()
    except _Replayed:
        config.db.abort()
        log.warning('webhook %s: replayed token refused', where)
        return Answer(401, 'replayed')
    except SQLAlchemyError as error:
        config.db.abort()
        log.error('webhook %s: cannot store: %s', where, error)
        return Answer(503, 'cannot store now, retry later')
    log.info('webhook %s: %d stored, %d ignored', where, answer.stored,
             answer.ignored)
    return answer


def _confirm(where: str, url: str) -> Answer:
    """Confirm an SNS subscription (the topic is allowed: verified)."""
    try:
        fetcher().get(url)
    except Unverified as error:
        log.warning('webhook %s: subscription not confirmed: %s', where,
                    error)
        return Answer(400, 'subscription not confirmed')
    log.info('webhook %s: SNS subscription confirmed', where)
    return Answer(200, 'subscription confirmed')


def _seen(provider_name: str, kind: str, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(config.db.store.execute(
        select(WebhookSeen.key).where(and_(
            WebhookSeen.provider == provider_name, WebhookSeen.kind == kind,
            WebhookSeen.key.in_(keys)))).scalars())


def _remember(provider_name: str, endpoint: str, kind: str,
              keys: list[str]) -> None:
    received = now()
    insert_ignoring_duplicates(config.db.store, WebhookSeen.__table__, [
        {'provider': provider_name, 'kind': kind, 'key': key[:255],
         'endpoint': endpoint, 'received': received} for key in keys])


def _once(provider_name: str, endpoint: str, parsed: Parsed) -> bool:
    """Record the request's once-only keys; False for a batch seen before.

    :raises _Replayed: for a token seen before.
    """
    for kind, key in parsed.once:
        if _seen(provider_name, kind, [key]):
            if kind == 'token':
                raise _Replayed
            return False
        _remember(provider_name, endpoint, kind, [key])
    return True


def _list_id(event: HookEvent, fixed: str | None) -> str | None:
    wanted = fixed or event.list_hint
    if not wanted:
        return None
    lists = getUtility(IListManager)
    mlist = lists.get_by_list_id(wanted) or lists.get(wanted)
    return None if mlist is None else mlist.list_id


def fingerprint_of(provider_name: str, event_id: str) -> str:
    """The fingerprint of the event a notification becomes (unique per
    provider event id, as a message's is per message)."""
    return hashlib.sha256(
        f'webhook:{provider_name}:{event_id}'.encode()).hexdigest()


# What a rule may look at in a message and a notification has not.
_NO_MESSAGE = {'text': None, 'sender': None}


def _row(provider_name: str, list_id: str, event: HookEvent) -> dict:
    return event_row(
        list_id, event.recipient, event.message_id, BounceContext.normal,
        kind=event.kind, severity=event.severity, reason=event.reason,
        status=event.status, diagnostic=event.diagnostic,
        remote_mta=event.remote_mta, feedback_type=event.feedback_type,
        final_recipient=event.recipient, detector=f'webhook:{provider_name}',
        fingerprint=fingerprint_of(provider_name, event.event_id),
        provider_event_id=event.event_id)


def _store(provider_name: str, endpoint, parsed: Parsed) -> Answer:
    if not _once(provider_name, endpoint.name, parsed):
        return Answer(200, 'batch seen before', ignored=len(parsed.events))
    known = _seen(provider_name, 'event',
                  [event.event_id for event in parsed.events])
    rows, ignored = [], parsed.ignored
    # Each list's rules read once per request, not once per event.
    rules_of = cache(rules_for)
    for event in parsed.events:
        list_id = _list_id(event, endpoint.list_id)
        if event.event_id in known or list_id is None:
            if list_id is None:
                log.info('webhook %s/%s: event %s names no known list',
                         provider_name, endpoint.name, event.event_id)
            ignored += 1
            continue
        known.add(event.event_id)
        row = _row(provider_name, list_id, event)
        columns = rule_columns(
            rules_of(list_id), recipient_facts(_NO_MESSAGE, event),
            row['email'], list_id,
            f'webhook {provider_name}/{endpoint.name} {event.event_id}')
        if columns is None:
            # Not a bounce, a rule says: not stored, as such a message.
            ignored += 1
            continue
        rows.append({**row, **columns})
    _remember(provider_name, endpoint.name, 'event',
              [row['provider_event_id'] for row in rows])
    insert_ignoring_duplicates(config.db.store, BounceEvent.__table__, rows)
    enqueue_for_events(rows)
    for row in rows:
        log.info('%s webhook event registered for %s on %s: %s %s (%s)',
                 row['kind'], row['email'], row['list_id'], row['reason'],
                 row['status'] or '-', row['detector'])
    return Answer(200, 'ok', stored=len(rows), ignored=ignored)
