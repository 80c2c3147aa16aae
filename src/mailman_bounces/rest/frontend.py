"""What the web front end (`mailman_bounces.web`) reads besides the other
resources: ``frontend/reenable/<token>``, ``frontend/events/<id>/message``,
``frontend/daily``, ``frontend/lists``, ``frontend/lists/<list>``,
``frontend/lists/<list>/evidence`` and ``frontend/callbacks``.  Thin: the work is in
`mailman_bounces.app.frontend`, the shapes in `mailman_bounces.fields`."""

from __future__ import annotations

from mailman.rest.helpers import NotFound, child, etag, not_found, okay
from mailman.utilities.datetime import now
from public import public

from mailman_bounces.app.frontend import (
    MAX_ADDRESSES,
    bouncing_lists,
    callback_outbox,
    list_scoring,
    members_evidence,
    readable_message,
    token_preview,
)
from mailman_bounces.app.queries.lists import find_list, unmatchable
from mailman_bounces.app.queries.stats import daily_counts
from mailman_bounces.fields import (
    CALLBACK_OUTBOX,
    DAILY_COUNTS,
    LIST_SCORING,
    MEMBERS_EVIDENCE,
    READABLE_MESSAGE,
    REENABLE_PREVIEW,
    SITE_LISTS,
)
from mailman_bounces.rest.helpers import (
    Missing,
    Parameter,
    Parameters,
    parse_id,
    path_to,
    text,
)
from mailman_bounces.rest.reenable import TOKEN
from mailman_bounces.rest.stats import STATS_PARAMETERS, stats_filter

# ``frontend/daily`` takes the statistics' parameters but ``top``.
DAILY_PARAMETERS = Parameters(
    *(parameter for parameter in STATS_PARAMETERS
      if parameter.name != 'top'), paged=False)
EVIDENCE_PARAMETERS = Parameters(
    Parameter('addresses', text(),
              f'The addresses, separated by commas (at most '
              f'{MAX_ADDRESSES}).'),
    paged=False)


@public
class Frontend:
    """/plugins/bounces/frontend"""

    @child()
    def reenable(self, context, segments):
        """/plugins/bounces/frontend/reenable/<token>"""
        if len(segments) != 1:
            return NotFound(), []
        return ATokenPreview(segments[0]), []

    @child()
    def events(self, context, segments):
        """/plugins/bounces/frontend/events/<id>/message"""
        if len(segments) != 2 or segments[1] != 'message':
            return NotFound(), []
        return AReadableMessage(segments[0]), []

    @child()
    def daily(self, context, segments):
        """/plugins/bounces/frontend/daily"""
        if segments:
            return NotFound(), []
        return DailyCounts(), []

    @child()
    def lists(self, context, segments):
        """/plugins/bounces/frontend/lists[/<list>[/evidence]]"""
        if not segments:
            return BouncingLists(), []
        if len(segments) > 2 or segments[1:] not in ([], ['evidence']):
            return NotFound(), []
        mlist = find_list(segments[0])
        if mlist is None:
            return Missing(f'No such list: {segments[0]}'), []
        if len(segments) == 1:
            return AListScoring(mlist), []
        return MembersEvidence(mlist.list_id), []

    @child()
    def callbacks(self, context, segments):
        """/plugins/bounces/frontend/callbacks"""
        if segments:
            return NotFound(), []
        return CallbackOutbox(), []


@public
class ATokenPreview:
    """/plugins/bounces/frontend/reenable/<token>"""

    def __init__(self, token: str):
        self._token = token

    def on_get(self, request, response):
        """The subscription the token would re-enable; the token stays
        usable (redeem it with a POST to ``reenable/<token>``)."""
        preview = (token_preview(self._token)
                   if TOKEN.fullmatch(self._token) else None)
        if preview is None:
            not_found(response, 'Unknown, used or expired token')
            return
        okay(response, etag(REENABLE_PREVIEW.values(preview)))


@public
class AReadableMessage:
    """/plugins/bounces/frontend/events/<id>/message"""

    def __init__(self, identifier: str):
        self._identifier = identifier
        self._id = parse_id(identifier)

    def on_get(self, request, response):
        """The stored message's headers and readable text."""
        message = None if self._id is None else readable_message(self._id)
        if message is None:
            not_found(response,
                      f'No stored message for event {self._identifier}')
            return
        okay(response, etag(READABLE_MESSAGE.values(message)))


@public
class DailyCounts:
    """/plugins/bounces/frontend/daily"""

    def on_get(self, request, response):
        """Events per day, severity and reason."""
        values = DAILY_PARAMETERS.read(request, response)
        if values is None:
            return
        where = stats_filter(values, now())
        okay(response, etag(DAILY_COUNTS.values({
            'list_id': where.list_id, 'since': where.since,
            'entries': daily_counts(where),
            'self_link': path_to(self.api, 'frontend/daily')})))


@public
class BouncingLists:
    """/plugins/bounces/frontend/lists"""

    def on_get(self, request, response):
        """The lists with bouncing members, most first."""
        okay(response, etag(SITE_LISTS.values({
            'entries': bouncing_lists(),
            'self_link': path_to(self.api, 'frontend/lists')})))


@public
class AListScoring:
    """/plugins/bounces/frontend/lists/<list>"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """What the list's members are measured against: the threshold
        and the warnings before removal."""
        okay(response, etag(LIST_SCORING.values({
            **list_scoring(self._mlist),
            'self_link': path_to(
                self.api, f'frontend/lists/{self._mlist.list_id}')})))


@public
class MembersEvidence:
    """/plugins/bounces/frontend/lists/<list>/evidence"""

    def __init__(self, list_id: str):
        self._list_id = list_id

    def on_get(self, request, response):
        """How verified each address's events on the list are."""
        values = EVIDENCE_PARAMETERS.read(request, response)
        if values is None:
            return
        # An address that cannot be stored has no events (and MySQL
        # refuses to compare with it).
        emails = [email.strip() for email
                  in values.get('addresses', '').split(',')
                  if email.strip() and not unmatchable(email.strip())]
        okay(response, etag(MEMBERS_EVIDENCE.values({
            'list_id': self._list_id,
            'entries': members_evidence(self._list_id, emails),
            'self_link': path_to(
                self.api, f'frontend/lists/{self._list_id}/evidence')})))


@public
class CallbackOutbox:
    """/plugins/bounces/frontend/callbacks"""

    def on_get(self, request, response):
        """Every callback endpoint and its outbox."""
        okay(response, etag(CALLBACK_OUTBOX.values({
            'entries': callback_outbox(),
            'self_link': path_to(self.api, 'frontend/callbacks')})))
