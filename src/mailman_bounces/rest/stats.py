"""Statistics and outage freezes: ``stats``, ``freezes`` and
``freezes/<id>``."""

from __future__ import annotations

from datetime import datetime

from mailman.config import config
from mailman.rest.helpers import (
    bad_request,
    etag,
    no_content,
    not_found,
    okay,
)
from mailman.utilities.datetime import now
from public import public

from mailman_bounces.app.outage import lift_freeze
from mailman_bounces.app.queries import (
    EventFilter,
    event_stats,
    find_freezes,
    freeze_fields,
    list_id_of,
    recent,
)
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.rest.helpers import (
    boolean,
    collection,
    integer,
    parse_id,
    path_to,
    query_validator,
    read_query,
    text,
    time_point,
)

STATS_PARAMETERS = query_validator(
    paged=False, list_id=text(), since=time_point(), until=time_point(end_of_day=True),
    days=integer(1, 36500), top=integer(1, 1000))
FREEZE_PARAMETERS = query_validator(all=boolean)


@public
def stats_filter(values: dict, today: datetime) -> EventFilter:
    """The events the statistics count.  ``days`` keeps the last so many
    days (today included), on top of any ``since``."""
    list_id = values.get('list_id')
    return EventFilter(
        list_id=list_id and list_id_of(list_id),
        since=recent(values.get('since'), values.get('days'), today),
        until=values.get('until'))


class _FreezeBase:
    def _freeze_as_dict(self, freeze: OutageFreeze, when: datetime) -> dict:
        resource = freeze_fields(freeze, when)
        resource['self_link'] = path_to(self.api, f'freezes/{freeze.id}')
        return resource


@public
class Stats(_FreezeBase):
    """/plugins/bounces/stats"""

    def on_get(self, request, response):
        """Counts per list, reason, recipient domain and day, and the
        freezes in force."""
        try:
            values = read_query(STATS_PARAMETERS, request)
        except ValueError as error:
            bad_request(response, str(error))
            return
        when = now()
        where = stats_filter(values, when)
        resource = event_stats(where, values.get('top', 50))
        freezes = [self._freeze_as_dict(freeze, when) for freeze, in
                   find_freezes(when, list_id=where.list_id).rows]
        for freeze in freezes:
            # Etagged like the entries of the freezes collection.
            etag(freeze)
        resource.update(
            list_id=where.list_id, since=where.since, until=where.until,
            freezes=freezes, self_link=path_to(self.api, 'stats'))
        okay(response, etag(resource))


@public
class AllFreezes(_FreezeBase):
    """/plugins/bounces/freezes"""

    def on_get(self, request, response):
        """The freezes in force, newest first; ``all=true`` adds the ended
        and lifted ones."""
        try:
            values = read_query(FREEZE_PARAMETERS, request)
        except ValueError as error:
            bad_request(response, str(error))
            return
        when = now()
        page = find_freezes(when, history=bool(values.get('all')),
                            count=values['count'], page=values['page'])
        entries = [self._freeze_as_dict(freeze, when)
                   for freeze, in page.rows]
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'freezes'))))


@public
class AFreeze(_FreezeBase):
    """/plugins/bounces/freezes/<id>"""

    def __init__(self, identifier: str):
        self._id = parse_id(identifier)

    def _freeze(self, response) -> OutageFreeze | None:
        if self._id is None:
            bad_request(response, 'The freeze id must be an integer')
            return None
        freeze = config.db.store.get(OutageFreeze, self._id)
        if freeze is None:
            not_found(response, f'No such freeze: {self._id}')
        return freeze

    def on_get(self, request, response):
        """One freeze, in force or not."""
        freeze = self._freeze(response)
        if freeze is not None:
            okay(response, etag(self._freeze_as_dict(freeze, now())))

    def on_delete(self, request, response):
        """Lift the freeze now: the events it held are scored at the next
        pass.  The freeze stays in the history; lifting one that already
        ended changes nothing."""
        if self._freeze(response) is not None:
            lift_freeze(self._id, now(), by='rest')
            no_content(response)
