"""Keeping bounce messages for the retention period.

Core keeps a bounce in its message store for about a day.  The plugin keeps
its own copy, in the database (so every host sharing the database sees it
and a crash can never leave a file without its row), cut at the configured
size, deduplicated by fingerprint.
"""

from __future__ import annotations

import copy
import hashlib
from email.message import Message
from typing import Any

from mailman.config import config
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import select

from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.event import StoredBounce

# Headers Mailman adds when it receives a message; they differ between two
# deliveries of the same bounce, so they are left out of the fingerprint.
_RECEIVING_HEADERS = ('message-id-hash', 'x-message-id-hash', 'x-mailfrom')

# The msgdata key where the LMTP runner puts the digest of the received
# bytes.
FINGERPRINT_KEY = 'bounces_fingerprint'


@public
def fingerprint_bytes(content: bytes) -> str:
    """The fingerprint of a message as received."""
    return hashlib.sha256(content).hexdigest()


@public
def message_bytes(msg: Message) -> bytes:
    """Serialise `msg` without failing on broken messages."""
    try:
        return msg.as_bytes()
    except Exception:  # noqa: BLE001 - any serialisation failure
        # Broken MIME or undecodable headers: fall back to a lossy but
        # total serialisation.
        return str(msg).encode('utf-8', 'surrogateescape')


@public
def fingerprint(msg: Message, msgdata: dict[str, Any] | None = None) -> str:
    """The fingerprint of `msg`: the digest the LMTP runner recorded for the
    received bytes, or else a digest of the message without the headers
    Mailman adds on receipt."""
    if msgdata and msgdata.get(FINGERPRINT_KEY):
        return msgdata[FINGERPRINT_KEY]
    copy = _without_receiving_headers(msg)
    return fingerprint_bytes(message_bytes(copy))


def _without_receiving_headers(msg: Message) -> Message:
    if not any(h in msg for h in _RECEIVING_HEADERS):
        return msg
    # A shallow copy shares the payload; deleting a header gives the copy
    # its own header list, so `msg` itself is untouched.
    stripped = copy.copy(msg)
    for header in _RECEIVING_HEADERS:
        del stripped[header]
    return stripped


@public
def store_message(msg: Message, digest: str, max_size: int) -> int:
    """Store `msg` (once per fingerprint); return the stored row's id."""
    store = config.db.store
    content = message_bytes(msg)
    row = {
        'message_id': message_id_of(msg),
        'fingerprint': digest,
        'received': now(),
        'size': len(content),
        'truncated': len(content) > max_size,
        'content': content[:max_size],
    }
    insert_ignoring_duplicates(store, StoredBounce.__table__, [row])
    return store.execute(
        select(StoredBounce.id).where(StoredBounce.fingerprint == digest)
    ).scalar_one()


@public
def message_id_of(msg: Message) -> str | None:
    """The Message-ID of `msg`, cut to fit its column."""
    value = msg.get('message-id')
    if value is None:
        return None
    text = str(value).strip()
    return text[:255] or None
