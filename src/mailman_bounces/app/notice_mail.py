"""What the notice handlers share: the values describing a notice's bounce,
the bounce message to attach, and sending a notice to a list's owners.

Every text comes from a Mailman template (see
`mailman_bounces.app.templates`), so sites can customise and translate
them; subjects are translated with core's catalog, in the language of the
text they head.
"""

from __future__ import annotations

from email import message_from_bytes
from email.mime.message import MIMEMessage
from email.mime.text import MIMEText
from email.utils import formataddr
from typing import Any

from mailman.config import config
from mailman.email.message import Message, OwnerNotification
from public import public

from mailman_bounces.detect import REASONS
from mailman_bounces.interfaces.notice import INoticeBatch
from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.model.notice import Notice


@public
def event_values(event_id: int | None) -> dict[str, Any]:
    """Template values describing the bounce event that caused a notice."""
    if event_id is None:
        return {}
    event = config.db.store.get(BounceEvent, event_id)
    if event is None:
        return {}
    return {
        'reason': event.reason,
        'reason_text': REASONS.get(event.reason, event.reason),
        'status': event.status or 'none',
        'reply_code': event.reply_code or 'none',
        'diagnostic': (event.diagnostic or 'none')[:500],
        'remote_mta': event.remote_mta or 'unknown',
        'feedback_type': event.feedback_type or 'abuse',
    }


@public
def stored_bounce(event_id: int | None) -> Message | None:
    """The stored bounce message of event `event_id`, if it was kept."""
    if event_id is None:
        return None
    event = config.db.store.get(BounceEvent, event_id)
    if event is None or event.stored_message_id is None:
        return None
    stored = config.db.store.get(StoredBounce, event.stored_message_id)
    if stored is None or stored.content is None:
        return None
    return message_from_bytes(bytes(stored.content), Message)


@public
def member_label(mlist, email: str) -> str:
    """How a notice names the member `email`: with their name if known."""
    member = mlist.members.get_member(email) if email else None
    name = getattr(member, 'display_name', None) or ''
    return formataddr((name, email)) if name else email


@public
def notice_values(notice: Notice, data: dict[str, Any],
                  mlist) -> dict[str, Any]:
    """Template values of `notice`: the member, its event, its data."""
    values = {'email': notice.email or '',
              'member': member_label(mlist, notice.email or '')}
    values.update(event_values(notice.event_id))
    values.update({key: str(value) for key, value in data.items()})
    return values


@public
def send_owner_notice(batch: INoticeBatch, mlist, subject: str, text: str,
                      attachment: Message | None = None) -> None:
    """Send `text` to the owners and moderators of `mlist`, with the bounce
    message `attachment` if given."""
    msg = OwnerNotification(mlist, subject,
                            roster=batch.administrators(mlist))
    charset = mlist.preferred_language.charset
    if attachment is None:
        msg.set_payload(text, charset)
    else:
        msg.set_type('multipart/mixed')
        msg.attach(MIMEText(text, _charset=charset))
        msg.attach(MIMEMessage(attachment))
    msg.send(mlist)
