"""Keeping bounce messages for the retention period.

Core keeps a bounce in its message store for about a day.  The plugin keeps
its own copy, in the database (so every host sharing the database sees it
and a crash can never leave a file without its row), cut at the configured
size, deduplicated by fingerprint.  Bounces registered through core's
interface are also kept in core's message store, as core keeps them
(`keep_in_message_store`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from email.message import Message
from typing import Any

from lazr.config import as_timedelta
from mailman.config import config
from mailman.interfaces.messages import IMessageStore
from mailman.interfaces.pending import IPendable, IPendings
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select
from zope.component import getUtility
from zope.interface import implementer

from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.event import StoredBounce

# Headers Mailman adds when it receives a message; they differ between two
# deliveries of the same bounce, so they are left out of the fingerprint.
_RECEIVING_HEADER_NAMES = frozenset(
    {b'message-id-hash', b'x-message-id-hash', b'x-mailfrom'})

# The msgdata keys where the LMTP runner puts the digest of the received
# bytes, and the bytes themselves (cut at the larger of the stored size and
# what detection reads; the stored copy is cut again at the stored size).
FINGERPRINT_KEY = 'bounces_fingerprint'
RAW_KEY = 'bounces_raw'


@public
def fingerprint_bytes(content: bytes) -> str:
    """The fingerprint of a message as received."""
    return hashlib.sha256(content).hexdigest()


@public
def received_bytes(msgdata: dict[str, Any] | None) -> bytes | None:
    """The message as received, if the LMTP runner kept it."""
    return (msgdata or {}).get(RAW_KEY) or None


@public
def received_content(msg: Message, msgdata: dict[str, Any] | None) -> bytes:
    """The message as received if the LMTP runner kept it, else `msg`
    serialised."""
    return received_bytes(msgdata) or message_bytes(msg)


@public
def message_bytes(msg: Message) -> bytes:
    """Serialise `msg` without failing on broken messages."""
    try:
        return msg.as_bytes()
    except Exception:  # noqa: BLE001 - any serialisation failure
        # Broken MIME or undecodable headers: fall back to a lossy but
        # total serialisation.
        return str(msg).encode('utf-8', 'surrogateescape')


def _without_receiving_headers(content: bytes) -> bytes:
    """`content` minus the headers Mailman adds on receipt (and their
    continuation lines)."""
    head, separator, body = content.partition(b'\n\n')
    if not separator:
        head, separator, body = content.partition(b'\r\n\r\n')
    kept, skipping = [], False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b' ', b'\t'):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b':', 1)[0].strip().lower()
        skipping = name in _RECEIVING_HEADER_NAMES
        if not skipping:
            kept.append(line)
    # The head ends without a line break (the separator has it), also when
    # the headers left out were the last ones.
    return b''.join(kept).rstrip(b'\r\n') + separator + body


@public
def fingerprint(content: bytes,
                msgdata: dict[str, Any] | None = None) -> str:
    """The fingerprint of a message: the digest the LMTP runner recorded
    for the received bytes, or else a digest of `content` (the serialised
    message) without the headers Mailman adds on receipt."""
    if msgdata and msgdata.get(FINGERPRINT_KEY):
        return msgdata[FINGERPRINT_KEY]
    return fingerprint_bytes(_without_receiving_headers(content))


@public
def stored_message_row(msg: Message, content: bytes, digest: str,
                       max_size: int, size: int | None = None
                       ) -> dict[str, Any]:
    """The row storing `msg` (serialised as `content`, possibly already
    cut from a message of `size` bytes)."""
    size = max(size or 0, len(content))
    return {
        'message_id': message_id_of(msg),
        'fingerprint': digest,
        'received': now(),
        'size': size,
        'truncated': size > max_size,
        'content': content[:max_size],
    }


@public
def store_messages(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Store each message row (see `stored_message_row`) unless a message
    with its fingerprint is stored already; return the row id of every
    fingerprint.  Two statements, however many rows."""
    rows = list(rows)
    if not rows:
        return {}
    store = config.db.store
    # A bounce delivered twice, or registered by another runner meanwhile,
    # keeps its first copy.
    insert_ignoring_duplicates(store, StoredBounce.__table__, rows)
    wanted = sorted({row['fingerprint'] for row in rows})
    return dict(store.execute(
        select(StoredBounce.fingerprint, StoredBounce.id)
        .where(StoredBounce.fingerprint.in_(wanted))).all())


@public
def message_id_of(msg: Message) -> str | None:
    """The Message-ID of `msg`, cut to fit its column."""
    value = msg.get('message-id')
    if value is None:
        return None
    text = str(value).strip()
    return text[:255] or None


@implementer(IPendable)
class _StoredDSN(dict):
    """Pends a bounce's Message-ID, so that core's task runner keeps the
    message in the message store until the pending expires (it deletes
    stored messages no pending names)."""

    PEND_TYPE = 'bounces-dsn'


@public
def keep_in_message_store(msg: Message) -> bool:
    """Keep `msg` in Mailman's message store for ``[mailman]dsn_lifetime``,
    as core's `register` does, so that ``IMessageStore.get_message_by_id``
    finds it by the Message-ID its event records.

    The plugin's own copy (`store_messages`) is what its notices use and
    what it keeps for the retention period; this one is for code written
    against core.  A message without exactly one Message-ID cannot be
    stored there (core's store refuses it) and is left out: giving it one
    would change the message, and with it the fingerprint that makes
    registration idempotent.  Returns whether the message was added now.
    """
    if len(msg.get_all('message-id', [])) != 1:
        return False
    if getUtility(IMessageStore).add(msg) is None:
        # Stored already (and pended by whoever stored it).
        return False
    getUtility(IPendings).add(
        _StoredDSN(_mod_message_id=str(msg['message-id'])),
        lifetime=as_timedelta(config.mailman.dsn_lifetime))
    return True
