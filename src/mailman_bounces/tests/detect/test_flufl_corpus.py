"""Nothing Mailman core catches is lost: flufl.bounce's own corpus as a regression suite.

flufl.bounce is Mailman core's bounce detector.  Its sdist ships the bounces
its tests check, with the addresses each must yield (``tests/data/flufl``,
Apache-2.0, ``expected.json`` taken from its ``tests/test_detectors.py``).
The engine must find exactly those addresses in every one of them, as a
permanent failure or, where flufl.bounce's test says temporary, a delay.
"""

from __future__ import annotations

import json
import os

import pytest

from mailman_bounces.detect import Kind, detect

FLUFL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'flufl')


def _expectations() -> dict[str, tuple[set[str], bool]]:
    """file -> (expected addresses, lower-cased; True when all are temporary)."""
    with open(os.path.join(FLUFL, 'expected.json'), encoding='utf-8') as handle:
        rows = json.load(handle)['rows']
    expected: dict[str, tuple[set[str], bool]] = {}
    for row in rows:
        addresses, temporary = expected.get(row['file'], (set(), True))
        addresses |= {address.lower() for address in row['addresses']}
        expected[row['file']] = (addresses, temporary and row['temporary'])
    return {name: value for name, value in expected.items() if value[0]}


EXPECTED = _expectations()


def _read(name: str) -> bytes:
    with open(os.path.join(FLUFL, name), 'rb') as handle:
        return handle.read()


def test_the_whole_corpus_is_checked() -> None:
    # flufl.bounce's tests expect addresses from 111 files.
    assert len(EXPECTED) == 111


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_flufl_bounce_corpus(name: str) -> None:
    addresses, temporary = EXPECTED[name]
    report = detect(_read(name))
    found = {r.original or r.address for r in report.recipients} | {r.address for r in report.recipients}
    assert addresses <= found, report
    assert len(report.recipients) == len(addresses), report
    assert report.kind is (Kind.delay if temporary else Kind.bounce)


@pytest.mark.parametrize('name', ['simple_42.txt', 'simple_43.txt'])
def test_failure_naming_no_usable_address_is_a_bounce(name: str) -> None:
    # simple_42: an Exim DSN whose Final-Recipient is "david...@gmail.com"
    # (anonymised, not an address); simple_43: the returned message's To: is
    # only the display name "(Info) Test A".  Both say the message could not be
    # delivered: a bounce, with nobody to name.
    report = detect(_read(name))
    assert report.kind is Kind.bounce
    assert report.recipients == []


def test_not_a_bounce_stays_none() -> None:
    # groupwise_03: flufl.bounce's own "not a bounce, but has confused groupwise".
    assert detect(_read('groupwise_03.txt')).kind is Kind.none
