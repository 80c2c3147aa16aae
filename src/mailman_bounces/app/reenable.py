"""Warnings with a way back, and re-enabling delivery.

Core's disabled-delivery warning tells a member their delivery is disabled
but offers no way to turn it back on.  The plugin's warning carries a
one-time re-enable token: the member replies to the warning (its subject is
the ``reenable TOKEN`` email command, see
`mailman_bounces.commands.eml_reenable`), or follows the site's
``reenable_url`` link whose web front end calls the REST API.
"""

from __future__ import annotations

import logging
from typing import Any

from lazr.config import as_boolean
from mailman.config import config
from mailman.email.message import UserNotification
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.member import DeliveryStatus
from mailman.interfaces.pending import IPendable, IPendings
from mailman.model.member import Member
from public import public
from zope.component import getUtility
from zope.interface import implementer

from mailman_bounces.app.templates import render
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.model.notice import Notice
from mailman_bounces.plugin import site_config

log = logging.getLogger('mailman.bounce')

PEND_TYPE = 'bounces-reenable'


@implementer(IPendable)
class ReenablePendable(dict):
    """The pended data of a re-enable token."""

    PEND_TYPE = PEND_TYPE


@public
def issue_token(member: Member) -> str:
    """A fresh one-time re-enable token for `member`."""
    pendable = ReenablePendable(member_id=str(member.id),
                                list_id=member.list_id)
    return getUtility(IPendings).add(
        pendable, lifetime=site_config().reenable_token_lifetime)


@public
def redeem_token(token: str):
    """The (mailing list, member) a token re-enables, consuming it; None if
    the token is unknown, used, expired or of another kind."""
    pendings = getUtility(IPendings)
    pended = pendings.confirm(token, expunge=False)
    if pended is None or pended.get('type') != PEND_TYPE:
        return None
    pendings.confirm(token, expunge=True)
    mlist = getUtility(IListManager).get_by_list_id(pended['list_id'])
    member = config.db.store.get(Member, int(pended['member_id']))
    if mlist is None or member is None:
        return None
    return mlist, member


@public
def reenable_member(member: Member) -> bool:
    """Turn delivery back on and clear the member's bounce standing.

    Returns whether delivery had been disabled by bounces.
    """
    was_disabled = (member.preferences.delivery_status
                    == DeliveryStatus.by_bounces)
    if was_disabled:
        member.preferences.delivery_status = DeliveryStatus.enabled
    member.bounce_score = 0
    member.total_warnings_sent = 0
    member.last_bounce_received = None
    state = config.db.store.get(MemberBounceState, member.id)
    if state is not None:
        state.score = 0.0
        state.core_score = 0
        state.disabled_at = None
        state.next_warning_check = None
        state.probe_sent = None
        state.probe_token = None
        state.scored_day = None
        state.day_weight = 0.0
        state.run_started = None
        state.sympa_level = 0
    return was_disabled


def _link(token: str) -> str:
    url = site_config().reenable_url
    if not url:
        return ''
    return ('Or re-enable it in one click:\n\n    '
            + url.replace('$token', token) + '\n')


@public
def send_warning(mlist, notice: Notice, data: dict[str, Any]) -> None:
    """Send the disabled-delivery warning `notice` asks for."""
    member = config.db.store.get(Member, notice.member_id)
    if member is None or (member.preferences.delivery_status
                          != DeliveryStatus.by_bounces):
        log.info('Warning to %s on %s not sent: re-enabled or gone',
                 notice.email, mlist.list_id)
        return
    from mailman_bounces.app.notices import _event_data
    token = issue_token(member)
    email = member.address.email
    values = {
        'email': email, 'token': token, 'reenable_link': _link(token),
        'warning_number': str(data.get('warning_number', 1)),
        'warnings': str(mlist.bounce_you_are_disabled_warnings),
        'reason_text': 'unknown', 'diagnostic': '',
        **_event_data(notice.event_id),
    }
    language = member.preferred_language
    text = render('list:user:notice:bounce-warning', mlist, values,
                  language.code)
    subject = (f'reenable {token} - your {mlist.display_name} '
               'subscription is disabled')
    msg = UserNotification(email, mlist.request_address, subject, text,
                           language)
    msg.send(mlist, verp=as_boolean(config.mta.verp_personalized_deliveries))
    log.info('Disabled-delivery warning %s sent to %s on %s',
             values['warning_number'], email, mlist.list_id)
