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
from mailman_bounces.rest.helpers import etag, path_to

# Mailman's pending tokens are hexadecimal digests; anything else cannot
# be one (and is not sent to the database).
TOKEN = re.compile(r'[0-9A-Za-z]{1,64}')


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
        list_id = redeemed.mlist.list_id
        okay(response, etag({
            'list_id': list_id,
            'email': redeemed.email,
            'was_disabled': redeemed.was_disabled,
            'member_link': path_to(
                self.api, f'lists/{list_id}/members/'
                + quote(redeemed.email, safe='@+')),
        }))
