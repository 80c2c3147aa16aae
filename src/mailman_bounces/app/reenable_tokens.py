"""One-time re-enable tokens, kept in Mailman's pendings.

A disabled-delivery warning carries one (see
`mailman_bounces.app.member_notices`); redeeming it re-enables the member
(see `mailman_bounces.app.reenable`).

Core's ``IPendings.confirm`` answers for a token past its expiration date
too: expired pendings are only deleted by core's task runner (hourly, and
never if it does not run).  So the date is checked here, and an expired
token is deleted when it is presented.
"""

from __future__ import annotations

from mailman.config import config
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.pending import IPendable, IPendings
from mailman.model.member import Member
from mailman.model.pending import Pended
from mailman.utilities.datetime import now
from public import public
from zope.component import getUtility
from zope.interface import implementer

from mailman_bounces.config import site_config

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
def peek_token(token: str):
    """The (mailing list, member) a token would re-enable, leaving it in
    place (for the page that shows it before the member confirms); None
    if it is unknown, used, expired or of another kind."""
    pended = _pended(token)
    if pended is None:
        return None
    return _pended_member(pended)


def _pended(token: str):
    """The data of a re-enable `token` in force, or None (an expired one
    is deleted)."""
    pendings = getUtility(IPendings)
    pended = pendings.confirm(token, expunge=False)
    if pended is None or pended.get('type') != PEND_TYPE:
        return None
    expires = config.db.store.query(Pended.expiration_date).filter_by(
        token=str(token)).scalar()
    if expires is not None and expires <= now():
        pendings.confirm(token, expunge=True)
        return None
    return pended


def _pended_member(pended):
    mlist = getUtility(IListManager).get_by_list_id(pended['list_id'])
    member = config.db.store.get(Member, int(pended['member_id']))
    if mlist is None or member is None:
        return None
    return mlist, member


@public
def redeem_token(token: str, list_id: str | None = None):
    """The (mailing list, member) a token re-enables, consuming it; None if
    the token is unknown, used, expired or of another kind, or (when
    `list_id` is given) for another list: such a token stays unused, so a
    reply that reached the wrong list does not spend it."""
    pended = _pended(token)
    if pended is None:
        return None
    if list_id is not None and pended['list_id'] != list_id:
        return None
    getUtility(IPendings).confirm(token, expunge=True)
    return _pended_member(pended)
