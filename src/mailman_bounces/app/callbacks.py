"""Outbound callbacks: the durable outbox, and its delivery.

`enqueue` writes one ``bounces_callback`` row per endpoint that wants the
event, in the caller's transaction: the callback exists exactly when the
change it reports was committed.  Its webhook id is derived from what it
reports, and (endpoint, webhook id) is unique, so an event is queued once
however often the code reporting it runs.

`deliver_due` (the `bouncecallbacks` runner) sends due callbacks per the
Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``, signed with the
`standardwebhooks` package).  Each attempt is claimed first (committed:
the row's next attempt moves past the call's timeout), so a crash before
or during the call leaves it due again later, and another runner never
sends it meanwhile.  Failures are retried on `SCHEDULE` (about 3 days,
``Retry-After`` honoured); then the callback is dead-lettered, visible over
REST and replayed with ``mailman bounces callbacks replay``.  A 410 answer
disables the endpoint, a list's or the site's, until ``mailman bounces
callbacks enable`` (`enable_endpoint`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from mailman.config import config
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import and_, delete, or_, select, update
from standardwebhooks import Webhook

from mailman_bounces.config import site_config
from mailman_bounces.config.hooks import callback_url_problem, parse_events
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.hooks import (
    Callback,
    CallbackEndpoint,
    SiteCallbackDisabled,
)
from mailman_bounces.model.notice import Notice

log = logging.getLogger('mailman.bounce')

# Delays after each failed attempt: 10 attempts over about 3 days.
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5),
            timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
            timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
            timedelta(hours=20))
# Longest Retry-After believed.
MAX_RETRY_AFTER = timedelta(days=1)
# What is read of an answer (only its status matters).
MAX_ANSWER = 65536


@dataclass(frozen=True)
class Target:
    """An endpoint as the sender needs it."""

    key: str
    url: str
    secret: str
    allow_private: bool


def _site_disabled() -> set[str]:
    """The site endpoints a 410 answer disabled (by name)."""
    return set(config.db.store.execute(
        select(SiteCallbackDisabled.name)).scalars())


def _site_targets(event_type: str) -> list[Target]:
    endpoints = [e for e in site_config().callbacks.endpoints
                 if event_type in e.events]
    if not endpoints:
        return []
    disabled = _site_disabled()
    return [Target(f'site:{e.name}', e.url, e.secret, e.allow_private)
            for e in endpoints if e.name not in disabled]


def _list_endpoints(list_ids: Iterable[str | None]
                    ) -> dict[str, list[CallbackEndpoint]]:
    """The enabled endpoints of these lists, by list (one query)."""
    wanted = sorted({list_id for list_id in list_ids if list_id is not None})
    found: dict[str, list[CallbackEndpoint]] = {}
    if not wanted:
        return found
    for row in config.db.store.execute(select(CallbackEndpoint).where(and_(
            CallbackEndpoint.list_id.in_(wanted),
            CallbackEndpoint.enabled.is_(True)))).scalars():
        found.setdefault(row.list_id, []).append(row)
    return found


def _list_targets(event_type: str,
                  endpoints: Iterable[CallbackEndpoint]) -> list[Target]:
    return [Target(f'list:{row.id}', row.url, row.secret, row.allow_private)
            for row in endpoints if event_type in row.events.split()]


def target(key: str) -> Target | None:
    """The endpoint a callback row names, if it still exists."""
    kind, _, name = key.partition(':')
    if kind == 'site':
        for e in site_config().callbacks.endpoints:
            if e.name == name and name not in _site_disabled():
                return Target(key, e.url, e.secret, e.allow_private)
        return None
    row = config.db.store.get(CallbackEndpoint, int(name))
    if row is None or not row.enabled:
        return None
    return Target(key, row.url, row.secret, row.allow_private)


def webhook_id(event_type: str, key: str) -> str:
    """The id of the callback reporting `key`: the same event, the same id."""
    digest = hashlib.sha256(f'{event_type}\0{key}'.encode()).hexdigest()
    return f'msg_{digest[:40]}'


def _callback_rows(event_type: str, key: str, list_id: str | None,
                   data: dict[str, Any], targets: list[Target],
                   created) -> list[dict[str, Any]]:
    if not targets:
        return []
    payload = json.dumps({'type': event_type,
                          'timestamp': created.isoformat() + 'Z',
                          'data': data}, default=str, sort_keys=True)
    identifier = webhook_id(event_type, key)
    return [{'webhook_id': identifier, 'endpoint': t.key,
             'event_type': event_type, 'list_id': list_id,
             'payload': payload, 'created': created, 'state': 'pending',
             'attempts': 0, 'next_attempt': created} for t in targets]


def _insert(rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_ignoring_duplicates(config.db.store, Callback.__table__, rows)


@public
def enqueue(event_type: str, key: str, list_id: str | None,
            data: dict[str, Any]) -> int:
    """Queue the callback of one event for every endpoint that wants it,
    in the current transaction; return how many rows were written."""
    endpoints = _list_endpoints([list_id]).get(list_id, [])
    targets = _site_targets(event_type) + _list_targets(event_type,
                                                        endpoints)
    rows = _callback_rows(event_type, key, list_id, data, targets, now())
    _insert(rows)
    return len(rows)


@public
def enqueue_for_events(rows: Iterable[dict[str, Any]]) -> None:
    """Queue 'bounce.registered' / 'complaint.registered' for new event
    rows (as `event_row` makes them): the endpoints are read once for the
    whole batch, and the callbacks written with one statement."""
    rows = list(rows)
    if not rows:
        return
    endpoints = _list_endpoints(row['list_id'] for row in rows)
    site = {event_type: _site_targets(event_type) for event_type in
            ('bounce.registered', 'complaint.registered')}
    created = now()
    pending: list[dict[str, Any]] = []
    for row in rows:
        event_type = ('complaint.registered' if row['kind'] == 'complaint'
                      else 'bounce.registered')
        targets = site[event_type] + _list_targets(
            event_type, endpoints.get(row['list_id'], []))
        if not targets:
            continue
        key = '\0'.join((row['fingerprint'], row['list_id'], row['email'],
                         str(row['context'])))
        data = {name: row.get(name) for name in (
            'list_id', 'email', 'kind', 'severity', 'reason', 'status',
            'diagnostic', 'feedback_type', 'provider_event_id',
            'timestamp')}
        pending += _callback_rows(event_type, key, row['list_id'], data,
                                  targets, created)
    _insert(pending)


# Notices -> the callback they stand for.  (Disabling, removal,
# re-enabling and outage freezes report themselves where they happen: their
# notices depend on who asked to be told.)
NOTICE_EVENTS = {
    'warning': 'member.warned',
}


@public
def enqueue_for_notice(notice: Notice, data: dict[str, Any]) -> None:
    """Queue the callback `notice` stands for, if any: called by its
    handler once it is sent, in the transaction marking it sent (a receiver
    told 'member.warned' takes it that the member was sent a warning; a
    warning queued and then not sent, the member re-enabled meanwhile, is
    not one).  Keyed by the notice: carried out again, it queues nothing
    new."""
    event_type = NOTICE_EVENTS.get(notice.kind)
    if event_type is None:
        return
    enqueue(event_type, f'notice:{notice.id}', notice.list_id,
            {'list_id': notice.list_id, 'email': notice.email, **data})


# Delivery.

def _due(at: datetime, limit: int) -> list[Callback]:
    return list(config.db.store.execute(
        select(Callback).where(and_(Callback.state == 'pending',
                                    Callback.next_attempt <= at))
        .order_by(Callback.next_attempt, Callback.id).limit(limit))
        .scalars())


def _claim(row: Callback, at: datetime, lease: timedelta) -> bool:
    """Take the attempt (committed); False if another runner took it."""
    result = config.db.store.execute(
        update(Callback).where(and_(Callback.id == row.id,
                                    Callback.state == 'pending',
                                    Callback.next_attempt == row.next_attempt,
                                    Callback.attempts == row.attempts))
        .values(next_attempt=at + lease, attempts=row.attempts + 1))
    config.db.commit()
    return result.rowcount == 1


def sign(secret: str, identifier: str, at: datetime, body: str) -> str:
    return Webhook(secret).sign(identifier, at.replace(tzinfo=UTC),
                                body)


def post(t: Target, identifier: str, body: str, at: datetime,
         timeout: float) -> tuple[int, str | None]:
    """POST one callback; return the status and the Retry-After header.

    :raises OSError: when it cannot be sent or answered in time.
    """
    problem = callback_url_problem(t.url, t.allow_private, resolve=True)
    if problem:
        raise OSError(f'{t.url}: {problem}')
    parts = urlsplit(t.url)
    connection_class = (http.client.HTTPSConnection
                        if parts.scheme == 'https'
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname, parts.port,
                                  timeout=timeout)
    headers = {
        'Content-Type': 'application/json',
        'User-Agent': 'mailman-bounces',
        'webhook-id': identifier,
        'webhook-timestamp': str(int(at.replace(
            tzinfo=UTC).timestamp())),
        'webhook-signature': sign(t.secret, identifier, at, body),
    }
    try:
        connection.request('POST', (parts.path or '/') + (
            '?' + parts.query if parts.query else ''), body.encode(),
            headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER)
        return response.status, response.getheader('Retry-After')
    except http.client.HTTPException as error:
        raise OSError(str(error)) from None
    finally:
        connection.close()


def _retry_after(value: str | None, at: datetime) -> timedelta | None:
    """How long a ``Retry-After`` answered at `at` (naive UTC) asks to
    wait: delay-seconds or an HTTP-date (RFC 9110 10.2.3; IMF-fixdate and
    the obsolete RFC 850 and asctime forms, all UTC), at most
    `MAX_RETRY_AFTER`; None when there is none or it cannot be read."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        delay = max(when - at, timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


def _record(row_id: int, status: int | None, error: str | None,
            retry_after: timedelta | None, at: datetime) -> str:
    """Record one attempt's result; return the callback's new state."""
    store = config.db.store
    row = store.get(Callback, row_id)
    row.last_status, row.last_error = status, error
    if status is not None and 200 <= status < 300:
        row.state, row.delivered_at = 'delivered', at
    elif status == 410:
        _disable(row.endpoint, at)
        row.state = 'dead'
    elif row.attempts >= site_config().callbacks.attempts:
        row.state = 'dead'
    else:
        delay = SCHEDULE[min(row.attempts, len(SCHEDULE)) - 1]
        row.next_attempt = at + max(delay, retry_after or delay)
    config.db.commit()
    return row.state


def _disable(key: str, at: datetime) -> None:
    """A 410 answer: the receiver is gone for good.  A list's endpoint is
    marked disabled; a site's (configured, so not writable here) is
    recorded in `SiteCallbackDisabled`.  Either way nothing more is queued
    for it until it is enabled again (`enable_endpoint`)."""
    log.warning('callback endpoint %s answered 410: disabled', key)
    kind, _, name = key.partition(':')
    reason = f'410 Gone at {at.isoformat()}'
    if kind == 'list':
        endpoint = config.db.store.get(CallbackEndpoint, int(name))
        if endpoint is not None:
            endpoint.enabled = False
            endpoint.disabled_reason = reason
    else:
        insert_ignoring_duplicates(
            config.db.store, SiteCallbackDisabled.__table__,
            [{'name': name, 'reason': reason, 'disabled_at': at}])
    config.db.store.execute(
        update(Callback).where(and_(Callback.endpoint == key,
                                    Callback.state == 'pending'))
        .values(state='dead', last_error='endpoint gone (410)'))


@public
def deliver_due(limit: int = 100) -> dict[str, int]:
    """Send the callbacks that are due; count the resulting states."""
    settings = site_config().callbacks
    timeout = settings.timeout.total_seconds()
    # The claim outlives the call: a crash leaves it due again after this.
    lease = settings.timeout + timedelta(minutes=1)
    counts: dict[str, int] = {}
    at = now()
    for row in _due(at, limit):
        if not _claim(row, at, lease):
            continue
        t = target(row.endpoint)
        identifier, body = row.webhook_id, row.payload
        status = error = retry = None
        if t is None:
            error = 'endpoint removed or disabled'
        else:
            try:
                status, retry_header = post(t, identifier, body, at, timeout)
                retry = _retry_after(retry_header, now())
            except OSError as failure:
                error = str(failure)[:1000] or type(failure).__name__
        state = _record(row.id, status, error, retry, now())
        counts[state] = counts.get(state, 0) + 1
        log.info('callback %s to %s: %s (%s)', identifier, row.endpoint,
                 state, status or error)
    return counts


@public
def enable_endpoint(key: str) -> bool:
    """Enable again the endpoint `key` (``site:NAME`` or ``list:ID``, as
    the outbox names it) that a 410 answer disabled; False if it was not
    disabled.  Its dead letters stay dead until replayed."""
    kind, _, name = key.partition(':')
    store = config.db.store
    if kind == 'site':
        result = store.execute(delete(SiteCallbackDisabled).where(
            SiteCallbackDisabled.name == name))
        enabled = result.rowcount > 0
    elif kind == 'list' and name.isdigit():
        endpoint = store.get(CallbackEndpoint, int(name))
        enabled = endpoint is not None and not endpoint.enabled
        if enabled:
            endpoint.enabled, endpoint.disabled_reason = True, None
    else:
        raise ValueError(f'{key}: expected site:NAME or list:ID')
    if enabled:
        log.info('callback endpoint %s enabled again', key)
    return enabled


@public
def site_endpoints() -> list[tuple[str, str, str | None]]:
    """The site's configured endpoints: (key, url, why disabled or None)."""
    disabled = dict(config.db.store.execute(select(
        SiteCallbackDisabled.name, SiteCallbackDisabled.reason)).all())
    return [(f'site:{e.name}', e.url, disabled.get(e.name))
            for e in site_config().callbacks.endpoints]


@public
def replay(ids: Iterable[int] | None = None) -> int:
    """Make dead callbacks (all, or those of `ids`) due again."""
    condition = Callback.state == 'dead'
    if ids is not None:
        condition = and_(condition, Callback.id.in_(list(ids)))
    result = config.db.store.execute(
        update(Callback).where(condition).values(
            state='pending', attempts=0, next_attempt=now(),
            last_error=None))
    return result.rowcount


@public
def dead_letters(list_id: str | None = None) -> list[Callback]:
    condition = Callback.state == 'dead'
    if list_id is not None:
        condition = and_(condition, or_(Callback.list_id == list_id))
    return list(config.db.store.execute(
        select(Callback).where(condition).order_by(Callback.id)).scalars())


# A list's own endpoints.

@public
def add_endpoint(list_id: str, url: str, secret: str, events: str = 'all',
                 allow_private: bool = False) -> CallbackEndpoint:
    """Add a callback endpoint to list `list_id`.

    :raises ValueError: saying what is wrong with the URL, the secret or
        the events.
    """
    problem = callback_url_problem(url, allow_private)
    if problem:
        raise ValueError(f'Invalid Parameter "url": {problem}')
    try:
        Webhook(secret)
    except Exception:  # noqa: BLE001 - the package raises several kinds
        raise ValueError('Invalid Parameter "secret": expected whsec_ '
                         'followed by base64') from None
    try:
        names = parse_events(events)
    except ValueError as error:
        raise ValueError(f'Invalid Parameter "events": {error}') from None
    endpoint = CallbackEndpoint(
        list_id=list_id, url=url, secret=secret,
        events=' '.join(sorted(names)), allow_private=allow_private,
        enabled=True, created=now())
    config.db.store.add(endpoint)
    config.db.store.flush()
    return endpoint


@public
def list_endpoints(list_id: str) -> list[CallbackEndpoint]:
    return list(config.db.store.execute(
        select(CallbackEndpoint).where(CallbackEndpoint.list_id == list_id)
        .order_by(CallbackEndpoint.id)).scalars())
