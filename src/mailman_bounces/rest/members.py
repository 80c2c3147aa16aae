"""Members' bounce standing: ``lists/<list>``, ``lists/<list>/members``,
``lists/<list>/members/<address>`` and ``.../<address>/reset``."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from mailman.interfaces.member import DeliveryStatus
from mailman.rest.helpers import (
    NotFound,
    bad_request,
    child,
    etag,
    no_content,
    not_found,
    okay,
)
from public import public

from mailman_bounces.app.queries import (
    DELIVERY_STATUSES,
    find_member,
    find_members,
    member_object,
    standing_fields,
)
from mailman_bounces.app.reenable import reenable_member
from mailman_bounces.rest.helpers import (
    boolean,
    choice,
    collection,
    path_to,
    query_validator,
    read_query,
)
from mailman_bounces.rest.settings import ListSettings

MEMBER_PARAMETERS = query_validator(
    bouncing=boolean, delivery_status=choice(DELIVERY_STATUSES))


def _not_a_member(mlist, email: str) -> str:
    return f'{email} is not a member of {mlist.list_id}'


def _events_link(api, list_id: str, email: str | None = None) -> str:
    query = {'list_id': list_id}
    if email is not None:
        query['address'] = email
    return path_to(api, 'events?' + urlencode(query))


@public
class ABounceList:
    """/plugins/bounces/lists/<list>: links to what the plugin knows about
    one mailing list."""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """Links to the list's settings, members, events and statistics."""
        list_id = self._mlist.list_id
        okay(response, etag({
            'list_id': list_id,
            'fqdn_listname': self._mlist.fqdn_listname,
            'settings_link': path_to(self.api, f'lists/{list_id}/settings'),
            'members_link': path_to(self.api, f'lists/{list_id}/members'),
            'events_link': _events_link(self.api, list_id),
            'stats_link': path_to(self.api, 'stats?'
                                  + urlencode({'list_id': list_id})),
            'self_link': path_to(self.api, f'lists/{list_id}'),
        }))

    @child()
    def settings(self, context, segments):
        """/plugins/bounces/lists/<list>/settings"""
        if segments:
            return NotFound(), []
        return ListSettings(self._mlist), []

    @child()
    def members(self, context, segments):
        """/plugins/bounces/lists/<list>/members[/<address>[/reset]]"""
        if not segments:
            return ListMembers(self._mlist), []
        email = segments.pop(0)
        return AMemberStanding(self._mlist, email), segments


class _StandingBase:
    """What the member resources share."""

    def _standing_as_dict(self, row) -> dict:
        resource = standing_fields(row)
        list_id, email = row.list_id, row.email
        resource.update(
            member_link=self.api.path_to(
                f'members/{self.api.from_uuid(row.uuid)}'),
            events_link=_events_link(self.api, list_id, email),
            self_link=path_to(self.api, f'lists/{list_id}/members/'
                                        + quote(email, safe='@+')))
        if row.last_event_id is not None:
            resource['last_event_link'] = path_to(
                self.api, f'events/{row.last_event_id}')
        return resource


@public
class ListMembers(_StandingBase):
    """/plugins/bounces/lists/<list>/members"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """The list's members (role member) and their bounce standing, by
        address; ``bouncing`` and ``delivery_status`` filter them."""
        try:
            values = read_query(MEMBER_PARAMETERS, request)
        except ValueError as error:
            bad_request(response, str(error))
            return
        status = values.get('delivery_status')
        page = find_members(
            self._mlist.list_id, bouncing=values.get('bouncing'),
            delivery_status=status and DeliveryStatus[status],
            count=values['count'], page=values['page'])
        entries = [self._standing_as_dict(row) for row in page.rows]
        okay(response, etag(collection(page, entries, path_to(
            self.api, f'lists/{self._mlist.list_id}/members'))))


@public
class AMemberStanding(_StandingBase):
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
        okay(response, etag(self._standing_as_dict(row)))

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
