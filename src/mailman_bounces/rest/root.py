"""The root of the plugin's REST resources, /3.1/plugins/<plugin name>/.

Mailman routes every request below the root through core's ``APlugin``
proxy to the children here (core's ``child()`` routing), behind core's
REST admin authentication.  The API is described by ``openapi.json``.
"""

from __future__ import annotations

from mailman.rest.helpers import NotFound, child, okay
from public import public

from mailman_bounces.app.queries.lists import find_list
from mailman_bounces.rest.callbacks import AllCallbacks
from mailman_bounces.rest.events import AllEvents, AnEvent
from mailman_bounces.rest.frontend import Frontend
from mailman_bounces.rest.helpers import Missing, etag
from mailman_bounces.rest.index import ROOT_RESOURCE
from mailman_bounces.rest.mailboxes import AllMailboxes, AMailbox
from mailman_bounces.rest.members import ABounceList
from mailman_bounces.rest.openapi import OpenAPIDocument
from mailman_bounces.rest.reenable import AReenableToken
from mailman_bounces.rest.stats import (
    AFreeze,
    AllFreezes,
    FreezeConfirmation,
    Stats,
)


@public
class BouncesRoot:
    """/<api>/plugins/bounces"""

    def on_get(self, request, response):
        """The plugin's name and version, and links to its resources."""
        # Core's proxy keeps the API object, so the root has none itself.
        okay(response, etag(ROOT_RESOURCE.values(getattr(self, 'api', None))))

    @child()
    def events(self, context, segments):
        """/plugins/bounces/events[/<id>[/message]]"""
        if not segments:
            return AllEvents(), []
        return AnEvent(segments.pop(0)), segments

    @child()
    def lists(self, context, segments):
        """/plugins/bounces/lists/<list>/..."""
        if not segments:
            return NotFound(), []
        identifier = segments.pop(0)
        mlist = find_list(identifier)
        if mlist is None:
            return Missing(f'No such list: {identifier}'), []
        return ABounceList(mlist), segments

    @child()
    def reenable(self, context, segments):
        """/plugins/bounces/reenable/<token>"""
        if len(segments) != 1:
            return NotFound(), []
        return AReenableToken(segments[0]), []

    @child()
    def stats(self, context, segments):
        """/plugins/bounces/stats"""
        if segments:
            return NotFound(), []
        return Stats(), []

    @child()
    def freezes(self, context, segments):
        """/plugins/bounces/freezes[/<id>[/confirm]]"""
        if not segments:
            return AllFreezes(), []
        if len(segments) == 2 and segments[1] == 'confirm':
            return FreezeConfirmation(segments[0]), []
        if len(segments) > 1:
            return NotFound(), []
        return AFreeze(segments[0]), []

    @child()
    def callbacks(self, context, segments):
        """/plugins/bounces/callbacks"""
        if segments:
            return NotFound(), []
        return AllCallbacks(), []

    @child()
    def frontend(self, context, segments):
        """/plugins/bounces/frontend/..."""
        if not segments:
            return NotFound(), []
        return Frontend(), segments

    @child()
    def mailboxes(self, context, segments):
        """/plugins/bounces/mailboxes[/<name>]"""
        if not segments:
            return AllMailboxes(), []
        if len(segments) > 1:
            return NotFound(), []
        return AMailbox(segments[0]), []

    @child('openapi.json')
    def openapi(self, context, segments):
        """/plugins/bounces/openapi.json"""
        if segments:
            return NotFound(), []
        return OpenAPIDocument(), []
