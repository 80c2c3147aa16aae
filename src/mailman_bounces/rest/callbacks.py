"""/plugins/bounces/callbacks: the callback outbox, dead letters included;
/plugins/bounces/lists/<list>/callbacks: a list's own endpoints."""

from __future__ import annotations

import re

from mailman.config import config
from mailman.rest.helpers import (
    bad_request,
    created,
    etag,
    no_content,
    okay,
)
from public import public

from mailman_bounces.app.callbacks import add_endpoint, list_endpoints
from mailman_bounces.app.queries.callbacks import (
    CALLBACK_FIELDS,
    CALLBACK_STATES,
    ENDPOINT_FIELDS,
    find_callbacks,
)
from mailman_bounces.app.queries.lists import list_id_of, unmatchable
from mailman_bounces.app.queries.paging import Page
from mailman_bounces.config.hooks import (
    CALLBACK_URL_PATTERN,
    EVENTS_PATTERN,
    SECRET_PATTERN,
)
from mailman_bounces.fields import LINK, Field, Shape
from mailman_bounces.model.hooks import CallbackEndpoint
from mailman_bounces.rest.helpers import (
    Parameter,
    Parameters,
    choice,
    collection,
    path_to,
    request_values,
    row_by_id,
    text,
)
from mailman_bounces.validators import Boolean, InvalidValue

CALLBACK_PARAMETERS = Parameters(
    Parameter('state', choice(CALLBACK_STATES),
              'Only callbacks in this state (dead: the dead letters).'),
    Parameter('list_id', text(), 'Only the callbacks about this list.'))

# A callback resource, read from ``(callback, api)``.
CALLBACK_RESOURCE = CALLBACK_FIELDS + Shape(
    Field('self_link', LINK, read=lambda row, api: path_to(
        api, f'callbacks?state={row.state}')),
)


@public
class AllCallbacks:
    """/plugins/bounces/callbacks"""

    def on_get(self, request, response):
        """The callback outbox, oldest first; ``state=dead`` shows the
        dead letters."""
        values = CALLBACK_PARAMETERS.read(request, response)
        if values is None:
            return
        list_id = values.get('list_id')
        if list_id is not None and unmatchable(list_id):
            # No list has it (and MySQL refuses to compare with it): a
            # list-id no list can have, so the page is empty.
            list_id = NO_LIST
        page = find_callbacks(values.get('state'),
                              list_id and list_id_of(list_id),
                              values['count'], values['page'])
        entries = [CALLBACK_RESOURCE.values(row, self.api)
                   for row, in page.rows]
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'callbacks'))))


def _endpoint_link(row, api) -> str:
    return path_to(api, f'lists/{row.list_id}/callbacks/{row.id}')


# A list's callback endpoint resource, read from ``(endpoint, api)``.
ENDPOINT_RESOURCE = ENDPOINT_FIELDS + Shape(
    Field('self_link', LINK, read=_endpoint_link),
)

# A list-id no list has: list-ids hold a dot.
NO_LIST = 'no-such-list'


@public
class ListCallbacks:
    """/plugins/bounces/lists/<list>/callbacks"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """The list's own callback endpoints (secrets not shown)."""
        rows = list_endpoints(self._mlist.list_id)
        entries = [ENDPOINT_RESOURCE.values(row, self.api) for row in rows]
        okay(response, etag(collection(
            Page(0, len(entries), rows), entries,
            path_to(self.api, f'lists/{self._mlist.list_id}/callbacks'))))

    def on_post(self, request, response):
        """Add an endpoint: url (https, or http to loopback), secret
        (whsec_...), events (names or 'all'), allow_private."""
        try:
            values = _endpoint_values(request_values(request))
            endpoint = add_endpoint(self._mlist.list_id, **values)
        except (TypeError, ValueError) as error:
            bad_request(response, str(error))
            return
        config.db.commit()
        created(response, _endpoint_link(endpoint, self.api))


_PATTERNS = {'url': CALLBACK_URL_PATTERN, 'secret': SECRET_PATTERN,
             'events': EVENTS_PATTERN}
# Read as every boolean of the API is (Mailman's words, in any case).
ALLOW_PRIVATE = Boolean()


def _endpoint_values(values: dict) -> dict:
    """The fields of a new endpoint, checked exactly as its schema says."""
    unknown = sorted(set(values) - set(_ENDPOINT_PARAMETERS))
    if unknown:
        raise ValueError(f'Unknown attribute: {unknown[0]}')
    for name in ('url', 'secret'):
        if name not in values:
            raise ValueError(f'Missing Parameter: {name}')
    checked = {'events': 'all', 'allow_private': False}
    for name, pattern in _PATTERNS.items():
        if name not in values:
            continue
        value = values[name]
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(f'Invalid Parameter "{name}": '
                             f'{_EXPECTED[name]}')
        checked[name] = value or 'all'
    if 'allow_private' in values:
        checked['allow_private'] = _flag(values['allow_private'])
    return checked


_EXPECTED = {
    'url': 'expected an https URL of a host name, or http to loopback',
    'secret': 'expected whsec_ followed by base64',
    'events': "expected event names separated by spaces, or 'all'",
}


_ENDPOINT_PARAMETERS = ('url', 'secret', 'events', 'allow_private')


def _flag(value) -> bool:
    """A JSON boolean, or a form's text."""
    try:
        return ALLOW_PRIVATE(value)
    except InvalidValue as error:
        raise ValueError(f'Invalid Parameter "allow_private": expected '
                         f'{error.allowed}') from None


@public
class ACallbackEndpoint:
    """/plugins/bounces/lists/<list>/callbacks/<id>"""

    def __init__(self, mlist, identifier: str):
        self._mlist = mlist
        self._identifier = identifier

    def _endpoint(self, response) -> CallbackEndpoint | None:
        return row_by_id(CallbackEndpoint, self._identifier, response,
                         'callback endpoint', self._mlist.list_id)

    def on_get(self, request, response):
        row = self._endpoint(response)
        if row is not None:
            okay(response, etag(ENDPOINT_RESOURCE.values(row, self.api)))

    def on_delete(self, request, response):
        """Remove the endpoint; its pending callbacks are not sent."""
        row = self._endpoint(response)
        if row is not None:
            config.db.store.delete(row)
            config.db.commit()
            no_content(response)
