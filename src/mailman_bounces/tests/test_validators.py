"""The parsers of setting values: Mailman's own grammar for booleans and
durations, and JSON Schema that says exactly what each parser accepts.

Pure: no Mailman layer is started.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import jsonschema_rs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lazr.config import as_boolean, as_timedelta

from mailman_bounces.policy.settings import SETTINGS
from mailman_bounces.validators import (
    BOOLEAN_WORDS,
    MAX_DURATION,
    Boolean,
    Duration,
    Integer,
    InvalidValue,
    Number,
    integer_pattern,
    number_pattern,
)


def _accepts(parser, value) -> bool:
    try:
        parser(value)
    except InvalidValue:
        return False
    return True


# Booleans: lazr.config's as_boolean, which Mailman's settings use.

def test_the_boolean_words_are_as_booleans():
    # The words as_boolean compares with are constants of its code.
    constants = {word for constant in as_boolean.__code__.co_consts
                 if isinstance(constant, tuple) for word in constant}
    assert set(BOOLEAN_WORDS) == constants
    for word in BOOLEAN_WORDS:
        for spelling in (word, word.upper(), word.title()):
            assert Boolean()(spelling) is as_boolean(spelling)


@given(st.text(alphabet='truefalsyonbdiTRUEFALSYONBDI01 ', max_size=9))
@example('yes')
@example('Disabled')
@example(' on')
@example('')
def test_a_boolean_is_what_as_boolean_reads(text):
    try:
        expected = as_boolean(text)
    except ValueError:
        expected = None
    if expected is None:
        assert not _accepts(Boolean(), text)
    else:
        assert Boolean()(text) is expected
    assert bool(re.fullmatch(Boolean.pattern, text)) == (expected is not None)


@pytest.mark.parametrize('value', [1, 0, None, 1.0, [], 'y', 't'])
def test_other_booleans_are_refused(value):
    assert not _accepts(Boolean(), value)


# Durations: lazr.config's as_timedelta (Mailman's notation).

@given(st.text(alphabet='0123456789.wdhms', max_size=10))
@example('7')
@example('12h1d')
@example('1d1d')
@example('.d')
@example('5.d')
@example('0d43200.0s')
@example('1.2.3d')
def test_a_duration_is_what_as_timedelta_reads(text):
    try:
        expected = as_timedelta(text)
    except (ValueError, OverflowError):
        expected = None
    if expected is None or expected > MAX_DURATION:
        assert not _accepts(Duration(), text)
    else:
        assert Duration()(text) == expected
    # The grammar says which text is a duration at all; only its size is
    # left to the parser.
    matches = bool(Duration.grammar.fullmatch(text))
    assert matches == (expected is not None or _overflows(text))


def _overflows(text: str) -> bool:
    try:
        as_timedelta(text)
    except OverflowError:
        return True
    except ValueError:
        return False
    return False


@pytest.mark.parametrize('text', ['7', '7D', ' 7d', '7d ', '-1d', '36501d',
                                  '5300w', '99999999999d'])
def test_durations_refused(text):
    assert not _accepts(Duration(), text)


def test_durations_as_core_shows_them_are_read_back():
    # Core's REST API writes timedelta(days=1, hours=12) as 1d43200.0s.
    assert Duration()('1d43200.0s') == timedelta(days=1, hours=12)
    assert Duration()('36500d') == MAX_DURATION


# Numbers: the patterns spell out the ranges.

@settings(max_examples=300)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**7),
       st.integers(0, 3))
def test_integer_patterns_hold_exactly_their_range(low, span, number, zeros):
    high = low + span
    pattern = re.compile(integer_pattern(low, high))
    text = '0' * zeros + str(number)
    assert bool(pattern.fullmatch(text)) == (low <= number <= high)


@settings(max_examples=300)
@given(st.integers(0, 1000), st.integers(1, 1000), st.booleans(),
       st.integers(0, 2000), st.text(alphabet='0123456789', max_size=4))
@example(0, 1000, True, 0, '')
@example(0, 1000, True, 0, '000')
@example(0, 10, False, 10, '0001')
@example(0, 10, False, 10, '')
def test_number_patterns_hold_exactly_their_range(low, span, exclusive,
                                                  whole, fraction):
    high = low + span
    pattern = re.compile(number_pattern(low, high, exclusive))
    text = f'{whole}.{fraction}' if fraction else str(whole)
    value = Decimal(text)
    inside = (value > low if exclusive else value >= low) and value <= high
    assert bool(pattern.fullmatch(text)) == inside


def test_numbers_at_their_bounds():
    threshold = Number(0, 1000, exclusive_minimum=True)
    assert not _accepts(threshold, '0')
    assert not _accepts(threshold, '0.0')
    assert threshold('0.001') == 0.001
    assert threshold('1000.000') == 1000.0
    # Not rounded to 1000.0 on the way.
    assert not _accepts(threshold, '1000.0000000000000001')
    assert not _accepts(threshold, float('inf'))
    assert not _accepts(threshold, True)
    for text in ('1e3', ' 5', '+5', '5.', '.5', '1_0'):
        assert not _accepts(threshold, text), text


def test_integers_are_plain_digits_or_json_integers():
    parser = Integer(0, 100)
    assert (parser('007'), parser(7)) == (7, 7)
    for value in (' 7', '+7', '7.0', 7.0, True, '١', '1_0', '101', -1,
                  '9' * 5000):
        assert not _accepts(parser, value), value
    # Longer than int() reads from text, and still exact.
    assert Integer(0)('1' + '0' * 5000) == 10 ** 5000


# Each setting's JSON Schema says exactly what its parser accepts.

_TEXT = st.one_of(
    st.text(max_size=6),
    st.from_regex(r'0?[0-9]{1,11}(\.[0-9]{1,3})?', fullmatch=True),
    st.from_regex(r'([0-9]{1,3}[wdhms]){1,2}', fullmatch=True),
    st.sampled_from([*BOOLEAN_WORDS, 'YES', 'Off', 'mailman', 'sympa',
                     'none', 'disable', 'discard', 'site_owner',
                     'userunknown=1', 'mailboxfull=0.5, userunknown=10',
                     'userunknown=11', 'nosuch=1']))
_VALUES = st.one_of(
    _TEXT, st.none(), st.booleans(), st.integers(-5, 10**10),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dictionaries(st.sampled_from(['userunknown', 'mailboxfull', 'x']),
                    st.one_of(st.floats(-1, 12), st.integers(-1, 12),
                              _TEXT), max_size=2))


def _draft4(schema):
    """OpenAPI 3.0's ``nullable`` as plain JSON Schema."""
    if isinstance(schema, list):
        return [_draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    plain = {key: _draft4(item) for key, item in schema.items()
             if key != 'nullable'}
    if schema.get('nullable'):
        return {'anyOf': [plain, {'type': 'null'}]}
    return plain


def _beyond_the_schema(parser, value) -> bool:
    # What JSON Schema cannot say: a duration's size (a sum of its parts).
    return isinstance(parser, Duration) and isinstance(value, str) and (
        bool(Duration.grammar.fullmatch(value)))


@pytest.mark.parametrize('name', list(SETTINGS))
@settings(max_examples=150, deadline=None)
@given(value=_VALUES)
def test_schemas_say_exactly_what_is_accepted(name, value):
    parser = SETTINGS[name].parse
    accepted = _accepts(parser, value)
    schema = jsonschema_rs.Draft4Validator(_draft4(parser.accepted()))
    if not _beyond_the_schema(parser, value):
        assert schema.is_valid(value) == accepted, (name, value)
    elif accepted:
        assert schema.is_valid(value)
    if isinstance(value, str) and not _beyond_the_schema(parser, value):
        form = jsonschema_rs.Draft4Validator(_draft4(parser.form()))
        assert form.is_valid(value) == accepted, (name, value)
