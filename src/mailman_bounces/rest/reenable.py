"""Redeeming a re-enable token: ``reenable/<token>``.

A disabled-delivery warning can carry a link (the site's
``reenable_url``) to the site's web front end, which calls this resource
with REST admin credentials when the member follows the link.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from mailman.rest.helpers import etag, not_found, okay
from public import public

from mailman_bounces.app.notices import queue_notice
from mailman_bounces.app.reenable import redeem_token, reenable_member
from mailman_bounces.rest.helpers import path_to

# Mailman's pending tokens are hexadecimal digests; anything else cannot
# be one (and is not sent to the database).
_TOKEN = re.compile(r'[0-9A-Za-z]{1,64}')


@public
class AReenableToken:
    """/plugins/bounces/reenable/<token>"""

    def __init__(self, token: str):
        self._token = token

    def on_post(self, request, response):
        """Redeem the token: re-enable the member's delivery and clear
        their score; the member gets the usual confirmation.  A token
        works once."""
        redeemed = (redeem_token(self._token)
                    if _TOKEN.fullmatch(self._token) else None)
        if redeemed is None:
            not_found(response, 'Unknown, used or expired token')
            return
        mlist, member = redeemed
        was_disabled = reenable_member(member)
        email = member.address.email
        # What the reply to the warning does too (see eml_reenable).
        queue_notice('reenabled', list_id=mlist.list_id, email=email,
                     member_id=member.id)
        okay(response, etag({
            'list_id': mlist.list_id,
            'email': email,
            'was_disabled': was_disabled,
            'member_link': path_to(
                self.api, f'lists/{mlist.list_id}/members/'
                + quote(email, safe='@+')),
        }))
