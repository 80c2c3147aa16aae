"""Notices: recorded with the decisions, sent after they are committed.

`queue_notice` adds a row to the outbox (``bounces_notice``) inside the
transaction that makes the decision.  `deliver_notices` later carries each
one out (renders a template and queues the mail, or performs a mail-sending
action such as a probe or a removal) and marks it sent in the same
transaction.  Every text comes from a Mailman template (see
`mailman_bounces.app.templates`), so sites can customise and translate them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.mime.message import MIMEMessage
from email.mime.text import MIMEText
from email.utils import formataddr
from typing import Any

from mailman.app.membership import delete_member
from mailman.config import config
from mailman.email.message import Message, OwnerNotification, UserNotification
from mailman.interfaces.member import MemberRole, NotAMemberError
from mailman.model.address import Address
from mailman.model.mailinglist import MailingList
from mailman.model.member import Member
from mailman.model.user import User
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import and_, select, update
from sqlalchemy.orm import selectinload

from mailman_bounces.app.claims import for_update, serialize_writers
from mailman_bounces.app.templates import domains_cached, render
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.detect import REASONS
from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.model.notice import Notice
from mailman_bounces.plugin import site_config
from mailman_bounces.validators import format_duration

log = logging.getLogger('mailman.bounce')

MAX_ATTEMPTS = 5


@public
def queue_notice(kind: str, list_id: str | None = None,
                 email: str | None = None, member_id: int | None = None,
                 event_id: int | None = None, dedup_key: str | None = None,
                 **data: Any) -> None:
    """Record a notice to send once the current transaction commits."""
    insert_ignoring_duplicates(config.db.store, Notice.__table__, [{
        'created': now(), 'kind': kind, 'list_id': list_id, 'email': email,
        'member_id': member_id, 'event_id': event_id,
        'data': json.dumps(data, default=str), 'dedup_key': dedup_key,
        'attempts': 0}])


# Notices carried out per transaction.
BATCH = 200


@public
def deliver_notices(limit: int = 1000) -> int:
    """Carry out pending notices, in batches; return how many were sent.

    A batch is one transaction.  If a notice in it fails, the batch is
    rolled back and its notices are carried out one by one, so the failing
    one is retried at a later call (up to MAX_ATTEMPTS calls) without
    holding the others back.
    """
    done = 0
    failed: set[int] = set()
    while done < limit:
        sent = _deliver_batch(failed)
        if sent is None:
            break
        done += sent
    return done


def _unsent(failed: set[int]):
    """Notices still to send: not given up on, and not failed already in
    this call."""
    unsent = and_(Notice.sent.is_(None), Notice.attempts < MAX_ATTEMPTS)
    return and_(unsent, Notice.id.not_in(failed)) if failed else unsent


def _pending(limit: int, failed: set[int]) -> list[Notice]:
    return config.db.store.execute(for_update(
        select(Notice).where(_unsent(failed)).order_by(Notice.id)
        .limit(limit), skip_locked=True)).scalars().all()


def _any_pending(failed: set[int]) -> bool:
    return config.db.store.execute(
        select(Notice.id).where(_unsent(failed)).limit(1)
    ).first() is not None


def _deliver_batch(failed: set[int]) -> int | None:
    """One batch; None when nothing was pending."""
    if not _any_pending(failed):
        # Checked before taking the write lock: most passes send nothing.
        config.db.commit()
        return None
    serialize_writers()
    notices = _pending(BATCH, failed)
    if not notices:
        config.db.commit()
        return None
    ids = [notice.id for notice in notices]
    try:
        with _batch_context(notices):
            for notice in notices:
                _HANDLERS[notice.kind](notice, json.loads(notice.data or '{}'))
        config.db.store.execute(
            update(Notice).where(Notice.id.in_(ids)).values(sent=now())
            .execution_options(synchronize_session=False))
        config.db.commit()
        return len(notices)
    except Exception:  # noqa: BLE001 - isolate the failing notice
        config.db.abort()
        return sum(_deliver_one(notice_id, failed) for notice_id in ids)


def _deliver_one(notice_id: int, failed: set[int]) -> int:
    store = config.db.store
    try:
        serialize_writers()
        notice = store.execute(for_update(
            select(Notice).where(Notice.id == notice_id,
                                 Notice.sent.is_(None)),
            skip_locked=True)).scalar_one_or_none()
        if notice is None:
            # Another runner took it.
            config.db.commit()
            return 0
        with _batch_context([notice]):
            _HANDLERS[notice.kind](notice, json.loads(notice.data or '{}'))
        notice.sent = now()
        config.db.commit()
        return 1
    except Exception as error:
        config.db.abort()
        log.exception('Bounce notice %s failed', notice_id)
        failed.add(notice_id)
        store.execute(update(Notice).where(Notice.id == notice_id).values(
            attempts=Notice.attempts + 1, error=f'{type(error).__name__}: '
                                                f'{error}'))
        config.db.commit()
        return 0


# The lists of the batch being delivered, by list id, and the addresses of
# their owners and moderators.  Both are loaded for the whole batch at once:
# a list row has about a hundred columns, and core's roster of a list's
# administrators costs a query per list and per administrator.  So are the
# members and events the notices are about (they stay in the session, where
# the handlers' lookups by id find them).
_LISTS: dict[str, Any] = {}
_ADMINISTRATORS: dict[str, list[Any]] = {}
_ADMINISTRATOR_ROLES = (MemberRole.owner, MemberRole.moderator)
# What a member's address and preferences (its language) are read from:
# the member's, its address's and the address's user's preferences.
_MEMBER_GRAPH = (
    selectinload(Member.preferences),
    selectinload(Member._address).selectinload(Address.preferences),
    selectinload(Member._address).selectinload(Address.user)
    .selectinload(User.preferences),
    selectinload(Member._user).selectinload(User.preferences),
    selectinload(Member._user).selectinload(User._preferred_address)
    .selectinload(Address.preferences),
)


def _load(entity: type, ids: set[int | None], options=()) -> list[Any]:
    """The rows of `entity` with these ids, loaded into the session."""
    wanted = sorted(ids - {None})
    if not wanted:
        return []
    return config.db.store.execute(
        select(entity).where(entity.id.in_(wanted)).options(*options)
    ).scalars().all()


@contextmanager
def _batch_context(notices: list[Notice]) -> Iterator[None]:
    """What one transaction's notices share or are about, loaded."""
    list_ids = {notice.list_id for notice in notices} - {None}
    store = config.db.store
    _LISTS.update((mlist.list_id, mlist) for mlist in store.execute(
        select(MailingList).where(MailingList._list_id.in_(list_ids))
    ).scalars())
    for member in store.execute(
            select(Member).where(Member.list_id.in_(list_ids),
                                 Member.role.in_(_ADMINISTRATOR_ROLES))
            .order_by(Member.id)
            .options(*_MEMBER_GRAPH)).scalars():
        _ADMINISTRATORS.setdefault(member.list_id, []).append(member.address)
    # The session holds loaded objects weakly: keep them while in use.
    held = (_load(Member, {notice.member_id for notice in notices},
                  _MEMBER_GRAPH),
            _load(BounceEvent, {notice.event_id for notice in notices}))
    for member in held[0]:
        # Core keeps a member's list on the instance once looked up; give it
        # the batch's, or the member's preferred language (which falls back
        # to the list's) reloads the whole list row for every warning.
        member._mailing_list = _LISTS.get(member.list_id)
    try:
        with domains_cached():
            yield
    finally:
        _LISTS.clear()
        _ADMINISTRATORS.clear()
        del held


class _Administrators:
    """What an owner notice needs of a list's administrator roster (an
    `IRoster`): the addresses of its owners and moderators."""

    def __init__(self, addresses: list[Any]) -> None:
        self.addresses = addresses


@public
def administrators(mlist):
    """The roster owner notices about `mlist` go to: the batch's when
    delivering notices, core's otherwise."""
    if _LISTS.get(mlist.list_id) is not mlist:
        return mlist.administrators
    return _Administrators(_ADMINISTRATORS.get(mlist.list_id, []))


def _mlist(notice: Notice):
    mlist = _LISTS.get(notice.list_id)
    if mlist is None:
        raise LookupError(f'no such list: {notice.list_id}')
    return mlist


def _event_data(event_id: int | None) -> dict[str, Any]:
    """Template values describing the event that caused a notice."""
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


def _stored_bounce(event_id: int | None) -> Message | None:
    if event_id is None:
        return None
    event = config.db.store.get(BounceEvent, event_id)
    if event is None or event.stored_message_id is None:
        return None
    stored = config.db.store.get(StoredBounce, event.stored_message_id)
    if stored is None or stored.content is None:
        return None
    return message_from_bytes(bytes(stored.content), Message)


def _member_label(mlist, email: str) -> str:
    member = mlist.members.get_member(email) if email else None
    name = getattr(member, 'display_name', None) or ''
    return formataddr((name, email)) if name else email


def _owner_notice(mlist, subject: str, text: str,
                  attachment: Message | None = None) -> None:
    msg = OwnerNotification(mlist, subject, roster=administrators(mlist))
    if attachment is None:
        msg.set_payload(text, mlist.preferred_language.charset)
    else:
        msg.set_type('multipart/mixed')
        msg.attach(MIMEText(text, _charset=mlist.preferred_language.charset))
        msg.attach(MIMEMessage(attachment))
    msg.send(mlist)


def _values(notice: Notice, data: dict[str, Any], mlist) -> dict[str, Any]:
    values = {'email': notice.email or '',
              'member': _member_label(mlist, notice.email or '')}
    values.update(_event_data(notice.event_id))
    values.update({key: str(value) for key, value in data.items()})
    return values


def _threshold_values(mlist) -> dict[str, str]:
    from mailman_bounces.app.settings import policy_for
    policy = policy_for(mlist)
    return {
        'threshold': f'{policy.threshold:g}',
        'warnings': str(mlist.bounce_you_are_disabled_warnings),
        'interval': format_duration(
            mlist.bounce_you_are_disabled_warnings_interval),
    }


def _disable(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    values = {**_values(notice, data, mlist), **_threshold_values(mlist)}
    text = render('list:admin:notice:bounce-disable', mlist, values)
    _owner_notice(mlist, f"{values['member']}'s subscription disabled on "
                         f'{mlist.display_name}', text,
                  _stored_bounce(notice.event_id))


def _increment(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    values = {**_values(notice, data, mlist), **_threshold_values(mlist)}
    text = render('list:admin:notice:bounce-increment', mlist, values)
    _owner_notice(mlist, f"{values['member']}'s bounce score incremented on "
                         f'{mlist.display_name}', text,
                  _stored_bounce(notice.event_id))


_COMPLAINT_ACTIONS = {
    'none': 'nothing; the member stays subscribed.',
    'disable': "the member's delivery is disabled.",
    'unsubscribe': 'the member is unsubscribed.',
}


def _complaint(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    values = _values(notice, data, mlist)
    values['action_text'] = _COMPLAINT_ACTIONS.get(
        data.get('action', 'none'), data.get('action', 'none'))
    text = render('list:admin:notice:bounce-complaint', mlist, values)
    _owner_notice(mlist, f"Abuse complaint about {mlist.display_name} from "
                         f"{values['member']}", text,
                  _stored_bounce(notice.event_id))


def _level(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    values = {**_values(notice, data, mlist), **_threshold_values(mlist)}
    values.setdefault('delta', '0')
    values['score'] = data.get('rating', values.get('score', ''))
    text = render('list:admin:notice:bounce-increment', mlist, values)
    _owner_notice(mlist, f"{values['member']} reached bounce level "
                         f"{data.get('level', '?')} on {mlist.display_name}",
                  text, _stored_bounce(notice.event_id))


def _ignored(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    lines = data.get('lines', [])
    first, last = data.get('day', ''), data.get('until', data.get('day', ''))
    period = first if first == last else f'{first} to {last}'
    values = {
        'period': period,
        'count': str(data.get('count', len(lines))),
        'reasons': ', '.join(data.get('reasons', [])) or 'various',
        'bounces': '\n'.join(f'    {line}' for line in lines),
    }
    text = render('list:admin:notice:bounce-ignored', mlist, values)
    _owner_notice(mlist, f'Bounces not held against members of '
                         f'{mlist.display_name}, {period}', text)


def _removal_notice(mlist, email: str, data: dict[str, Any],
                    event_id: int | None) -> None:
    values = {'email': email, 'member': _member_label(mlist, email),
              'warnings': str(mlist.bounce_you_are_disabled_warnings),
              **_event_data(event_id),
              **{k: str(v) for k, v in data.items()}}
    values.setdefault('reason', 'undefined')
    values.setdefault('reason_text', REASONS.get(values['reason'], ''))
    text = render('list:admin:notice:bounce-removal', mlist, values)
    _owner_notice(mlist, f"{values['member']} unsubscribed from "
                         f'{mlist.display_name} mailing list due to bounces',
                  text)


def _remove(notice: Notice, data: dict[str, Any]) -> None:
    from mailman_bounces.app.warnings import still_due_for_removal
    mlist = _mlist(notice)
    if not still_due_for_removal(mlist, notice.member_id):
        log.info('%s on %s re-enabled or gone: not removed', notice.email,
                 mlist.list_id)
        return
    _unsubscribe_member(mlist, notice, data,
                        notify=mlist.bounce_notify_owner_on_removal)


def _unsubscribe(notice: Notice, data: dict[str, Any]) -> None:
    mlist = _mlist(notice)
    _unsubscribe_member(mlist, notice, data, notify=True)


def _unsubscribe_member(mlist, notice: Notice, data: dict[str, Any],
                        notify: bool) -> None:
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
    if notify:
        _removal_notice(mlist, email, data, notice.event_id)


def _probe(notice: Notice, data: dict[str, Any]) -> None:
    from mailman_bounces.app.probes import send_member_probe
    send_member_probe(_mlist(notice), notice)


def _warning(notice: Notice, data: dict[str, Any]) -> None:
    from mailman_bounces.app.reenable import send_warning
    send_warning(_mlist(notice), notice, data)


def _user_notice(template: str, subject: str) -> Callable:
    def handler(notice: Notice, data: dict[str, Any]) -> None:
        mlist = _mlist(notice)
        values = _values(notice, data, mlist)
        text = render(template, mlist, values)
        recipient = data.get('to') or notice.email
        msg = UserNotification(recipient, mlist.request_address,
                               subject.format(list=mlist.display_name),
                               text, mlist.preferred_language)
        msg.send(mlist)
    return handler


def _outage(notice: Notice, data: dict[str, Any]) -> None:
    from mailman_bounces.app.outage import send_outage_notice
    send_outage_notice(notice, data)


_HANDLERS: dict[str, Callable[[Notice, dict[str, Any]], None]] = {
    'notify_increment': _increment,
    'notify_disable': _disable,
    'notify_complaint': _complaint,
    'notify_level': _level,
    'notify_ignored': _ignored,
    'remove': _remove,
    'unsubscribe': _unsubscribe,
    'probe': _probe,
    'warning': _warning,
    'failover': _user_notice(
        'list:user:notice:bounce-failover',
        'Your {list} subscription moved to another address'),
    'reenabled': _user_notice(
        'list:user:notice:bounce-reenabled',
        'Delivery of {list} re-enabled'),
    'outage': _outage,
}

NOTICE_KINDS = tuple(_HANDLERS)


@public
def site_admin_address() -> str:
    """Who receives site-wide notices."""
    return site_config().site_admin or config.mailman.site_owner
