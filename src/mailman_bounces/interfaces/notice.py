"""Notices: the kinds the outbox carries, and what carrying one out takes.

The periodic pass records a notice (a row of ``bounces_notice``) in the
transaction that makes a decision, and carries it out once that is
committed (see `mailman_bounces.app.notices`).  Each `NoticeKind` has one
`INoticeHandler` that renders and sends it, or performs the mail-sending
action it stands for (a probe, a removal); the handlers are listed in
`mailman_bounces.app.notice_handlers`.
"""

from enum import StrEnum

from public import public
from zope.interface import Attribute, Interface


@public
class NoticeKind(StrEnum):
    """What a notice is.  The value is what ``bounces_notice.kind`` holds."""

    # Owners: a member's bounce score went up.
    notify_increment = 'notify_increment'
    # Owners: a member's delivery was disabled.
    notify_disable = 'notify_disable'
    # Owners: an abuse complaint names a member.
    notify_complaint = 'notify_complaint'
    # Owners: a member reached a Sympa bounce level.
    notify_level = 'notify_level'
    # Owners: the period's bounces not held against members.
    notify_ignored = 'notify_ignored'
    # Remove a member after the last warning (if still due then).
    remove = 'remove'
    # Unsubscribe a member now (a complaint, a Sympa level).
    unsubscribe = 'unsubscribe'
    # Send a member a probe.
    probe = 'probe'
    # Member: delivery disabled, and how to re-enable it.
    warning = 'warning'
    # Member: subscriptions moved to another verified address.
    failover = 'failover'
    # Member: delivery re-enabled.
    reenabled = 'reenabled'
    # Owners or site admin: scoring frozen for a failing domain or server.
    outage = 'outage'
    # Site admin: a freeze reached the limit of unconfirmed freezes.
    outage_cap = 'outage_cap'
    # Site admin: a burst of bounces to forged signed addresses.
    notify_forged = 'notify_forged'


@public
class INoticeBatch(Interface):
    """What the notices carried out in one transaction share, loaded once
    for all of them."""

    def mailing_list(list_id):
        """The mailing list `list_id` of the batch.

        :raises LookupError: when there is no such list.
        """

    def administrators(mlist):
        """The roster owner notices about `mlist` go to (its owners and
        moderators), as `OwnerNotification` takes it."""


@public
class INoticeHandler(Interface):
    """How one kind of notice is carried out.

    A handler renders the notice from a Mailman template and queues the
    mail, or performs the mail-sending action the notice stands for.  It
    runs in the transaction that marks the notice sent: raising rolls that
    back, and the notice is tried again later, alone.
    """

    kind = Attribute('The `NoticeKind` this handler carries out.')

    def carry_out(notice, data, batch):
        """Carry out `notice`.

        :param notice: The outbox row (`mailman_bounces.model.notice.Notice`).
        :param data: The JSON object recorded with the notice, decoded.
        :param batch: The `INoticeBatch` of the transaction.
        """
