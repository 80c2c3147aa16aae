"""The bounce mailboxes: ``mailboxes`` and ``mailboxes/<name>``."""

from __future__ import annotations

from mailman.rest.helpers import etag, not_found, okay
from public import public

from mailman_bounces.app.mailboxes.status import mailbox_statuses
from mailman_bounces.app.queries.paging import Page
from mailman_bounces.fields import LINK, MAILBOX, Field, Shape
from mailman_bounces.rest.helpers import collection, path_to

# A mailbox resource, read from ``(status, api)``.
MAILBOX_RESOURCE = MAILBOX + Shape(
    Field('self_link', LINK,
          read=lambda status, api: path_to(api, f'mailboxes/{status.name}')),
)


@public
class AllMailboxes:
    """/plugins/bounces/mailboxes"""

    def on_get(self, request, response):
        """Every configured mailbox and how its polling goes."""
        entries = [MAILBOX_RESOURCE.values(status, self.api)
                   for status in mailbox_statuses()]
        page = Page(0, len(entries), entries)
        okay(response, etag(collection(
            page, entries, path_to(self.api, 'mailboxes'))))


@public
class AMailbox:
    """/plugins/bounces/mailboxes/<name>"""

    def __init__(self, name: str):
        self._name = name

    def on_get(self, request, response):
        """One mailbox."""
        for status in mailbox_statuses():
            if status.name == self._name:
                okay(response, etag(MAILBOX_RESOURCE.values(status,
                                                            self.api)))
                return
        not_found(response, f'No such mailbox: {self._name}')
