"""The plugin's IBounceProcessor utility.

It replaces core's for every ``getUtility(IBounceProcessor)`` caller (the
bounce runner, the outgoing runner's SMTP-time failures, REST, the test
suite) and keeps core's interface:

* `register` records one classified event per member address, stores the
  bounce message once, and is idempotent: the same bounce delivered twice
  is registered once (`record_all` does the same for a whole batch of
  bounces with a few statements).  Like core's, it also keeps the message
  in Mailman's message store for ``[mailman]dsn_lifetime``, so that its
  callers (the outgoing runner's SMTP-time failures, third-party code) can
  look an event's ``message_id`` up with ``IMessageStore`` as before;
* `process_event` and `send_warnings_and_remove` apply the list's policy,
  through the same code the periodic pass uses for whole batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

from mailman.config import config
from mailman.database.transaction import dbconnection
from mailman.interfaces.bounce import (
    BounceContext,
    IBounceProcessor,
    InvalidBounceEvent,
)
from public import public
from sqlalchemy import and_, select
from zope.interface import implementer

from mailman_bounces.app.callbacks import enqueue_for_events
from mailman_bounces.app.classify import event_columns, recipient_for, safe_detect
from mailman_bounces.app.store import (
    fingerprint,
    keep_in_message_store,
    message_id_of,
    received_bytes,
    received_content,
    store_messages,
    stored_message_row,
)
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.detect import Recipient, Report
from mailman_bounces.model.event import BounceEvent, event_row

log = logging.getLogger('mailman.bounce')


def _site_config():
    # Imported late: the plugin object exists only once Mailman loaded it.
    from mailman_bounces.config import site_config
    return site_config()


@public
@dataclass
class Registration:
    """One bounce to register for one member address (what
    `BounceProcessor.record_all` takes)."""

    list_id: str
    email: str
    msg: Message
    context: BounceContext | None = None
    # The detection report of `msg`, when the caller has it already, and
    # its record about `email`.
    report: Report | None = None
    recipient: Recipient | None = None
    # The queue metadata (for the received bytes and their digest).
    msgdata: dict[str, Any] | None = None
    # What the bounce rests on (`mailman_bounces.signing.EVIDENCE`); None
    # for in-process callers of the interface (see `event_row`).
    evidence: str | None = None
    # The event columns a classification rule set, its name included
    # (`mailman_bounces.app.rules.rule_columns`).
    ruled: dict[str, Any] | None = None


@dataclass
class _Prepared:
    row: dict[str, Any]
    message: dict[str, Any] | None


def _prepare(registration: Registration, max_size: int | None) -> _Prepared:
    """The event row of `registration` and, when `max_size` is given (the
    site keeps messages), the row storing its message."""
    msg, msgdata = registration.msg, registration.msgdata
    report = registration.report
    if report is None:
        report = safe_detect(msg, received_bytes(msgdata))
    email = registration.email.strip().lower()
    recipient = registration.recipient
    if recipient is None:
        recipient = recipient_for(report, email)
    # Serialise once (or not at all when the LMTP runner kept the bytes as
    # received): for the fingerprint and for the stored copy.
    content = received_content(msg, msgdata)
    digest = fingerprint(content, msgdata)
    context = (BounceContext.normal if registration.context is None
               else registration.context)
    row = event_row(registration.list_id, email, message_id_of(msg),
                    context, fingerprint=digest, stored_message_id=None,
                    evidence=registration.evidence,
                    **event_columns(report, recipient))
    row.update(registration.ruled or {})
    message = None if max_size is None else stored_message_row(
        msg, content, digest, max_size, (msgdata or {}).get('original_size'))
    return _Prepared(row, message)


@public
@implementer(IBounceProcessor)
class BounceProcessor:
    """See `IBounceProcessor`."""

    def register(self, mlist, email, msg, where=None, *,
                 context: BounceContext | None = None,
                 report: Report | None = None,
                 recipient: Recipient | None = None,
                 msgdata: dict[str, Any] | None = None):
        """See `IBounceProcessor`.

        The bounce context is the fourth argument, as core's callers pass
        it; by keyword it is ``where`` (the name core's implementation
        gives it) or ``context`` (the interface's name), not both.

        :param report: The detection report of `msg`, when the caller has
            it already; otherwise `msg` is classified here.
        :param recipient: The report's record about `email`, if known.
        :param msgdata: The queue metadata (for the received-bytes digest).
        :return: The registered event (the existing one if this bounce was
            registered before).
        """
        if where is not None and context is not None:
            raise TypeError('register() takes the bounce context as '
                            "'where' or 'context', not both")
        key = self.record(mlist, email, msg,
                          context if where is None else where,
                          report=report, recipient=recipient,
                          msgdata=msgdata)
        keep_in_message_store(msg)
        return config.db.store.execute(select(BounceEvent).where(and_(
            BounceEvent.fingerprint == key[0],
            BounceEvent.list_id == key[1],
            BounceEvent.email == key[2],
            BounceEvent.context == key[3],
        ))).scalar_one()

    def record(self, mlist, email, msg, context=None, *,
               report: Report | None = None,
               recipient: Recipient | None = None,
               msgdata: dict[str, Any] | None = None) -> tuple:
        """Register like `register`, without loading the event back.

        Returns the event's natural key (fingerprint, list id, email,
        context).
        """
        return self.record_all([Registration(
            mlist.list_id, email, msg, context, report, recipient,
            msgdata)])[0]

    @dbconnection
    def record_all(self, store,
                   registrations: Iterable[Registration]) -> list[tuple]:
        """Register many bounces with a few statements, whatever their
        number: the bounce runner registers its whole batch this way.

        Returns the natural key of each registration's event, in order.
        An error leaves the transaction to the caller to roll back.
        """
        settings = _site_config()
        max_size = settings.max_message_size if settings.store_messages \
            else None
        prepared = [_prepare(registration, max_size)
                    for registration in registrations]
        if max_size is not None:
            ids = store_messages({item.row['fingerprint']: item.message
                                  for item in prepared}.values())
            for item in prepared:
                item.row['stored_message_id'] = ids[item.row['fingerprint']]
        rows = [item.row for item in prepared]
        insert_ignoring_duplicates(store, BounceEvent.__table__, rows)
        # Queued once per event: the callback's id is the event's key.
        enqueue_for_events(rows)
        for row in rows:
            log.info('%s bounce registered for %s on %s: %s %s (%s)',
                     row['kind'], row['email'], row['list_id'],
                     row['reason'], row['status'] or '-',
                     row['detector'] or 'no detector')
        return [(row['fingerprint'], row['list_id'], row['email'],
                 row['context']) for row in rows]

    @property
    def events(self) -> Iterator[BounceEvent]:
        """See `IBounceProcessor`."""
        yield from config.db.store.execute(
            select(BounceEvent).order_by(BounceEvent.id)).scalars()

    @property
    def unprocessed(self) -> Iterator[BounceEvent]:
        """See `IBounceProcessor`."""
        yield from config.db.store.execute(
            select(BounceEvent).where(BounceEvent.processed.is_(False))
            .order_by(BounceEvent.id)).scalars()

    def process_event(self, event):
        """See `IBounceProcessor`.

        Like core's, an event whose list is gone or whose address is not
        a member of it is marked processed (committed) and raises
        `InvalidBounceEvent`, which core's callers catch.
        """
        from mailman_bounces.app.bounce_pass import process_events
        outcomes = process_events([event]).outcomes
        if outcomes.get('no-list'):
            raise InvalidBounceEvent(
                f'Bounce for non-existent list {event.list_id}')
        if outcomes.get('not-member'):
            raise InvalidBounceEvent(
                f'Email {event.email} is not a subscriber of {event.list_id}')

    def send_warnings_and_remove(self):
        """See `IBounceProcessor`."""
        from mailman_bounces.app.bounce_pass import warn_and_remove_now
        warn_and_remove_now()
