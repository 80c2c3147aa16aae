"""Message tracking: ``lists/<list>/tracking[/<message id>]``.

The list's tracked posts with the counts of their copies, and one post's
copies by recipient.  A message id is given without its angle brackets
(with them, percent-encoded, works too).
"""

from __future__ import annotations

from urllib.parse import quote

from mailman.rest.helpers import not_found, okay
from public import public

from mailman_bounces.app.queries.tracking import (
    COPY_FIELDS,
    POST_FIELDS,
    find_copies,
    find_post,
    find_posts,
)
from mailman_bounces.fields import LINK, Field, Shape
from mailman_bounces.rest.helpers import (
    Parameters,
    collection,
    etag,
    path_to,
)

# Only paging.
TRACKING_PARAMETERS = Parameters()


def post_path(list_id: str, message_id: str) -> str:
    return (f'lists/{list_id}/tracking/'
            + quote(message_id.strip().strip('<>'), safe='@+'))


# A tracked post's resource, read from ``(PostCounts, api)``.
POST_RESOURCE = POST_FIELDS + Shape(
    Field('copies_link', LINK, "The post's copies, by recipient.",
          read=lambda row, api: path_to(
              api, post_path(row.post.list_id, row.post.message_id))),
)
# One copy's resource, read from ``(TrackedDelivery, api)``.
COPY_RESOURCE = COPY_FIELDS


@public
class ListTracking:
    """/plugins/bounces/lists/<list>/tracking"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """The list's tracked posts, newest first, with their counts."""
        values = TRACKING_PARAMETERS.read(request, response)
        if values is None:
            return
        page = find_posts(self._mlist.list_id, values['count'],
                          values['page'])
        entries = [POST_RESOURCE.values(row, self.api) for row in page.rows]
        okay(response, etag(collection(page, entries, path_to(
            self.api, f'lists/{self._mlist.list_id}/tracking'))))


@public
class ATrackedPost:
    """/plugins/bounces/lists/<list>/tracking/<message id>"""

    def __init__(self, mlist, message_id: str):
        self._mlist = mlist
        self._message_id = message_id

    def on_get(self, request, response):
        """The post's copies by recipient address, paged."""
        values = TRACKING_PARAMETERS.read(request, response)
        if values is None:
            return
        found = find_post(self._mlist.list_id, self._message_id)
        if found is None:
            not_found(response, 'No such tracked post: '
                      + self._message_id)
            return
        page = find_copies(found.post, values['count'], values['page'])
        entries = [COPY_RESOURCE.values(row, self.api) for row in page.rows]
        okay(response, etag(collection(page, entries, path_to(
            self.api, post_path(self._mlist.list_id,
                                found.post.message_id)))))
