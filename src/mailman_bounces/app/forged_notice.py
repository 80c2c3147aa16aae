"""The site admin's summary of a burst of forged bounces (the notice;
`mailman_bounces.app.forged` decides when one is due).

A bounce to a signed-looking return path whose MAC, key or expiry is wrong
is recorded as *forged* and never scored (`mailman_bounces.app.verp`).  One
or two are noise; many within an hour mean someone is trying to get members
disabled, or a key was lost.  The pass looks once an hour; when the last
hour holds at least ``[bounces]forged_burst`` forged events, the site admin
gets one summary (per list and address) instead of nothing at all.
"""

from __future__ import annotations

from typing import Any

from mailman.config import config
from mailman.core.constants import system_preferences
from mailman.core.i18n import _
from mailman.email.message import UserNotification
from public import public
from zope.interface import implementer

from mailman_bounces.app.outage_notice import site_admin_address
from mailman_bounces.app.templates import render
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.notice import Notice


@public
@implementer(INoticeHandler)
class ForgedNotice:
    """Site admin: a burst of bounces to forged signed addresses."""

    kind = NoticeKind.notify_forged

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        try:
            mlist = batch.mailing_list(notice.list_id)
        except LookupError:
            mlist = None
        language = system_preferences.preferred_language
        values = {'count': str(data['count']), 'since': data['since'],
                  'lines': '\n'.join(data['lines'])}
        with _.using(language.code):
            subject = _('${count} forged bounces in the last hour', values)
        text = render('site:admin:notice:bounce-forged', None, values,
                      language.code)
        UserNotification(site_admin_address(), config.mailman.site_owner,
                         subject, text, language).send(mlist)
