"""Statistics and outage freezes: ``stats``, ``freezes`` and
``freezes/<id>``."""

from __future__ import annotations

from datetime import datetime

from mailman.rest.helpers import (
    bad_request,
    no_content,
    not_found,
    okay,
)
from mailman.utilities.datetime import now
from public import public

from mailman_bounces.app.outage import (
    CannotConfirm,
    confirm_freeze,
    lift_freeze,
)
from mailman_bounces.app.queries.events import EventFilter
from mailman_bounces.app.queries.freezes import FREEZE_FIELDS, find_freezes
from mailman_bounces.app.queries.lists import list_id_of
from mailman_bounces.app.queries.stats import EVENT_STATS_FIELDS, event_stats
from mailman_bounces.fields import (
    LINK,
    STRING,
    TIME,
    Field,
    Shape,
    array,
    nullable,
)
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.rest.helpers import (
    SINCE,
    UNTIL,
    Parameter,
    Parameters,
    boolean,
    collection,
    etag,
    integer,
    parse_id,
    path_to,
    resource_schema,
    row_by_id,
    text,
)
from mailman_bounces.utilities.times import recent
from mailman_bounces.validators import MAX_DURATION

STATS_PARAMETERS = Parameters(
    Parameter('list_id', text(), 'Only this list (and site-wide freezes).'),
    SINCE, UNTIL,
    Parameter('days', integer(1, MAX_DURATION.days),
              'Only the last so many days, today included.'),
    Parameter('top', integer(1, 1000, default=50),
              'How many domains to show (most events first).'),
    paged=False)
FREEZE_PARAMETERS = Parameters(
    Parameter('all', boolean(), 'Include ended and lifted freezes.'))

# A freeze resource, read from ``(freeze, now, api)``.
FREEZE_RESOURCE = FREEZE_FIELDS + Shape(
    Field('self_link', LINK,
          read=lambda freeze, now, api: path_to(api, f'freezes/{freeze.id}')),
)

# The statistics resource, read from a mapping of its values.
STATS_RESOURCE = Shape(
    Field('list_id', nullable(STRING), 'The list counted, or null for all.'),
    Field('since', nullable(TIME)),
    Field('until', nullable(TIME)),
) + EVENT_STATS_FIELDS + Shape(
    Field('freezes', array(resource_schema(FREEZE_RESOURCE)),
          'The outage freezes in force, newest first.'),
    Field('self_link', LINK),
)


@public
def stats_filter(values: dict, today: datetime) -> EventFilter:
    """The events the statistics count.  ``days`` keeps the last so many
    days (today included), on top of any ``since``."""
    list_id = values.get('list_id')
    return EventFilter(
        list_id=list_id and list_id_of(list_id),
        since=recent(values.get('since'), values.get('days'), today),
        until=values.get('until'))


def _freeze(freeze: OutageFreeze, when: datetime, api) -> dict:
    return FREEZE_RESOURCE.values(freeze, when, api)


@public
class Stats:
    """/plugins/bounces/stats"""

    def on_get(self, request, response):
        """Counts per list, reason, recipient domain and day, and the
        freezes in force."""
        values = STATS_PARAMETERS.read(request, response)
        if values is None:
            return
        when = now()
        where = stats_filter(values, when)
        freezes = [_freeze(freeze, when, self.api) for freeze, in
                   find_freezes(when, list_id=where.list_id).rows]
        for freeze in freezes:
            # Etagged like the entries of the freezes collection.
            etag(freeze)
        resource = STATS_RESOURCE.values({
            **event_stats(where, values['top']),
            'list_id': where.list_id, 'since': where.since,
            'until': where.until, 'freezes': freezes,
            'self_link': path_to(self.api, 'stats')})
        okay(response, etag(resource))


@public
class AllFreezes:
    """/plugins/bounces/freezes"""

    def on_get(self, request, response):
        """The freezes in force, newest first; ``all=true`` adds the ended
        and lifted ones."""
        values = FREEZE_PARAMETERS.read(request, response)
        if values is None:
            return
        when = now()
        page = find_freezes(when, history=bool(values.get('all')),
                            count=values['count'], page=values['page'])
        entries = [_freeze(freeze, when, self.api) for freeze, in page.rows]
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'freezes'))))


@public
class AFreeze:
    """/plugins/bounces/freezes/<id>"""

    def __init__(self, identifier: str):
        self._identifier = identifier

    def _freeze(self, response) -> OutageFreeze | None:
        return row_by_id(OutageFreeze, self._identifier, response, 'freeze')

    def on_get(self, request, response):
        """One freeze, in force or not."""
        freeze = self._freeze(response)
        if freeze is not None:
            okay(response, etag(_freeze(freeze, now(), self.api)))

    def on_delete(self, request, response):
        """Lift the freeze now: the events it held are scored at the next
        pass.  The freeze stays in the history; lifting one that already
        ended changes nothing."""
        freeze = self._freeze(response)
        if freeze is not None:
            lift_freeze(freeze.id, now(), by='rest')
            no_content(response)


@public
class FreezeConfirmation:
    """/plugins/bounces/freezes/<id>/confirm"""

    def __init__(self, identifier: str):
        self._identifier = identifier
        self._id = parse_id(identifier)

    def on_post(self, request, response):
        """A site admin confirms the freeze is an outage: it may go on for
        another ``[outage]max_unconfirmed``, and is back in force if that
        limit ended it."""
        try:
            freeze = (None if self._id is None
                      else confirm_freeze(self._id, now(), by='rest'))
        except CannotConfirm as error:
            bad_request(response, str(error))
            return
        if freeze is None:
            not_found(response, f'No such freeze: {self._identifier}')
            return
        no_content(response)
