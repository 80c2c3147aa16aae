"""Reading the callback outbox (REST and ``mailman bounces callbacks``)."""

from __future__ import annotations

import json

from public import public
from sqlalchemy import func, select

from mailman_bounces.app.queries.paging import Page, paginate
from mailman_bounces.fields import (
    COUNT,
    INTEGER,
    STRING,
    TIME,
    Field,
    Shape,
    choice,
    nullable,
)
from mailman_bounces.model.hooks import Callback

__all__ = ['CALLBACK_FIELDS', 'CALLBACK_STATES', 'ENDPOINT_FIELDS',
           'find_callbacks']

CALLBACK_STATES = ('pending', 'delivered', 'dead')

# One callback of the outbox.
CALLBACK_FIELDS = Shape(
    Field('id', INTEGER),
    Field('webhook_id', STRING, 'The Standard Webhooks message id.'),
    Field('endpoint', STRING, "'site:<name>' or 'list:<endpoint id>'."),
    Field('event_type', STRING),
    Field('list_id', nullable(STRING)),
    Field('state', choice(CALLBACK_STATES),
          'dead: given up on (replay with `mailman bounces callbacks '
          'replay`).'),
    Field('attempts', COUNT),
    Field('created', TIME),
    Field('next_attempt', TIME),
    Field('delivered_at', nullable(TIME)),
    Field('last_status', nullable(INTEGER), 'The HTTP status last answered.'),
    Field('last_error', nullable(STRING)),
    Field('payload', {'type': 'object'}, 'The JSON body posted.',
          read=lambda row, *_: json.loads(row.payload)),
)


@public
def find_callbacks(state: str | None = None, list_id: str | None = None,
                   count: int | None = None, page: int | None = None
                   ) -> Page:
    """Callbacks, oldest first; rows are ``(callback,)``."""
    conditions = []
    if state is not None:
        conditions.append(Callback.state == state)
    if list_id is not None:
        conditions.append(Callback.list_id == list_id)
    query = select(Callback).where(*conditions).order_by(Callback.id)
    count_query = (select(func.count()).select_from(Callback)
                   .where(*conditions))
    return paginate(query, count_query, count, page)


# A list's callback endpoint (its secret is never shown).
ENDPOINT_FIELDS = Shape(
    Field('id', INTEGER),
    Field('list_id', STRING),
    Field('url', STRING),
    Field('events', {'type': 'array', 'items': STRING},
          read=lambda row, *_: row.events.split()),
    Field('allow_private', {'type': 'boolean'}),
    Field('enabled', {'type': 'boolean'},
          'false once the receiver answered 410 Gone.'),
    Field('disabled_reason', nullable(STRING)),
    Field('created', TIME),
)
