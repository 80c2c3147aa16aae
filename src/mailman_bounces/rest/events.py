"""Bounce events: ``events``, ``events/<id>`` and ``events/<id>/message``."""

from __future__ import annotations

from mailman.interfaces.bounce import BounceContext
from mailman.rest.helpers import (
    NotFound,
    child,
    not_found,
    okay,
)
from public import public

from mailman_bounces.app.queries.events import (
    EVENT_FIELDS,
    EVIDENCE,
    KINDS,
    SEVERITIES,
    EventFilter,
    find_events,
    get_event,
    stored_message,
)
from mailman_bounces.app.queries.lists import list_id_of
from mailman_bounces.detect import REASONS
from mailman_bounces.fields import LINK, OMIT, Field, Shape
from mailman_bounces.rest.helpers import (
    SINCE,
    UNTIL,
    Parameter,
    Parameters,
    boolean,
    choice,
    collection,
    enum,
    etag,
    parse_id,
    path_to,
    text,
)

# The query parameters of the collection.
EVENT_PARAMETERS = Parameters(
    Parameter('list_id', text(),
              'Only this list (list-id or posting address).'),
    Parameter('address', text(), 'Only this recipient address.'),
    Parameter('domain', text(), 'Only this recipient domain.'),
    Parameter('reason', choice(REASONS), 'Only this reason.'),
    Parameter('severity', choice(SEVERITIES), 'Only this severity.'),
    Parameter('kind', choice(KINDS), 'Only this kind.'),
    Parameter('context', enum(BounceContext),
              'normal bounces or answers to probes.'),
    Parameter('processed', boolean(),
              'Only events the pass did (true) or did not (false) '
              'process.'),
    Parameter('outcome', text(), 'Only this outcome.'),
    Parameter('evidence', choice(EVIDENCE),
              'Only events on this evidence (verified, unverified or '
              'forged return paths).'),
    SINCE, UNTIL)


def _message_link(event, stored: bool, api) -> str | object:
    if not stored:
        return OMIT
    return path_to(api, f'events/{event.id}/message')


# An event resource, read from ``(event, stored, api)``.
EVENT_RESOURCE = EVENT_FIELDS + Shape(
    Field('self_link', LINK,
          read=lambda event, stored, api: path_to(api, f'events/{event.id}')),
    Field('message_link', LINK,
          'Present while the bounce message is stored.',
          read=_message_link, optional=True),
)


@public
def event_filter(values: dict) -> EventFilter:
    """The EventFilter of converted query parameters."""
    list_id = values.get('list_id')
    return EventFilter(
        list_id=list_id and list_id_of(list_id),
        email=values.get('address'), domain=values.get('domain'),
        reason=values.get('reason'), severity=values.get('severity'),
        kind=values.get('kind'), context=values.get('context'),
        processed=values.get('processed'), outcome=values.get('outcome'),
        evidence=values.get('evidence'), since=values.get('since'), until=values.get('until'))


@public
class AllEvents:
    """/plugins/bounces/events"""

    def on_get(self, request, response):
        """The events, newest first, filtered and paged."""
        values = EVENT_PARAMETERS.read(request, response)
        if values is None:
            return
        page = find_events(event_filter(values), values['count'],
                           values['page'])
        entries = [EVENT_RESOURCE.values(event, stored, self.api)
                   for event, stored in page.rows]
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'events'))))


@public
class AnEvent:
    """/plugins/bounces/events/<id>"""

    def __init__(self, identifier: str):
        self._identifier = identifier
        self._id = parse_id(identifier)

    def on_get(self, request, response):
        """One event."""
        found = None if self._id is None else get_event(self._id)
        if found is None:
            not_found(response, f'No such event: {self._identifier}')
            return
        okay(response, etag(EVENT_RESOURCE.values(*found, self.api)))

    @child()
    def message(self, context, segments):
        """/plugins/bounces/events/<id>/message"""
        if segments:
            return NotFound(), []
        return EventMessage(self._identifier, self._id), []


@public
class EventMessage:
    """The stored bounce message of an event, as received."""

    def __init__(self, identifier: str, event_id: int | None):
        self._identifier = identifier
        self._id = event_id

    def on_get(self, request, response):
        """The raw message (message/rfc822); 404 once it is evicted."""
        stored = None if self._id is None else stored_message(self._id)
        if stored is None:
            not_found(response,
                      f'No stored message for event {self._identifier}')
            return
        okay(response)
        response.content_type = 'message/rfc822'
        response.data = bytes(stored.content)
