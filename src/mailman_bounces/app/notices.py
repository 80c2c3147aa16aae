"""The outbox: notices recorded with the decisions, sent after they are
committed.

`queue_notice` adds a row to the outbox (``bounces_notice``) inside the
transaction that makes the decision.  `deliver_notices` later carries each
one out with the handler of its kind (`mailman_bounces.app.notice_handlers`:
it renders a template and queues the mail, or performs a mail-sending
action such as a probe or a removal) and marks it sent in the same
transaction.

Mailman's queues are files, outside any transaction: the mail a batch of
notices queues is held back (`_HeldMail`) until the whole batch was
carried out, and dropped when it is rolled back, so a notice that fails
does not make the notices before it in its batch go out twice (once with
the batch, again one by one).
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from typing import Any

from mailman.config import config
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import and_, select, update

from mailman_bounces.app.claims import for_update, serialize_writers
from mailman_bounces.app.notice_batch import NoticeBatch
from mailman_bounces.app.notice_handlers import handler_for
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.interfaces.notice import NoticeKind
from mailman_bounces.model.notice import Notice

log = logging.getLogger('mailman.bounce')

MAX_ATTEMPTS = 5


@public
def queue_notice(kind: NoticeKind | str, list_id: str | None = None,
                 email: str | None = None, member_id: int | None = None,
                 event_id: int | None = None, dedup_key: str | None = None,
                 **data: Any) -> None:
    """Record a notice to send once the current transaction commits.

    :raises ValueError: for a kind that is not a `NoticeKind`.
    """
    created = now()
    insert_ignoring_duplicates(config.db.store, Notice.__table__, [{
        'created': created, 'kind': NoticeKind(kind).value,
        'list_id': list_id, 'email': email, 'member_id': member_id,
        'event_id': event_id, 'data': json.dumps(data, default=str),
        'dedup_key': dedup_key, 'attempts': 0}])


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


class _HeldMail:
    """What this thread put into Mailman's queues (switchboards), not yet
    there (another thread's mail goes in at once)."""

    def __init__(self) -> None:
        self.held: list[tuple[Any, tuple, dict]] = []
        self.thread = threading.get_ident()

    def hold(self, switchboard):
        queue = type(switchboard).enqueue

        def enqueue(*args, **kws):
            if threading.get_ident() != self.thread:
                return queue(switchboard, *args, **kws)
            self.held.append((switchboard, args, kws))
            return None
        return enqueue

    def release(self) -> None:
        held, self.held = self.held, []
        for switchboard, args, kws in held:
            switchboard.enqueue(*args, **kws)


@contextmanager
def _mail_held():
    """Hold back the mail queued inside the block (core's code queues it
    too, e.g. a removal's goodbye message); the caller releases it once
    nothing can fail any more, or drops it."""
    held = _HeldMail()
    switchboards = list(config.switchboards.values())
    # An instance attribute, in front of the class's method (or of one
    # set on the instance already, put back afterwards).
    before = [vars(switchboard).get('enqueue') for switchboard in switchboards]
    for switchboard in switchboards:
        switchboard.enqueue = held.hold(switchboard)
    try:
        yield held
    finally:
        for switchboard, enqueue in zip(switchboards, before, strict=True):
            if enqueue is None:
                del switchboard.enqueue
            else:
                switchboard.enqueue = enqueue


def _carry_out(notices: list[Notice]) -> None:
    """Carry out `notices` with the state they share; their mail is queued
    only if all of them were carried out."""
    with _mail_held() as held, NoticeBatch.loaded(notices) as batch:
        for notice in notices:
            handler_for(notice.kind).carry_out(
                notice, json.loads(notice.data or '{}'), batch)
    held.release()


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
        _carry_out(notices)
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
        _carry_out([notice])
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
