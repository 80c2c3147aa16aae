"""Signed return paths for real lists and members: the keys, making an
address, checking one.

The keys live in the plugin's ``bounces_verp_key`` table (never in
mailman.cfg): the first is made at first start (or the first time one is
needed, e.g. on a database just reset), `rotate_keys` adds one and gives
the others an end, so mail signed before a rotation can still bounce.  The
token format and its checks are in `mailman_bounces.signing`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mailman.config import config
from mailman.model.member import Member
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import or_, select

from mailman_bounces.model.tracking import TrackedDelivery
from mailman_bounces.model.verp_key import VerpKey
from mailman_bounces.signing import (
    FORGED,
    TRACKED_DELIVERY,
    check,
    make_token,
    parse,
    unwrap,
)

log = logging.getLogger('mailman.bounce')

# How long a member's signed delivery address stays valid: bounces of
# deferred mail come back days later.  A probe's lives as long as its
# list's probe_wait, plus this margin.
DELIVERY_LIFETIME = timedelta(days=30)
PROBE_MARGIN = timedelta(days=2)
# The header carrying the signed token on the copies the plugin signs, so
# that an abuse report returning the message can be verified.
SIGNATURE_HEADER = 'X-Mailman-Bounces-Token'


@public
def ensure_key() -> VerpKey:
    """The key that signs now, made if there is none yet."""
    store = config.db.store
    key = store.execute(
        select(VerpKey).where(VerpKey.retires.is_(None))
        .order_by(VerpKey.id.desc()).limit(1)).scalar_one_or_none()
    if key is None:
        key = VerpKey(secret=secrets.token_hex(32), created=now())
        store.add(key)
        store.flush()
        log.info('mailman-bounces: VERP signing key %d made', key.id)
    return key


@public
def valid_keys() -> dict[int, bytes]:
    """The secrets of the keys that verify now, by key id."""
    rows = config.db.store.execute(
        select(VerpKey.id, VerpKey.secret)
        .where(or_(VerpKey.retires.is_(None), VerpKey.retires > now())))
    return {row.id: bytes.fromhex(row.secret) for row in rows}


@public
def rotate_keys(overlap: timedelta) -> VerpKey:
    """Add a key that signs from now on; the keys signing until now keep
    verifying for `overlap`."""
    store = config.db.store
    ensure_key()
    retires = now() + overlap
    for key in store.execute(select(VerpKey).where(
            VerpKey.retires.is_(None))).scalars():
        key.retires = retires
    key = VerpKey(secret=secrets.token_hex(32), created=now())
    store.add(key)
    store.flush()
    log.info('mailman-bounces: VERP signing key %d made; older keys verify '
             'until %s', key.id, retires)
    return key


@public
def list_keys() -> list[VerpKey]:
    return list(config.db.store.execute(
        select(VerpKey).order_by(VerpKey.id)).scalars())


def _bounces_mailbox(mlist: Any) -> tuple[str, str]:
    local, _, domain = mlist.bounces_address.rpartition('@')
    return local.lower(), domain.lower()


@public
def signed_address(mlist: Any, kind: str, ident: int,
                   lifetime: timedelta, key: VerpKey | None = None) -> str:
    """The signed return path naming `kind` `ident` on `mlist`, signed
    with `key` (by default the key that signs now)."""
    key = key or ensure_key()
    token = make_token(bytes.fromhex(key.secret), key.id, mlist.list_id,
                       kind, ident, (now() + lifetime).date())
    local, domain = _bounces_mailbox(mlist)
    return f'{local}+{token}@{domain}'


@public
class OneKeyPerDelivery:
    """Mixin for core's per-recipient deliveries: every copy of a delivery
    is signed with the key that signs when it starts, read once rather
    than once per copy."""

    signing_key: VerpKey | None = None

    def deliver(self, mlist, msg, msgdata):
        self.signing_key = ensure_key()
        return super().deliver(mlist, msg, msgdata)


@public
def token_of(address: str) -> str:
    """The token part of a signed address."""
    return address.rpartition('@')[0].partition('+')[2]


@public
@dataclass(frozen=True)
class CheckedAddress:
    """What a signed-looking address says, once checked."""

    evidence: str          # verified or forged
    kind: str
    email: str | None      # the member (or tracked recipient) it names
    ident: int | None = None


def _named_email(mlist: Any, kind: str, ident: int) -> str | None:
    if kind == TRACKED_DELIVERY:
        delivery = config.db.store.get(TrackedDelivery, ident)
        if delivery is None or delivery.list_id != mlist.list_id:
            return None
        return delivery.email
    return _member_email(mlist, ident)


def _member_email(mlist: Any, member_id: int) -> str | None:
    member = config.db.store.get(Member, member_id)
    if member is None or member.list_id != mlist.list_id:
        return None
    return member.address.email.lower()


@public
def check_token(mlist: Any, text: str) -> CheckedAddress | None:
    """Check a bare token (a signature header's value), or None if `text`
    does not look like one."""
    token = parse(text.strip())
    if token is None:
        return None
    evidence = check(token, mlist.list_id, valid_keys(), now().date())
    return CheckedAddress(evidence, token.kind,
                          _named_email(mlist, token.kind, token.ident),
                          token.ident)


@public
def check_address(mlist: Any, address: str) -> CheckedAddress | None:
    """Check `address` (after undoing SRS and BATV) as a signed return path
    of `mlist`; None when it does not look like one."""
    plain = unwrap(address.strip().strip('<>'))
    local, _, domain = plain.lower().rpartition('@')
    mailbox, separator, token = local.partition('+')
    if not separator or parse(token) is None:
        return None
    if (mailbox, domain) != _bounces_mailbox(mlist):
        # A token on another list's (or host's) bounce address.
        return CheckedAddress(FORGED, parse(token).kind, None)
    return check_token(mlist, token)

