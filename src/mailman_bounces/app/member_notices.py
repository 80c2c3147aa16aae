"""Notices to members: the disabled-delivery warning with its way back,
the move of a subscription to another address, re-enabled delivery.

Core's disabled-delivery warning tells a member their delivery is disabled
but offers no way to turn it back on.  The plugin's warning carries a
one-time re-enable token (`mailman_bounces.app.reenable_tokens`): the member
replies to the warning (its subject is the ``reenable TOKEN`` email command,
see `mailman_bounces.commands.eml_reenable`), or follows the site's
``reenable_url`` link whose web front end calls the REST API.
"""

from __future__ import annotations

import logging
from typing import Any

from lazr.config import as_boolean
from mailman.config import config
from mailman.core.i18n import _
from mailman.email.message import UserNotification
from mailman.interfaces.member import DeliveryStatus
from mailman.model.member import Member
from public import public
from zope.interface import implementer

from mailman_bounces.app.callbacks import enqueue_for_notice
from mailman_bounces.app.notice_mail import event_values, notice_values
from mailman_bounces.app.reenable_tokens import issue_token
from mailman_bounces.app.templates import render
from mailman_bounces.config import site_config
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.notice import Notice

log = logging.getLogger('mailman.bounce')


def _link(token: str) -> str:
    """The re-enable link paragraph of a warning, in the current language
    (none unless the site has a web front end for it)."""
    url = site_config().reenable_url
    if not url:
        return ''
    return (_('Or re-enable it in one click:') + '\n\n    '
            + url.replace('$token', token) + '\n')


@public
@implementer(INoticeHandler)
class WarningNotice:
    """Delivery is disabled: how to re-enable it (while still disabled)."""

    kind = NoticeKind.warning

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        member = config.db.store.get(Member, notice.member_id)
        if member is None or (member.preferences.delivery_status
                              != DeliveryStatus.by_bounces):
            log.info('Warning to %s on %s not sent: re-enabled or gone',
                     notice.email, mlist.list_id)
            return
        token = issue_token(member)
        email = member.address.email
        language = member.preferred_language
        with _.using(language.code):
            link = _link(token)
            # The command stays first and untranslated: a plain reply to the
            # warning is the command.
            subject = f'reenable {token} - ' + _(
                'your ${mlist.display_name} subscription is disabled')
        values = {
            'email': email, 'token': token, 'reenable_link': link,
            'warning_number': str(data.get('warning_number', 1)),
            'warnings': str(mlist.bounce_you_are_disabled_warnings),
            'reason_text': 'unknown', 'diagnostic': '',
            **event_values(notice.event_id),
        }
        text = render('list:user:notice:bounce-warning', mlist, values,
                      language.code)
        msg = UserNotification(email, mlist.request_address, subject, text,
                               language)
        msg.send(mlist,
                 verp=as_boolean(config.mta.verp_personalized_deliveries))
        enqueue_for_notice(notice, data)
        log.info('Disabled-delivery warning %s sent to %s on %s',
                 values['warning_number'], email, mlist.list_id)


def _send_user_notice(notice: Notice, data: dict[str, Any], mlist,
                      template: str, subject: str) -> None:
    """Tell the member (or the address data names in ``to``) in the list's
    language."""
    text = render(template, mlist, notice_values(notice, data, mlist))
    recipient = data.get('to') or notice.email
    msg = UserNotification(recipient, mlist.request_address, subject, text,
                           mlist.preferred_language)
    msg.send(mlist)


@public
@implementer(INoticeHandler)
class FailoverNotice:
    """The member's subscriptions moved to another verified address."""

    kind = NoticeKind.failover

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        with _.using(mlist.preferred_language.code):
            subject = _('Your ${mlist.display_name} subscription moved to '
                        'another address')
        _send_user_notice(notice, data, mlist,
                          'list:user:notice:bounce-failover', subject)


@public
@implementer(INoticeHandler)
class ReenabledNotice:
    """The member's delivery was re-enabled (by their token)."""

    kind = NoticeKind.reenabled

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        with _.using(mlist.preferred_language.code):
            subject = _('Delivery of ${mlist.display_name} re-enabled')
        _send_user_notice(notice, data, mlist,
                          'list:user:notice:bounce-reenabled', subject)
