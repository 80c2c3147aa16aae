"""Bounce events: ``events``, ``events/<id>`` and ``events/<id>/message``."""

from __future__ import annotations

from mailman.interfaces.bounce import BounceContext
from mailman.rest.helpers import (
    NotFound,
    bad_request,
    child,
    etag,
    not_found,
    okay,
)
from public import public

from mailman_bounces.app.queries import (
    CONTEXTS,
    KINDS,
    SEVERITIES,
    EventFilter,
    event_fields,
    find_events,
    get_event,
    list_id_of,
    stored_message,
)
from mailman_bounces.detect import REASONS
from mailman_bounces.rest.helpers import (
    boolean,
    choice,
    collection,
    parse_id,
    path_to,
    query_validator,
    read_query,
    text,
    time_point,
)

# The query parameters of the collection and the EventFilter field each
# one sets.
EVENT_PARAMETERS = query_validator(
    list_id=text(), address=text(), domain=text(),
    reason=choice(REASONS), severity=choice(SEVERITIES),
    kind=choice(KINDS), context=choice(CONTEXTS), processed=boolean,
    outcome=text(), since=time_point(), until=time_point(end_of_day=True))


@public
def event_filter(values: dict) -> EventFilter:
    """The EventFilter of converted query parameters."""
    context = values.get('context')
    list_id = values.get('list_id')
    return EventFilter(
        list_id=list_id and list_id_of(list_id),
        email=values.get('address'), domain=values.get('domain'),
        reason=values.get('reason'), severity=values.get('severity'),
        kind=values.get('kind'),
        context=context and BounceContext[context],
        processed=values.get('processed'), outcome=values.get('outcome'),
        since=values.get('since'), until=values.get('until'))


class _EventBase:
    """What the event resources share."""

    def _event_as_dict(self, event, stored: bool) -> dict:
        resource = event_fields(event)
        resource['self_link'] = path_to(self.api, f'events/{event.id}')
        if stored:
            resource['message_link'] = path_to(
                self.api, f'events/{event.id}/message')
        return resource


@public
class AllEvents(_EventBase):
    """/plugins/bounces/events"""

    def on_get(self, request, response):
        """The events, newest first, filtered and paged."""
        try:
            values = read_query(EVENT_PARAMETERS, request)
        except ValueError as error:
            bad_request(response, str(error))
            return
        page = find_events(event_filter(values), values['count'],
                           values['page'])
        entries = [self._event_as_dict(event, stored)
                   for event, stored in page.rows]
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'events'))))


@public
class AnEvent(_EventBase):
    """/plugins/bounces/events/<id>"""

    def __init__(self, identifier: str):
        self._id = parse_id(identifier)

    def on_get(self, request, response):
        """One event."""
        if self._id is None:
            bad_request(response, 'The event id must be an integer')
            return
        found = get_event(self._id)
        if found is None:
            not_found(response, f'No such event: {self._id}')
            return
        okay(response, etag(self._event_as_dict(*found)))

    @child()
    def message(self, context, segments):
        """/plugins/bounces/events/<id>/message"""
        if segments:
            return NotFound(), []
        return EventMessage(self._id), []


@public
class EventMessage:
    """The stored bounce message of an event, as received."""

    def __init__(self, event_id: int | None):
        self._id = event_id

    def on_get(self, request, response):
        """The raw message (message/rfc822); 404 once it is evicted."""
        if self._id is None:
            bad_request(response, 'The event id must be an integer')
            return
        stored = stored_message(self._id)
        if stored is None:
            not_found(response, f'No stored message for event {self._id}')
            return
        okay(response)
        response.content_type = 'message/rfc822'
        response.data = bytes(stored.content)
