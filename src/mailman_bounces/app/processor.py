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
    message_id_of,
    store_message,
)
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.detect import Recipient, Report
from mailman_bounces.model.event import BounceEvent

log = logging.getLogger('mailman.bounce')


def _site_config():
    # Imported late: the plugin object exists only once Mailman loaded it.
    from mailman_bounces.plugin import site_config
    return site_config()


@public
@implementer(IBounceProcessor)
class BounceProcessor:
    """See `IBounceProcessor`."""

    @dbconnection
    def register(self, store, mlist, email, msg, context=None, *,
                 report: Report | None = None,
                 recipient: Recipient | None = None,
                 msgdata: dict[str, Any] | None = None):
        """See `IBounceProcessor`.

        :param report: The detection report of `msg`, when the caller has
            it already; otherwise `msg` is classified here.
        :param recipient: The report's record about `email`, if known.
        :param msgdata: The queue metadata (for the received-bytes digest).
        """
        context = BounceContext.normal if context is None else context
        email = email.strip().lower()
        if report is None:
            report = safe_detect(msg)
        if recipient is None:
            recipient = recipient_for(report, email)
        digest = fingerprint(msg, msgdata)
        settings = _site_config()
        stored_id = (store_message(msg, digest, settings.max_message_size)
                     if settings.store_messages else None)
        event = BounceEvent(
            mlist.list_id, email, message_id_of(msg), context,
            fingerprint=digest, stored_message_id=stored_id,
            **event_fields(report, recipient))
        row = {column.name: getattr(event, column.name)
               for column in BounceEvent.__table__.columns
               if column.name != 'id'}
        insert_ignoring_duplicates(store, BounceEvent.__table__, [row])
        registered = store.execute(select(BounceEvent).where(and_(
            BounceEvent.fingerprint == digest,
            BounceEvent.list_id == mlist.list_id,
            BounceEvent.email == email,
            BounceEvent.context == context,
        ))).scalar_one()
        log.info('%s bounce registered for %s on %s: %s %s (%s)',
                 registered.kind, email, mlist.list_id,
                 registered.reason, registered.status or '-',
                 registered.detector or 'no detector')
        return registered

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
