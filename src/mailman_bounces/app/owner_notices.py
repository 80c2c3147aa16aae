"""Notices to a list's owners: a score went up, a member was disabled or
reached a Sympa level, an abuse complaint, the summary of ignored bounces.

Subjects are core's where core sends the same notice (so core's catalog
translates them), in the list's preferred language like the text.
"""

from __future__ import annotations

from typing import Any

from mailman.core.i18n import _
from public import public
from zope.interface import implementer

from mailman_bounces.app.notice_mail import (
    notice_values,
    send_owner_notice,
    stored_bounce,
)
from mailman_bounces.app.settings import policy_for
from mailman_bounces.app.templates import render
from mailman_bounces.interfaces.notice import (
    INoticeBatch,
    INoticeHandler,
    NoticeKind,
)
from mailman_bounces.model.notice import Notice
from mailman_bounces.validators import format_duration


def _threshold_values(mlist) -> dict[str, str]:
    policy = policy_for(mlist)
    return {
        'threshold': f'{policy.threshold:g}',
        'warnings': str(mlist.bounce_you_are_disabled_warnings),
        'interval': format_duration(
            mlist.bounce_you_are_disabled_warnings_interval),
    }


@implementer(INoticeHandler)
class _MemberReport:
    """An owner notice about one member, with the bounce attached."""

    kind: NoticeKind
    template: str

    def values(self, notice: Notice, data: dict[str, Any],
               mlist) -> dict[str, Any]:
        """The template values (in the list's language)."""
        return {**notice_values(notice, data, mlist),
                **_threshold_values(mlist)}

    def subject(self, mlist, values: dict[str, Any],
                data: dict[str, Any]) -> str:
        """The subject (in the list's language)."""
        raise NotImplementedError

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        with _.using(mlist.preferred_language.code):
            values = self.values(notice, data, mlist)
            subject = self.subject(mlist, values, data)
        send_owner_notice(batch, mlist, subject,
                          render(self.template, mlist, values),
                          stored_bounce(notice.event_id))


@public
class IncrementNotice(_MemberReport):
    """A member's bounce score went up."""

    kind = NoticeKind.notify_increment
    template = 'list:admin:notice:bounce-increment'

    def subject(self, mlist, values, data):
        return _("${member}'s bounce score incremented on "
                 '${mlist.display_name}', {'member': values['member']})


@public
class DisableNotice(_MemberReport):
    """A member's delivery was disabled."""

    kind = NoticeKind.notify_disable
    template = 'list:admin:notice:bounce-disable'

    def subject(self, mlist, values, data):
        return _("${member}'s subscription disabled on "
                 '${mlist.display_name}', {'member': values['member']})


@public
class LevelNotice(_MemberReport):
    """A member reached a Sympa bounce level whose action is to tell the
    owners."""

    kind = NoticeKind.notify_level
    template = 'list:admin:notice:bounce-increment'

    def values(self, notice, data, mlist):
        values = super().values(notice, data, mlist)
        values.setdefault('delta', '0')
        values['score'] = data.get('rating', values.get('score', ''))
        return values

    def subject(self, mlist, values, data):
        return _('${member} reached bounce level ${level} on '
                 '${mlist.display_name}',
                 {'member': values['member'],
                  'level': str(data.get('level', '?'))})


def _complaint_action(action: str) -> str:
    """What the list did about a complaint, in the current language."""
    if action == 'none':
        return _('nothing; the member stays subscribed.')
    if action == 'disable':
        return _("the member's delivery is disabled.")
    if action == 'unsubscribe':
        return _('the member is unsubscribed.')
    return action


@public
class ComplaintNotice(_MemberReport):
    """An abuse complaint (ARF report) names a member."""

    kind = NoticeKind.notify_complaint
    template = 'list:admin:notice:bounce-complaint'

    def values(self, notice, data, mlist):
        return {**notice_values(notice, data, mlist),
                'action_text': _complaint_action(data.get('action', 'none'))}

    def subject(self, mlist, values, data):
        return _('Abuse complaint about ${mlist.display_name} from '
                 '${member}', {'member': values['member']})


@public
@implementer(INoticeHandler)
class IgnoredSummary:
    """The period's bounces that were not held against members."""

    kind = NoticeKind.notify_ignored

    def carry_out(self, notice: Notice, data: dict[str, Any],
                  batch: INoticeBatch) -> None:
        """See `INoticeHandler`."""
        mlist = batch.mailing_list(notice.list_id)
        lines = data.get('lines', [])
        first = data.get('day', '')
        last = data.get('until', first)
        period = first if first == last else f'{first} to {last}'
        values = {
            'period': period,
            'count': str(data.get('count', len(lines))),
            'reasons': ', '.join(data.get('reasons', [])) or 'various',
            'bounces': '\n'.join(f'    {line}' for line in lines),
        }
        with _.using(mlist.preferred_language.code):
            subject = _('Bounces not held against members of '
                        '${mlist.display_name}, ${period}',
                        {'period': period})
        text = render('list:admin:notice:bounce-ignored', mlist, values)
        send_owner_notice(batch, mlist, subject, text)
