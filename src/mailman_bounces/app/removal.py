"""Removing members: after the last warning, or at once (a complaint, a
Sympa level), telling the owners with the plugin's removal notice.

A removal is recorded in the outbox with the decision and carried out once
that is committed; a member re-enabled in between stays.
"""

from __future__ import annotations

import logging
from typing import Any

from mailman.app.membership import delete_member
from mailman.config import config
from mailman.core.i18n import _
from mailman.interfaces.member import DeliveryStatus, NotAMemberError
from mailman.model.member import Member
from public import public
from zope.interface import implementer

from mailman_bounces.app.callbacks import enqueue
from mailman_bounces.app.notice_mail import (
    event_values,
    member_label,
    send_owner_notice,
)
from mailman_bounces.app.templates import render
from mailman_bounces.detect import REASONS
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.notice import Notice

log = logging.getLogger('mailman.bounce')


@public
def still_due_for_removal(mlist, member_id: int | None) -> bool:
    """Is member `member_id` still disabled with all warnings sent?"""
    member = config.db.store.get(Member, member_id) if member_id else None
    return (member is not None
            and member.preferences.delivery_status == DeliveryStatus.by_bounces
            and (member.total_warnings_sent or 0)
            >= mlist.bounce_you_are_disabled_warnings)


def _removal_notice(batch: INoticeBatch, mlist, email: str,
                    data: dict[str, Any], event_id: int | None) -> None:
    values = {'email': email, 'member': member_label(mlist, email),
              'warnings': str(mlist.bounce_you_are_disabled_warnings),
              **event_values(event_id),
              **{key: str(value) for key, value in data.items()}}
    values.setdefault('reason', 'undefined')
    values.setdefault('reason_text', REASONS.get(values['reason'], ''))
    with _.using(mlist.preferred_language.code):
        # Core's subject for the same notice.
        subject = _('${member} unsubscribed from ${mlist.display_name} '
                    'mailing list due to bounces',
                    {'member': values['member']})
    text = render('list:admin:notice:bounce-removal', mlist, values)
    send_owner_notice(batch, mlist, subject, text)


def _unsubscribe(batch: INoticeBatch, mlist, notice: Notice,
                 data: dict[str, Any], notify: bool) -> None:
    email = notice.email
    try:
        # Like core: the owners get the plugin's removal notice instead of
        # core's generic unsubscription one when they asked for it.
        delete_member(mlist, email, admin_notif=False if notify else None,
                      userack=True)
    except NotAMemberError:
        log.info('%s is no longer a member of %s', email, mlist.list_id)
        return
    log.info('Removed %s from %s due to bounces (%s)', email,
             mlist.list_id, data.get('why', 'bounces'))
    enqueue('member.removed', f'notice:{notice.id}', mlist.list_id,
            {'email': email, 'why': str(data.get('why', 'bounces'))})
    if notify:
        _removal_notice(batch, mlist, email, data, notice.event_id)


@public
@implementer(INoticeHandler)
class Removal:
    """Remove a member whose warnings all went out, if still disabled."""

    kind = NoticeKind.remove

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        if not still_due_for_removal(mlist, notice.member_id):
            log.info('%s on %s re-enabled or gone: not removed',
                     notice.email, mlist.list_id)
            return
        _unsubscribe(batch, mlist, notice, data,
                     notify=mlist.bounce_notify_owner_on_removal)


@public
@implementer(INoticeHandler)
class Unsubscription:
    """Unsubscribe a member now (a complaint, a Sympa level), telling the
    owners."""

    kind = NoticeKind.unsubscribe

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        _unsubscribe(batch, batch.mailing_list(notice.list_id), notice, data,
                     notify=True)
