"""The notice of a new outage freeze, to the list's owners or (for a
site-wide freeze) to the site administrator; and the notice to the site
administrator that a freeze reached the limit of unconfirmed freezes.

Freezes are detected in `mailman_bounces.app.outage`.  A site-wide notice
goes through a list (Mailman notices need one) but speaks the site's
default language.
"""

from __future__ import annotations

from typing import Any

from mailman.config import config
from mailman.core.constants import system_preferences
from mailman.core.i18n import _
from mailman.email.message import OwnerNotification, UserNotification
from public import public
from zope.interface import implementer

from mailman_bounces.app.templates import render
from mailman_bounces.config import site_config
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.model.notice import Notice
from mailman_bounces.validators import format_duration


@public
def site_admin_address() -> str:
    """Who receives site-wide notices."""
    return site_config().site_admin or config.mailman.site_owner


def _subject(freeze: OutageFreeze) -> str:
    """The subject of `freeze`'s notice, in the current language."""
    where = {'key': freeze.key, 'list_id': freeze.list_id}
    if freeze.key_type == 'domain':
        if freeze.list_id is None:
            return _('Bounce scoring frozen for domain ${key} site-wide',
                     where)
        return _('Bounce scoring frozen for domain ${key} on ${list_id}',
                 where)
    if freeze.list_id is None:
        return _('Bounce scoring frozen for mail server ${key} site-wide',
                 where)
    return _('Bounce scoring frozen for mail server ${key} on ${list_id}',
             where)


def _values(freeze: OutageFreeze) -> dict[str, str]:
    """The template values of `freeze`'s notice, in the current language."""
    return {
        'key_kind': (_('domain') if freeze.key_type == 'domain'
                     else _('mail server')),
        'key': freeze.key,
        'expires': f'{freeze.expires:%Y-%m-%d %H:%M} UTC',
        'bouncing': str(freeze.bouncing),
        'members': str(freeze.members or 'the'),
        'window': format_duration(site_config().outage.window),
        'freeze_id': str(freeze.id),
    }


def _freeze_and_list(notice: Notice, data: dict[str, Any],
                     batch: INoticeBatch) -> tuple[Any, Any]:
    """The freeze a notice is about and the list it goes through (either
    None when it is gone)."""
    freeze = config.db.store.get(OutageFreeze, int(data['freeze_id']))
    try:
        mlist = batch.mailing_list(notice.list_id)
    except LookupError:
        mlist = None
    return freeze, mlist


@public
@implementer(INoticeHandler)
class OutageNotice:
    """Scoring is frozen for a failing domain or mail server."""

    kind = NoticeKind.outage

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        freeze, mlist = _freeze_and_list(notice, data, batch)
        if freeze is None or mlist is None:
            return
        if data.get('scope') == 'site':
            language = system_preferences.preferred_language
            with _.using(language.code):
                subject, values = _subject(freeze), _values(freeze)
            text = render('site:admin:notice:bounce-outage', None, values,
                          language.code)
            msg = UserNotification(site_admin_address(),
                                   config.mailman.site_owner, subject, text,
                                   language)
        else:
            with _.using(mlist.preferred_language.code):
                subject, values = _subject(freeze), _values(freeze)
            text = render('list:admin:notice:bounce-outage', mlist, values)
            msg = OwnerNotification(mlist, subject, text,
                                    roster=batch.administrators(mlist))
        msg.send(mlist)


def _cap_subject(freeze: OutageFreeze) -> str:
    """The subject of `freeze`'s cap notice, in the current language."""
    where = {'key': freeze.key, 'freeze_id': freeze.id}
    if freeze.key_type == 'domain':
        return _('Outage freeze ${freeze_id} for domain ${key} needs your '
                 'confirmation', where)
    return _('Outage freeze ${freeze_id} for mail server ${key} needs your '
             'confirmation', where)


@public
@implementer(INoticeHandler)
class OutageCapNotice:
    """A freeze reached the limit of unconfirmed freezes (site admin)."""

    kind = NoticeKind.outage_cap

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        freeze, mlist = _freeze_and_list(notice, data, batch)
        if freeze is None or mlist is None:
            return
        language = system_preferences.preferred_language
        with _.using(language.code):
            subject, values = _cap_subject(freeze), _values(freeze)
            values['where'] = (freeze.list_id if freeze.list_id is not None
                               else _('every mailing list of this site'))
        values['limit'] = format_duration(site_config().outage.max_unconfirmed)
        text = render('site:admin:notice:bounce-outage-cap', None, values,
                      language.code)
        UserNotification(site_admin_address(), config.mailman.site_owner,
                         subject, text, language).send(mlist)
