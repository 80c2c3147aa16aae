"""Redeeming a re-enable token: ``reenable/<token>``.

A disabled-delivery warning can carry a link (the site's
``reenable_url``) to the site's web front end, which calls this resource
with REST admin credentials when the member follows the link.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from mailman.rest.helpers import not_found, okay
from public import public

from mailman_bounces.app.reenable import redeem
from mailman_bounces.fields import BOOLEAN, LINK, STRING, Field, Shape
from mailman_bounces.rest.helpers import etag, path_to

# Mailman's pending tokens are hexadecimal digests; anything else cannot
# be one (and is not sent to the database).
TOKEN = re.compile(r'[0-9A-Za-z]{1,64}')


def _member_link(redeemed, api) -> str:
    return path_to(api, f'lists/{redeemed.mlist.list_id}/members/'
                   + quote(redeemed.email, safe='@+'))


# What redeeming answers, read from the `Redeemed` outcome and the API.
REENABLED_RESOURCE = Shape(
    Field('list_id', STRING, read=lambda redeemed, api:
          redeemed.mlist.list_id),
    Field('email', STRING),
    Field('was_disabled', BOOLEAN,
          'Whether delivery was disabled by bounces until now.'),
    Field('member_link', LINK, read=_member_link),
)


@public
class AReenableToken:
    """/plugins/bounces/reenable/<token>"""

    def __init__(self, token: str):
        self._token = token

    def on_post(self, request, response):
        """Redeem the token: re-enable the member's delivery and clear
        their score; the member gets the usual confirmation.  A token
        works once."""
        redeemed = (redeem(self._token)
                    if TOKEN.fullmatch(self._token) else None)
        if redeemed is None:
            not_found(response, 'Unknown, used or expired token')
            return
        okay(response, etag(REENABLED_RESOURCE.values(redeemed, self.api)))
