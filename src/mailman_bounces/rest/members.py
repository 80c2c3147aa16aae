"""Members' bounce standing: ``lists/<list>``, ``lists/<list>/members``,
``lists/<list>/members/<address>`` and ``.../<address>/reset``."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from mailman.interfaces.member import DeliveryStatus
from mailman.rest.helpers import (
    NotFound,
    child,
    no_content,
    not_found,
    okay,
)
from public import public

from mailman_bounces.app.queries.members import (
    STANDING_FIELDS,
    find_member,
    find_members,
    member_object,
)
from mailman_bounces.app.reenable import reenable_member
from mailman_bounces.fields import LINK, OMIT, STRING, Field, Shape
from mailman_bounces.rest.callbacks import ACallbackEndpoint, ListCallbacks
from mailman_bounces.rest.helpers import (
    Parameter,
    Parameters,
    boolean,
    collection,
    enum,
    etag,
    path_to,
)
from mailman_bounces.rest.rules import AListRule, ListRules
from mailman_bounces.rest.settings import ListSettings
from mailman_bounces.rest.tracking import ATrackedPost, ListTracking

MEMBER_PARAMETERS = Parameters(
    Parameter('bouncing', boolean(),
              'Only members with a score or disabled by bounces (true), '
              'or the others (false).'),
    Parameter('delivery_status', enum(DeliveryStatus),
              'Only members with this delivery status.'))


def _not_a_member(mlist, email: str) -> str:
    return f'{email} is not a member of {mlist.list_id}'


def _events_link(api, list_id: str, email: str | None = None) -> str:
    query = {'list_id': list_id}
    if email is not None:
        query['address'] = email
    return path_to(api, 'events?' + urlencode(query))


def _list_link(path: str):
    return lambda mlist, api: path_to(api, f'lists/{mlist.list_id}{path}')


# The resource of one list, read from ``(mlist, api)``.
LIST_RESOURCE = Shape(
    Field('list_id', STRING),
    Field('fqdn_listname', STRING),
    Field('settings_link', LINK, read=_list_link('/settings')),
    Field('members_link', LINK, read=_list_link('/members')),
    Field('tracking_link', LINK, read=_list_link('/tracking')),
    Field('events_link', LINK,
          read=lambda mlist, api: _events_link(api, mlist.list_id)),
    Field('stats_link', LINK,
          read=lambda mlist, api: path_to(
              api, 'stats?' + urlencode({'list_id': mlist.list_id}))),
    Field('self_link', LINK, read=_list_link('')),
)


def _member_link(row, api) -> str:
    return api.path_to(f'members/{api.from_uuid(row.uuid)}')


def _last_event_link(row, api):
    if row.last_event_id is None:
        return OMIT
    return path_to(api, f'events/{row.last_event_id}')


def _standing_link(row, api) -> str:
    return path_to(api, f'lists/{row.list_id}/members/'
                   + quote(row.email, safe='@+'))


# A member's standing resource, read from ``(row, api)``.
STANDING_RESOURCE = STANDING_FIELDS + Shape(
    Field('member_link', LINK, "Core's member resource.", read=_member_link),
    Field('events_link', LINK,
          read=lambda row, api: _events_link(api, row.list_id, row.email)),
    Field('last_event_link', LINK, read=_last_event_link, optional=True),
    Field('self_link', LINK, read=_standing_link),
)


@public
class ABounceList:
    """/plugins/bounces/lists/<list>: links to what the plugin knows about
    one mailing list."""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """Links to the list's settings, members, events and statistics."""
        okay(response, etag(LIST_RESOURCE.values(self._mlist, self.api)))

    @child()
    def settings(self, context, segments):
        """/plugins/bounces/lists/<list>/settings"""
        if segments:
            return NotFound(), []
        return ListSettings(self._mlist), []

    @child()
    def rules(self, context, segments):
        """/plugins/bounces/lists/<list>/rules[/<id>]"""
        if not segments:
            return ListRules(self._mlist), []
        if len(segments) > 1:
            return NotFound(), []
        return AListRule(self._mlist, segments[0]), []

    @child()
    def tracking(self, context, segments):
        """/plugins/bounces/lists/<list>/tracking[/<message id>]"""
        if not segments:
            return ListTracking(self._mlist), []
        if len(segments) > 1:
            return NotFound(), []
        return ATrackedPost(self._mlist, segments[0]), []

    @child()
    def members(self, context, segments):
        """/plugins/bounces/lists/<list>/members[/<address>[/reset]]"""
        if not segments:
            return ListMembers(self._mlist), []
        email = segments.pop(0)
        return AMemberStanding(self._mlist, email), segments

    @child()
    def callbacks(self, context, segments):
        """/plugins/bounces/lists/<list>/callbacks[/<id>]"""
        if not segments:
            return ListCallbacks(self._mlist), []
        if len(segments) > 1:
            return NotFound(), []
        return ACallbackEndpoint(self._mlist, segments[0]), []


@public
class ListMembers:
    """/plugins/bounces/lists/<list>/members"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """The list's members (role member) and their bounce standing, by
        address; ``bouncing`` and ``delivery_status`` filter them."""
        values = MEMBER_PARAMETERS.read(request, response)
        if values is None:
            return
        page = find_members(
            self._mlist.list_id, bouncing=values.get('bouncing'),
            delivery_status=values.get('delivery_status'),
            count=values['count'], page=values['page'])
        entries = [STANDING_RESOURCE.values(row, self.api)
                   for row in page.rows]
        okay(response, etag(collection(page, entries, path_to(
            self.api, f'lists/{self._mlist.list_id}/members'))))


@public
class AMemberStanding:
    """/plugins/bounces/lists/<list>/members/<address>"""

    def __init__(self, mlist, email: str):
        self._mlist = mlist
        self._email = email

    def on_get(self, request, response):
        """One member's bounce standing."""
        row = find_member(self._mlist.list_id, self._email)
        if row is None:
            not_found(response, _not_a_member(self._mlist, self._email))
            return
        okay(response, etag(STANDING_RESOURCE.values(row, self.api)))

    @child()
    def reset(self, context, segments):
        """/plugins/bounces/lists/<list>/members/<address>/reset"""
        if segments:
            return NotFound(), []
        return MemberReset(self._mlist, self._email), []


@public
class MemberReset:
    """POST: re-enable the member's delivery and clear their score."""

    def __init__(self, mlist, email: str):
        self._mlist = mlist
        self._email = email

    def on_post(self, request, response):
        """Re-enable delivery (if bounces disabled it) and clear the
        member's score and warnings.  The member is not notified."""
        row = find_member(self._mlist.list_id, self._email)
        if row is None:
            not_found(response, _not_a_member(self._mlist, self._email))
            return
        reenable_member(member_object(row))
        no_content(response)
