"""The signed return path token (pure: no Mailman)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mailman_bounces.signing import (
    COMPACT,
    FORGED,
    MAC_CHARS,
    MIN_MAC_CHARS,
    VERIFIED,
    Token,
    check,
    fit_token,
    from_base32,
    make_token,
    parse,
    to_base32,
    unwrap,
)

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
KEYS = {1: SECRET}
TODAY = date(2026, 12, 1)
LIST = 'test.example.com'
# Lowercase base32 (RFC 4648's alphabet), four dot-separated fields.
SHAPE = re.compile(r'^a[a-z2-7]+\.[mp][a-z2-7]+\.[a-z2-7]+\.[a-z2-7]+$')


def _token(**changes) -> str:
    values = {'secret': SECRET, 'key_id': 1, 'list_id': LIST, 'kind': 'p',
              'ident': 4711, 'expires': date(2026, 12, 8)} | changes
    return make_token(**values)


def test_base32_numbers():
    # RFC 4648 alphabet: a=0 ... z=25, 2=26 ... 7=31.
    assert to_base32(0) == 'a'
    assert to_base32(31) == '7'
    assert to_base32(32) == 'ba'
    assert from_base32('ba') == 32
    assert from_base32(to_base32(2**40 + 5)) == 2**40 + 5


def test_a_token_verifies_and_has_the_specified_shape():
    token = _token()
    assert SHAPE.match(token), token
    assert token == token.lower()
    # The MAC is at least 80 bits: 16 base32 characters of 5 bits.
    assert len(token.rsplit('.', 1)[1]) == MAC_CHARS >= 16
    assert check(parse(token), LIST, KEYS, TODAY) == VERIFIED


def test_a_token_survives_uppercasing():
    assert check(parse(_token().upper()), LIST, KEYS, TODAY) == VERIFIED


def test_the_local_part_stays_short_whatever_the_member():
    # The largest member id core's (32-bit) key holds, a thousand key
    # rotations, an expiry in 2100: the token takes at most 35 characters,
    # so with "NAME-bounces+" in front the local part stays under 64 for
    # list names of up to 19 characters.
    token = _token(key_id=1023, ident=2**31 - 1, expires=date(2100, 1, 1))
    assert len(token) <= 35
    assert len(f'a-typical-list-name-bounces+{token}') < 64


def _fit(room: int) -> str | None:
    return fit_token(SECRET, 1, LIST, 'p', 4711, date(2026, 12, 8), room)


def test_a_token_fits_the_room_it_is_given():
    standard = _token()
    # Room enough: the standard token.
    assert _fit(len(standard)) == standard
    # Less room: compact, its MAC cut by what is missing, and verified.
    for missing in range(1, MAC_CHARS - MIN_MAC_CHARS + 1):
        compact = _fit(len(standard) - missing)
        assert len(compact) == len(standard) - missing
        token = parse(compact)
        assert (token.version, len(token.mac)) == (
            COMPACT, MAC_CHARS - missing)
        assert check(token, LIST, KEYS, TODAY) == VERIFIED
        assert check(token, 'other.example.com', KEYS, TODAY) == FORGED
    # Less than the shortest MAC allowed: none.
    assert _fit(len(standard) - (MAC_CHARS - MIN_MAC_CHARS) - 1) is None


def test_a_compact_mac_cannot_be_cut_or_stand_for_a_standard_one():
    longest = parse(_fit(len(_token()) - 1))
    shortest = parse(_fit(len(_token()) - (MAC_CHARS - MIN_MAC_CHARS)))
    assert len(longest.mac) > len(shortest.mac) == MIN_MAC_CHARS
    # A valid compact MAC cut down, or a standard one cut: forged (the
    # length is signed); the standard MAC under the compact version, or a
    # MAC shorter than the least allowed: forged.
    standard = parse(_token())
    for version, mac in ((COMPACT, longest.mac[:MIN_MAC_CHARS]),
                         (COMPACT, standard.mac[:MAC_CHARS - 1]),
                         (COMPACT, standard.mac),
                         (COMPACT, shortest.mac[:MIN_MAC_CHARS - 1]),
                         ('a', shortest.mac)):
        forged = Token(standard.key_id, standard.kind, standard.ident,
                       standard.expiry, mac, version)
        assert check(parse(forged.text()), LIST, KEYS, TODAY) == FORGED


@pytest.mark.parametrize('position', [-1, -8, -MAC_CHARS])
def test_one_changed_mac_character_is_forged(position):
    token = _token()
    chars = list(token)
    chars[position] = 'b' if chars[position] != 'b' else 'c'
    assert check(parse(''.join(chars)), LIST, KEYS, TODAY) == FORGED


def test_wrong_list_key_member_or_expiry_is_forged():
    token = parse(_token())
    assert check(token, 'other.example.com', KEYS, TODAY) == FORGED
    assert check(token, LIST, {1: OTHER_SECRET}, TODAY) == FORGED
    assert check(token, LIST, {2: SECRET}, TODAY) == FORGED
    # The member id or kind changed, the MAC kept.
    ident, mac = token.text().split('.')[1], token.mac
    assert check(parse(token.text().replace(ident, 'p' + to_base32(4712))),
                 LIST, KEYS, TODAY) == FORGED
    assert check(parse(token.text().replace(ident, 'm' + ident[1:])),
                 LIST, KEYS, TODAY) == FORGED
    assert mac
    # Valid through its expiry day, forged the day after.
    assert check(token, LIST, KEYS, date(2026, 12, 8)) == VERIFIED
    assert check(token, LIST, KEYS, date(2026, 12, 9)) == FORGED


def test_what_does_not_look_like_a_token():
    for text in ('anne=example.org', 'abc123token', '', 'a.b.c',
                 'ab.p12.ab.mac'):
        assert parse(text) is None, text


def test_unwrap_srs_and_batv():
    inner = 'test-bounces+token@lists.example.com'
    # SRS0 (one forwarder), SRS1 (two), BATV, and BATV inside SRS0.
    assert unwrap('SRS0=HHH=TT=lists.example.com=test-bounces+token'
                  '@forwarder.example.net') == inner
    assert unwrap('SRS1=HHH=forwarder.example.net==HHH=TT=lists.example.com'
                  '=test-bounces+token@second.example.org') == inner
    assert unwrap('prvs=1234abcdef=test-bounces+token@lists.example.com'
                  ) == inner
    assert unwrap('SRS0=HHH=TT=lists.example.com=prvs=1234abcdef='
                  'test-bounces+token@forwarder.example.net') == inner
    assert unwrap(inner) == inner
