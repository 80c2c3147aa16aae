"""Signed return paths: making and checking the signed VERP token.

Every return path the plugin makes has a local part::

    LIST-bounces+<version><key id>.<kind><id>.<expiry>.<mac>

all in lowercase base32 (RFC 4648's alphabet, lowercased, no padding), so
it survives MTAs that lowercase local parts.  ``kind`` says what the id
names (``m``: a member's delivery, ``p``: a member's probe, ``t``: one
recipient's copy of a tracked post); the id is a
short database id, never the address, so the local part stays short
whatever the member's address is.  ``expiry`` is a day number (days since
1970-01-01).  The MAC is HMAC-SHA256 over the version, key id, list id,
kind and id and expiry, truncated to `MAC_CHARS` base32 characters
(80 bits).

Where ``LIST-bounces+`` leaves too little room for that token within RFC
5321's 64 octets (4.5.3.1.1: MTAs may refuse a longer local part), the
*compact* token (version `COMPACT`) has the same parts but a MAC cut to what
fits, down to `MIN_MAC_CHARS` (50 bits: every guess costs a forger a
bounce, and bursts of forged ones are reported); its MAC's length is signed
too, so a longer MAC cannot be cut down into a valid shorter one.
`fit_token` picks the token that fits, or none.

A token can be checked only by whoever holds the key: a bounce that comes
back to a valid token is *verified* evidence; one that comes to something
that looks like a token but whose MAC, key or expiry is wrong is *forged*.

Forwarders rewrite return paths (SRS: ``SRS0=hash=tt=domain=local@fwd``,
``SRS1=hash=fwd==hash=tt=domain=local@fwd2``) and some sites sign their own
(BATV: ``prvs=tag=local@domain``); `unwrap` undoes both before checking.

This module is pure: no Mailman imports, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

__all__ = [
    'COMPACT',
    'EVIDENCE',
    'FORGED',
    'KINDS',
    'MAC_CHARS',
    'MEMBER_DELIVERY',
    'MIN_MAC_CHARS',
    'PROBE',
    'TRACKED_DELIVERY',
    'UNVERIFIED',
    'VERIFIED',
    'Token',
    'check',
    'day_number',
    'fit_token',
    'from_base32',
    'make_token',
    'parse',
    'to_base32',
    'unwrap',
]

VERSION = 'a'
MAC_CHARS = 16          # 16 base32 characters: 80 bits
# The compact token's version, and the shortest MAC it may have.
COMPACT = 'b'
MIN_MAC_CHARS = 10      # 50 bits
# What a token's kind letter names: the ident is a member's id (their
# delivery, their probe) or the id of one recipient's copy of a tracked post
# (`mailman_bounces.model.tracking`).
MEMBER_DELIVERY = 'm'
PROBE = 'p'
TRACKED_DELIVERY = 't'
KINDS = (MEMBER_DELIVERY, PROBE, TRACKED_DELIVERY)
_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
_EPOCH = date(1970, 1, 1)

# The three kinds of evidence an event can rest on.
VERIFIED = 'verified'
UNVERIFIED = 'unverified'
FORGED = 'forged'
EVIDENCE = (VERIFIED, UNVERIFIED, FORGED)

# What looks like a token.  Lenient about the MAC's length on purpose: a
# truncated or padded MAC is a forgery, not an ordinary address.
_TOKEN = re.compile(
    r'^(?P<version>[a-z])(?P<key>[a-z2-7]{1,6})\.'
    r'(?P<kind>[a-z])(?P<ident>[a-z2-7]{1,13})\.'
    r'(?P<expiry>[a-z2-7]{1,6})\.(?P<mac>[a-z2-7]{4,64})$')


def to_base32(number: int) -> str:
    """`number` (>= 0) in lowercase base32 digits, most significant first."""
    if number < 0:
        raise ValueError(number)
    digits = []
    while True:
        number, digit = divmod(number, 32)
        digits.append(_ALPHABET[digit])
        if not number:
            return ''.join(reversed(digits))


def from_base32(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + _ALPHABET.index(char)
    return number


def day_number(day: date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class Token:
    """The parts of a token (checked or not)."""

    key_id: int
    kind: str
    ident: int
    expiry: int       # day number
    mac: str
    version: str = VERSION

    def text(self) -> str:
        return (f'{self.version}{to_base32(self.key_id)}.'
                f'{self.kind}{to_base32(self.ident)}.'
                f'{to_base32(self.expiry)}.{self.mac}')


def _mac(secret: bytes, list_id: str, key_id: int, kind: str, ident: int,
         expiry: int, version: str = VERSION, size: int = MAC_CHARS) -> str:
    # A compact token signs its MAC's length too; a standard token signs
    # what it always did, so that tokens out in the world still verify.
    prefix = version if version == VERSION else f'{version}{size}'
    signed = f'{prefix}|{key_id}|{list_id.lower()}|{kind}{ident}|{expiry}'
    digest = hmac.new(secret, signed.encode('utf-8'), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode('ascii').lower()[:size]


def make_token(secret: bytes, key_id: int, list_id: str, kind: str,
               ident: int, expires: date) -> str:
    """The signed token for `kind` `ident` on `list_id`, valid until the
    end of day `expires`."""
    if kind not in KINDS:
        raise ValueError(f'unknown kind {kind!r}')
    expiry = day_number(expires)
    return Token(key_id, kind, ident, expiry,
                 _mac(secret, list_id, key_id, kind, ident, expiry)).text()


def fit_token(secret: bytes, key_id: int, list_id: str, kind: str,
              ident: int, expires: date, room: int) -> str | None:
    """`make_token`'s token if it has at most `room` characters, else the
    compact token with the longest MAC that fits; None if none fits."""
    token = make_token(secret, key_id, list_id, kind, ident, expires)
    if len(token) <= room:
        return token
    size = MAC_CHARS - (len(token) - room)
    if size < MIN_MAC_CHARS:
        return None
    expiry = day_number(expires)
    return Token(key_id, kind, ident, expiry,
                 _mac(secret, list_id, key_id, kind, ident, expiry, COMPACT,
                      size), COMPACT).text()


def parse(text: str) -> Token | None:
    """The parts of `text` if it looks like a token, else None."""
    match = _TOKEN.match(text.lower())
    if match is None:
        return None
    return Token(from_base32(match['key']), match['kind'],
                 from_base32(match['ident']), from_base32(match['expiry']),
                 match['mac'], match['version'])


def check(token: Token, list_id: str, keys: Mapping[int, bytes],
          today: date) -> str:
    """`VERIFIED` if `token` was made with one of `keys` (by key id) for
    `list_id` and has not expired on `today`; `FORGED` otherwise."""
    secret = keys.get(token.key_id)
    size = len(token.mac)
    if secret is None or token.kind not in KINDS or not (
            token.version == VERSION and size == MAC_CHARS
            or token.version == COMPACT
            and MIN_MAC_CHARS <= size < MAC_CHARS):
        return FORGED
    expected = _mac(secret, list_id, token.key_id, token.kind, token.ident,
                    token.expiry, token.version, size)
    if not hmac.compare_digest(expected, token.mac):
        return FORGED
    if token.expiry < day_number(today):
        return FORGED
    return VERIFIED


_SRS0 = re.compile(r'^srs0[=+-]', re.IGNORECASE)
_SRS1 = re.compile(r'^srs1[=+-]', re.IGNORECASE)
_BATV = re.compile(r'^prvs=[^=]+=', re.IGNORECASE)


def unwrap(address: str) -> str:
    """`address` with SRS and BATV rewriting undone (as many layers as
    there are, up to a few)."""
    local, _, domain = address.rpartition('@')
    for _layer in range(5):
        if _BATV.match(local):
            # prvs=tag=local (the BATV draft's order).
            local = local.split('=', 2)[2]
        elif _SRS0.match(local):
            # SRS0=hash=tt=domain=local
            parts = local[5:].split('=', 3)
            if len(parts) != 4:
                break
            domain, local = parts[2], parts[3]
        elif _SRS1.match(local):
            # SRS1=hash=first-forwarder==hash=tt=domain=local: the SRS0
            # address at the first forwarder.
            head, separator, rest = local[5:].partition('==')
            pieces = head.split('=', 1)
            if not separator or len(pieces) != 2:
                break
            local, domain = 'SRS0=' + rest, pieces[1]
        else:
            break
    return f'{local}@{domain}' if domain else local
