"""Polling a bounce mailbox: register first, then move (or delete).

Exactly once, whatever crashes when: every message's registrations are
committed before the message is moved out of the folder (IMAP) or marked
for deletion (POP3), and registration is idempotent on the fingerprint of
the fetched bytes.  A runner killed between the two finds the message
again on its next poll and registers nothing new; a folder whose
UIDVALIDITY changed is read again from its first message, to the same
effect.  Only one runner polls a mailbox at a time (a lease in the
database), and the state (UIDVALIDITY, last UID, POP3 UIDLs, counters,
back-off) lives in the database, so any runner on any host can take over.

A failed poll (login, TLS, timeout, protocol) is logged, recorded in the
mailbox's state (shown by REST and ``mailman bounces mailboxes``) and
backs off: 5 minutes, doubling up to an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import uuid4

from mailman.config import config
from mailman.interfaces.runner import RunnerInterrupt
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select, update

from mailman_bounces.app.claims import holder_name, release_lease, take_lease
from mailman_bounces.app.mailboxes.messages import Fetched, examine
from mailman_bounces.app.processor import BounceProcessor
from mailman_bounces.app.store import FINGERPRINT_KEY
from mailman_bounces.app.tracking import record_tracking
from mailman_bounces.config import MailboxConfig, site_config
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.mailbox import MailboxState, MailboxUIDL
from mailman_bounces.utilities.mailbox_clients import (
    Endpoint,
    IMAPClient,
    MailboxError,
    POP3Client,
    connected,
)

log = logging.getLogger('mailman.bounce')

# Messages fetched, registered and moved together.
BATCH = 50
FIRST_BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
# How long one poll may hold a mailbox; renewed after every batch.
LEASE = timedelta(minutes=15)


@public
def backoff(failures: int) -> timedelta:
    """The wait after `failures` consecutive failed polls."""
    if failures < 1:
        return timedelta(0)
    return min(FIRST_BACKOFF * 2 ** min(failures - 1, 16), MAX_BACKOFF)


@public
def endpoint(box: MailboxConfig) -> Endpoint:
    return Endpoint(
        protocol=box.protocol, host=box.host, port=box.effective_port,
        security=box.security, user=box.user,
        password_file=box.password_file, token_command=box.token_command,
        ca_file=box.ca_file, timeout=box.timeout.total_seconds())


def _lease_name(box: MailboxConfig) -> str:
    return f'mailbox:{box.name}'[:64]


def mailbox_state(name: str) -> MailboxState:
    """The state row of mailbox `name` (created if missing)."""
    store = config.db.store
    insert_ignoring_duplicates(store, MailboxState.__table__, [{
        'name': name, 'last_uid': 0, 'failures': 0, 'seen': 0,
        'registered': 0, 'unparsed': 0}])
    return store.execute(select(MailboxState).where(
        MailboxState.name == name)).scalar_one()


def _count(name: str, **increments: int) -> None:
    values = {key: getattr(MailboxState, key) + value
              for key, value in increments.items() if value}
    if values:
        config.db.store.execute(update(MailboxState).where(
            MailboxState.name == name).values(**values))


def _new_fingerprints(items: Iterable[Fetched]) -> int:
    """How many of the messages' fingerprints are not registered yet."""
    prints = {r.msgdata[FINGERPRINT_KEY] for item in items
              for r in item.registrations if r.msgdata}
    if not prints:
        return 0
    known = set(config.db.store.execute(
        select(BounceEvent.fingerprint).where(
            BounceEvent.fingerprint.in_(prints))).scalars())
    return len(prints - known)


def _register(box: MailboxConfig, items: list[Fetched]) -> None:
    """Register the batch's bounces and commit, before anything moves."""
    registrations = [r for item in items for r in item.registrations]
    new = _new_fingerprints(items)
    if registrations:
        BounceProcessor().record_all(registrations)
    record_tracking([t for item in items for t in item.tracking])
    _count(box.name, registered=new)
    config.db.commit()


def _renew(box: MailboxConfig, holder: str) -> None:
    if not take_lease(_lease_name(box), LEASE, now(), holder):
        config.db.commit()
        raise MailboxError('another runner took over this mailbox')
    config.db.commit()


def _poll_imap(box: MailboxConfig, client: IMAPClient, holder: str) -> None:
    uidvalidity = client.select(box.folder)
    state = mailbox_state(box.name)
    if state.uidvalidity != uidvalidity:
        if state.uidvalidity is not None:
            log.warning('mailbox %s: UIDVALIDITY of %s changed (%s -> %s); '
                        'reading it again', box.name, box.folder,
                        state.uidvalidity, uidvalidity)
        state.uidvalidity, state.last_uid = uidvalidity, 0
        config.db.commit()
    last_uid = state.last_uid
    for folder in (box.processed_folder, box.unparsed_folder):
        client.ensure_folder(folder)
    uids = client.uids_after(last_uid)
    for start in range(0, len(uids), BATCH):
        batch = uids[start:start + BATCH]
        fetched = client.fetch(batch)
        items = [examine(box, uid, fetched[uid]) for uid in batch
                 if uid in fetched]
        _register(box, items)
        client.move([i.key for i in items if i.processed],
                    box.processed_folder)
        client.move([i.key for i in items if not i.processed],
                    box.unparsed_folder)
        config.db.store.execute(update(MailboxState).where(
            MailboxState.name == box.name).values(last_uid=batch[-1]))
        _count(box.name, seen=len(items),
               unparsed=sum(not i.processed for i in items))
        _renew(box, holder)


def _poll_pop3(box: MailboxConfig, client: POP3Client, holder: str) -> None:
    numbers = client.uidls()
    known = {row.uidl: row.delete for row in config.db.store.execute(
        select(MailboxUIDL).where(MailboxUIDL.mailbox == box.name)
    ).scalars()}
    # Registered before, but the DELE was lost (crash before QUIT).
    for uidl, number in numbers.items():
        if known.get(uidl) and box.delete:
            client.delete(number)
    new = [uidl for uidl in numbers if uidl not in known]
    for start in range(0, len(new), BATCH):
        batch = new[start:start + BATCH]
        items = [examine(box, uidl, client.retrieve(numbers[uidl]))
                 for uidl in batch]
        _register(box, items)
        insert_ignoring_duplicates(
            config.db.store, MailboxUIDL.__table__,
            [{'mailbox': box.name, 'uidl': item.key[:128],
              'delete': item.outcome == 'bounce', 'seen': now()}
             for item in items])
        _count(box.name, seen=len(items),
               unparsed=sum(not i.processed for i in items))
        config.db.commit()
        for item in items:
            if item.outcome == 'bounce' and box.delete:
                client.delete(numbers[item.key])
        _renew(box, holder)
    # UIDLs no longer on the server will never come back.
    gone = set(known) - set(numbers)
    if gone:
        config.db.store.execute(MailboxUIDL.__table__.delete().where(
            MailboxUIDL.mailbox == box.name,
            MailboxUIDL.uidl.in_(sorted(gone))))
        config.db.commit()


def _record(box: MailboxConfig, started: datetime,
            error: str | None) -> None:
    state = mailbox_state(box.name)
    state.last_poll = started
    if error is None:
        state.failures, state.last_error = 0, None
        state.last_success = started
        state.next_poll = started + box.poll_interval
    else:
        state.failures += 1
        state.last_error = error
        state.next_poll = started + backoff(state.failures)
        log.error('mailbox %s: poll failed (%d in a row, next in %s): %s',
                  box.name, state.failures, backoff(state.failures), error)
    config.db.commit()


@public
def poll(box: MailboxConfig, force: bool = False) -> bool:
    """Poll `box` if it is due (or `force`) and nobody else is polling it.

    :return: Whether it was polled.
    """
    started = now()
    # One holder per poll: a poll that died (with its process, or by an
    # exception escaping) keeps the mailbox until its lease ends.
    holder = f'{holder_name()}:{uuid4().hex[:12]}'
    state = mailbox_state(box.name)
    due = state.next_poll is None or state.next_poll <= started
    if not (due or force) or not take_lease(_lease_name(box), LEASE,
                                            started, holder):
        config.db.commit()
        return False
    config.db.commit()
    error = None
    try:
        with connected(endpoint(box)) as client:
            if isinstance(client, IMAPClient):
                _poll_imap(box, client, holder)
            else:
                _poll_pop3(box, client, holder)
    except RunnerInterrupt:
        # The runner is stopping (SIGTERM, SIGINT): not the mailbox's
        # fault, so no error and no back-off.  What was registered and not
        # moved yet is registered once again next time (fingerprints).
        config.db.abort()
        release_lease(_lease_name(box), holder)
        config.db.commit()
        raise
    except MailboxError as failure:
        config.db.abort()
        error = str(failure)
    except Exception as failure:
        config.db.abort()
        log.exception('mailbox %s: poll failed', box.name)
        error = f'{type(failure).__name__}: {failure}'
    _record(box, started, error)
    release_lease(_lease_name(box), holder)
    config.db.commit()
    return True


@public
def poll_all(force: bool = False) -> int:
    """Poll every enabled mailbox that is due; return how many were."""
    return sum(poll(box, force)
               for box in site_config().mailboxes.values() if box.enabled)
