"""The plugin's IBounceProcessor utility.

It replaces core's for every ``getUtility(IBounceProcessor)`` caller (the
bounce runner, the outgoing runner's SMTP-time failures, REST, the test
suite) and keeps core's interface:

* `register` records one classified event per member address, stores the
  bounce message once, and is idempotent: the same bounce delivered twice
  is registered once;
* `process_event` and `send_warnings_and_remove` apply the list's policy,
  through the same code the periodic pass uses for whole batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from mailman.config import config
from mailman.database.transaction import dbconnection
from mailman.interfaces.bounce import BounceContext, IBounceProcessor
from public import public
from sqlalchemy import and_, select
from zope.interface import implementer

from mailman_bounces.app.classify import event_fields, recipient_for, safe_detect
from mailman_bounces.app.store import (
    fingerprint,
    message_bytes,
    message_id_of,
    received_bytes,
    store_message,
    stored_message_row,
)
from mailman_bounces.database.upsert import (
    insert_ignoring_duplicates,
    insert_pair_ignoring_duplicates,
    pair_supported,
)
from mailman_bounces.detect import Recipient, Report
from mailman_bounces.model.event import BounceEvent, StoredBounce, event_row

log = logging.getLogger('mailman.bounce')


def _site_config():
    # Imported late: the plugin object exists only once Mailman loaded it.
    from mailman_bounces.plugin import site_config
    return site_config()


def _insert(store, row: dict[str, Any], msg, content: bytes,
            msgdata: dict[str, Any] | None) -> None:
    """Insert the event `row` and, if the site keeps them, the bounce
    message it links to (in one round trip where the database can)."""
    settings = _site_config()
    if not settings.store_messages:
        insert_ignoring_duplicates(store, BounceEvent.__table__, [row])
        return
    arguments = (msg, content, row['fingerprint'], settings.max_message_size,
                 (msgdata or {}).get('original_size'))
    if pair_supported(store):
        insert_pair_ignoring_duplicates(
            store, StoredBounce.__table__, stored_message_row(*arguments),
            'fingerprint', BounceEvent.__table__, row, 'stored_message_id')
        return
    row['stored_message_id'] = store_message(*arguments)
    insert_ignoring_duplicates(store, BounceEvent.__table__, [row])


@public
@implementer(IBounceProcessor)
class BounceProcessor:
    """See `IBounceProcessor`."""

    def register(self, mlist, email, msg, context=None, *,
                 report: Report | None = None,
                 recipient: Recipient | None = None,
                 msgdata: dict[str, Any] | None = None):
        """See `IBounceProcessor`.

        :param report: The detection report of `msg`, when the caller has
            it already; otherwise `msg` is classified here.
        :param recipient: The report's record about `email`, if known.
        :param msgdata: The queue metadata (for the received-bytes digest).
        :return: The registered event (the existing one if this bounce was
            registered before).
        """
        key = self.record(mlist, email, msg, context, report=report,
                          recipient=recipient, msgdata=msgdata)
        return config.db.store.execute(select(BounceEvent).where(and_(
            BounceEvent.fingerprint == key[0],
            BounceEvent.list_id == key[1],
            BounceEvent.email == key[2],
            BounceEvent.context == key[3],
        ))).scalar_one()

    @dbconnection
    def record(self, store, mlist, email, msg, context=None, *,
               report: Report | None = None,
               recipient: Recipient | None = None,
               msgdata: dict[str, Any] | None = None) -> tuple:
        """Register like `register`, without loading the event back.

        The bounce runner uses this: it does not need the event object.
        Returns the event's natural key (fingerprint, list id, email,
        context).
        """
        context = BounceContext.normal if context is None else context
        email = email.strip().lower()
        # Read once: each read of an expired list object reloads its row.
        list_id = mlist.list_id
        if report is None:
            report = safe_detect(msg)
        if recipient is None:
            recipient = recipient_for(report, email)
        # Serialise once (or not at all when the LMTP runner kept the bytes
        # as received): for the fingerprint and for the stored copy.
        content = received_bytes(msgdata) or message_bytes(msg)
        digest = fingerprint(content, msgdata)
        row = event_row(list_id, email, message_id_of(msg), context,
                        fingerprint=digest, stored_message_id=None,
                        **event_fields(report, recipient))
        _insert(store, row, msg, content, msgdata)
        log.info('%s bounce registered for %s on %s: %s %s (%s)',
                 row['kind'], email, list_id, row['reason'],
                 row['status'] or '-', row['detector'] or 'no detector')
        return digest, list_id, email, context

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
        """See `IBounceProcessor`."""
        from mailman_bounces.app.bounce_pass import process_events
        process_events([event])

    def send_warnings_and_remove(self):
        """See `IBounceProcessor`."""
        from mailman_bounces.app.bounce_pass import send_warnings_and_remove
        send_warnings_and_remove()
