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
from sqlalchemy.orm import Session

from mailman_bounces.database.locking import creation_lock
from mailman_bounces.model.tracking import TrackedDelivery
from mailman_bounces.model.verp_key import VerpKey
from mailman_bounces.signing import (
    FORGED,
    TRACKED_DELIVERY,
    check,
    fit_token,
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
# RFC 5321 4.5.3.1.1: the longest local part every MTA must take.
MAX_LOCAL_PART = 64


@public
def ensure_key(store: Session | None = None) -> VerpKey:
    """The key that signs now, made if there is none yet (in the
    transaction of `store`, by default Mailman's)."""
    store = store or config.db.store
    return _signing_key(store) or _first_key(store)


def _signing_key(store: Session, locking: bool = False) -> VerpKey | None:
    query = (select(VerpKey).where(VerpKey.retires.is_(None))
             .order_by(VerpKey.id.desc()).limit(1))
    if locking:
        query = query.with_for_update()
    return store.execute(query).scalar_one_or_none()


def _first_key(store: Session) -> VerpKey:
    # Runners and hosts starting at once all find no key: without the lock
    # each made a "first" one, a secret more that verified until the next
    # rotation.  Under it, the second one in finds the first one's key.
    with creation_lock(store, 'verp_key', VerpKey.__tablename__):
        key = _signing_key(store, locking=True)
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
                   lifetime: timedelta, key: VerpKey | None = None
                   ) -> str | None:
    """The signed return path naming `kind` `ident` on `mlist`, signed
    with `key` (by default the key that signs now).

    Compact if the standard one's local part would be over
    `MAX_LOCAL_PART`.  None if no signed one fits but the list's plain
    bounces address does: the caller falls back to core's return paths.
    If not even that fits (a list name over 55 characters), every return
    path is over the limit: the standard signed one, verified at least.
    The last two are logged.
    """
    key = key or ensure_key()
    local = _bounces_mailbox(mlist)[0]
    secret, expires = bytes.fromhex(key.secret), (now() + lifetime).date()
    token = fit_token(secret, key.id, mlist.list_id, kind, ident, expires,
                      MAX_LOCAL_PART - len(local) - 1)
    if token is not None:
        return address_with(mlist, token)
    core_fits = len(local.encode()) <= MAX_LOCAL_PART
    _too_long(mlist, local, core_fits)
    if core_fits:
        return None
    return address_with(mlist, make_token(secret, key.id, mlist.list_id,
                                          kind, ident, expires))


@public
def local_part_fits(address: str) -> bool:
    """Whether the local part of `address` is within `MAX_LOCAL_PART`."""
    return len(address.rpartition('@')[0].encode()) <= MAX_LOCAL_PART


@public
def address_with(mlist: Any, token: str) -> str:
    """The list's bounces address carrying `token`, however long."""
    local, domain = _bounces_mailbox(mlist)
    return f'{local}+{token}@{domain}'


@public
def signed_token(mlist: Any, kind: str, ident: int, lifetime: timedelta,
                 key: VerpKey | None = None) -> str:
    """The standard signed token naming `kind` `ident` on `mlist`, for
    where no length limit applies (a header, a DSN envelope id)."""
    key = key or ensure_key()
    return make_token(bytes.fromhex(key.secret), key.id, mlist.list_id,
                      kind, ident, (now() + lifetime).date())


# The lists whose names were logged as too long for a signed return path:
# once per list and process, not once per copy of every post.
_logged_too_long: set[str] = set()


def _too_long(mlist: Any, local: str, core_fits: bool) -> None:
    if mlist.list_id in _logged_too_long:
        return
    _logged_too_long.add(mlist.list_id)
    instead = ("its deliveries go from core's return paths (its VERP, or "
               'the plain bounces address: bounces unverified), its probes '
               'from the longer signed one' if core_fits else
               'not even its plain bounces address: its mail goes from the '
               'standard signed ones, verified at least')
    log.warning('mailman-bounces: %s: no signed return path fits in %d '
                'octets after %s+ (RFC 5321 4.5.3.1.1); %s; a shorter '
                'list name would fix it', mlist.list_id, MAX_LOCAL_PART,
                local, instead)


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

