"""The single address gate: only plain, valid mailboxes ever leave the engine."""

from __future__ import annotations

import pytest

from mailman_bounces.detect.address import (
    clean_address,
    find_addresses,
    is_valid_address,
)


@pytest.mark.parametrize('raw, expected', [
    ('Alice@Example.COM', 'alice@example.com'),
    ('<bob@example.org>', 'bob@example.org'),
    ('rfc822; carol@example.net', 'carol@example.net'),
    ('RFC822;<dave@sub.example.co.jp>', 'dave@sub.example.co.jp'),
    ('mailto:erin@example.com', 'erin@example.com'),
    ('frank+list=lists.example.org@example.com', 'frank+list=lists.example.org@example.com'),
    ('nyaan%gol.com@q002.example.com', 'nyaan%gol.com@q002.example.com'),
    ('grace@[192.0.2.1]', 'grace@[192.0.2.1]'),
    ('heidi@xn--bcher-kva.example', 'heidi@xn--bcher-kva.example'),
    ('ivan@example.com.', 'ivan@example.com'),
    ('[judy@example.com]', 'judy@example.com'),
])
def test_accepts_real_mailboxes(raw: str, expected: str) -> None:
    assert clean_address(raw) == expected
    assert is_valid_address(expected)


@pytest.mark.parametrize('junk', [
    '"emailAddress":"x@example.com"',          # JSON fragment (Amazon SES)
    '{"x@example.com"}',
    '|/usr/local/bin/procmail x@example.com',   # Exim pipe
    '/var/spool/mail/x@example.com',            # file path
    '"quoted local"@example.com',
    'two words@example.com',
    'x@example',                                # no dot in the domain
    'x@localhost',
    'x@-bad-.example.com',
    'x@example.123',                            # numeric TLD
    'x..y@example.com',
    '@example.com',
    'x@',
    '',
    None,
    'a' * 65 + '@example.com',                  # local part too long
    'x@' + 'a' * 250 + '.com',
    'undisclosed-recipients:;',
])
def test_rejects_junk(junk: str | None) -> None:
    assert clean_address(junk) is None


def test_find_addresses_skips_junk_and_duplicates() -> None:
    text = 'To: <a@example.com>, "b" <B@example.com>; a@example.com |/bin/sh c@example'
    assert find_addresses(text) == ['a@example.com', 'b@example.com']
