"""Parsers of setting values, and the JSON Schema of what each accepts.

Each parser takes a raw value (a string from a configuration file, a REST
form or the command line, or a typed value from a JSON body or Python) and
returns the typed value, or raises `InvalidValue` with a sentence saying
what is allowed.  The caller adds the field name and the bad value, so every
error a site admin or list owner sees names all three.

A parser also describes what it accepts as JSON Schema (OpenAPI 3.0
flavour), built from the very bounds and grammar it checks, so that the
REST API's description cannot drift from what the code does:

* `accepted`: a value in a JSON body (typed, or text);
* `form`: a value in a form body (always text);
* `shown`: the value as the REST API shows it.

Booleans and durations are read with lazr.config's `as_boolean` and
`as_timedelta`, the converters of Mailman's configuration files and of its
REST API, so they are spelled exactly as for Mailman's own settings: a
duration is one or more of weeks, days, hours, minutes and seconds in that
order (``90d``, ``2w``, ``1d12h``, ``0.5d``, and what Mailman's REST API
shows, such as ``0d43200.0s``); a bare number is not a duration, for
Mailman nor here.  Text never has surrounding blanks.

This module is pure: it imports nothing from Mailman.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from lazr.config import as_boolean, as_timedelta

__all__ = [
    'BOOLEAN_WORDS',
    'ECHO_LIMIT',
    'MAX_DURATION',
    'MAX_INTEGER',
    'Boolean',
    'Choice',
    'Duration',
    'Integer',
    'InvalidValue',
    'Number',
    'Optional',
    'Parser',
    'Text',
    'Weights',
    'echoed',
    'echoed_value',
    'format_duration',
    'integer_pattern',
    'number_pattern',
]


class InvalidValue(ValueError):
    """A value was refused; the message says what is allowed."""

    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


# The largest value of the databases' INTEGER columns (32-bit).
MAX_INTEGER = 2**31 - 1

# Longer durations make no sense for a setting, overflow the databases'
# interval columns (about 2.9 million days on SQLite and MySQL) and the
# date arithmetic of the pass.
MAX_DURATION = timedelta(days=36500)

# How much of a refused value an error message repeats: enough to see what
# was wrong, not the whole 50 MB a stranger sent.
ECHO_LIMIT = 200


def echoed(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as an error message may repeat it: its first `limit`
    characters, then how long it really was."""
    if len(text) <= limit:
        return text
    return f'{text[:limit]}... ({len(text)} characters)'


def echoed_value(value: Any) -> str:
    """The repr() of `value` as an error message may repeat it (a long
    string is cut before repr() copies it)."""
    if isinstance(value, str) and len(value) > ECHO_LIMIT:
        return f'{value[:ECHO_LIMIT]!r}... ({len(value)} characters)'
    return echoed(repr(value))


class Parser:
    """A parser of one kind of value (see the module's docstring)."""

    allowed: str = ''

    def __call__(self, value: Any) -> Any:
        raise NotImplementedError

    def accepted(self) -> dict[str, Any]:
        """JSON Schema of what a JSON body may give."""
        raise NotImplementedError

    def form(self) -> dict[str, Any]:
        """JSON Schema of what a form body may give (text)."""
        return _string(self.accepted())

    def shown(self) -> dict[str, Any]:
        """JSON Schema of the parsed value as the REST API shows it."""
        raise NotImplementedError

    def refuse(self) -> InvalidValue:
        return InvalidValue(self.allowed)


def _string(schema: dict[str, Any]) -> dict[str, Any]:
    """The text alternative of an ``anyOf`` schema (or the schema)."""
    for alternative in schema.get('anyOf', [schema]):
        if alternative.get('type') == 'string':
            return alternative
    raise ValueError(f'no text form in {schema}')


def _pattern(body: str) -> str:
    return f'^(?:{body})$'


# Booleans.

# The words lazr.config's as_boolean reads, in any case (checked against it
# by the tests); the schema needs them spelled out.
BOOLEAN_WORDS = ('true', 'yes', '1', 'on', 'enabled', 'enable',
                 'false', 'no', '0', 'off', 'disabled', 'disable')


def _any_case(word: str) -> str:
    return ''.join(f'[{c.lower()}{c.upper()}]' if c.isalpha() else c
                   for c in word)


class Boolean(Parser):
    """true/false, yes/no, on/off, 1/0, enabled/disabled, enable/disable,
    in any case, like Mailman's boolean settings; or a JSON boolean."""

    allowed = 'a boolean: yes or no (or true/false, on/off, 1/0)'
    pattern = _pattern('|'.join(_any_case(word) for word in BOOLEAN_WORDS))

    def __call__(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise self.refuse()
        try:
            return as_boolean(value)
        except ValueError:
            raise self.refuse() from None

    def accepted(self) -> dict[str, Any]:
        return {'anyOf': [{'type': 'boolean'},
                          {'type': 'string', 'pattern': self.pattern}]}

    def shown(self) -> dict[str, Any]:
        return {'type': 'boolean'}


# Numbers.  As text, they are plain decimal digits (leading zeros allowed),
# with a fractional part for `Number`; the patterns of the schema spell out
# the range too, so that text outside it is not described as accepted.

_DIGITS = re.compile(r'[0-9]+', re.ASCII)
_DECIMAL = re.compile(r'[0-9]+(?:\.[0-9]+)?', re.ASCII)


def _same_length_ranges(low: int, high: int) -> list[str]:
    """Alternatives matching the numbers low..high, all of one length,
    written without leading zeros."""
    if low > high:
        return []
    low_text, high_text = str(low), str(high)
    if low_text == high_text:
        return [low_text]
    # Digits both share, then the first digit where they differ.
    common = 0
    while low_text[common] == high_text[common]:
        common += 1
    rest = len(low_text) - common - 1
    prefix = low_text[:common]
    first, last = int(low_text[common]), int(high_text[common])
    if low_text[common + 1:] == '0' * rest and (
            high_text[common + 1:] == '9' * rest):
        return [prefix + _digit_range(first, last) + _free_digits(rest)]
    if rest == 0:
        return [prefix + _digit_range(first, last)]
    # low..(first)99..9, the whole middle digits, (last)00..0..high.
    top = int(prefix + str(first) + '9' * rest)
    bottom = int(prefix + str(last) + '0' * rest)
    middle = ([prefix + _digit_range(first + 1, last - 1) + _free_digits(rest)]
              if last - first > 1 else [])
    return (_same_length_ranges(low, top) + middle
            + _same_length_ranges(bottom, high))


def _digit_range(first: int, last: int) -> str:
    return str(first) if first == last else f'[{first}-{last}]'


def _free_digits(count: int) -> str:
    return {0: '', 1: '[0-9]'}.get(count, f'[0-9]{{{count}}}')


def integer_pattern(low: int, high: int) -> str:
    """A regular expression (unanchored) matching exactly the decimal
    texts of the integers low..high (0 <= low <= high); leading zeros are
    allowed."""
    assert 0 <= low <= high, (low, high)
    alternatives = []
    for length in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (length - 1) if length > 1 else 0)
        end = min(high, 10 ** length - 1)
        alternatives += _same_length_ranges(start, end)
    return '0*(?:' + '|'.join(alternatives) + ')'


def number_pattern(low: int, high: int, exclusive_minimum: bool = False
                   ) -> str:
    """A regular expression (unanchored) matching exactly the decimal texts
    (digits, optionally a point and more digits) of the numbers from `low`
    to `high` (integers, 0 <= low < high), `low` itself excluded with
    `exclusive_minimum`."""
    assert 0 <= low < high, (low, high)
    fraction = r'(?:\.[0-9]+)?'
    alternatives = [rf'{integer_pattern(high, high)}(?:\.0+)?']
    if exclusive_minimum:
        alternatives.append(
            rf'{integer_pattern(low, low)}\.[0-9]*[1-9][0-9]*')
        if low + 1 <= high - 1:
            alternatives.append(integer_pattern(low + 1, high - 1) + fraction)
    else:
        alternatives.append(integer_pattern(low, high - 1) + fraction)
    return '|'.join(f'(?:{alternative})' for alternative in alternatives)


def _range_text(kind: str, minimum: int, maximum: int | None,
                exclusive_minimum: bool = False) -> str:
    if maximum is not None:
        low = 'above' if exclusive_minimum else 'from'
        return f'{kind} {low} {minimum} to {maximum}'
    relation = 'above' if exclusive_minimum else 'of at least'
    return f'{kind} {relation} {minimum}'


class Integer(Parser):
    """An integer within [minimum, maximum]: a JSON integer or digits."""

    def __init__(self, minimum: int = 0, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = _range_text('an integer', minimum, maximum)

    def __call__(self, value: Any) -> int:
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            # Exactly, however long (int() reads 4300 digits at most).
            number = Decimal(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise self.refuse()
        if number < self.minimum or (
                self.maximum is not None and number > self.maximum):
            raise self.refuse()
        return int(number)

    def shown(self) -> dict[str, Any]:
        schema = {'type': 'integer', 'minimum': self.minimum}
        if self.maximum is not None:
            schema['maximum'] = self.maximum
        return schema

    def accepted(self) -> dict[str, Any]:
        text = ('[0-9]+' if self.maximum is None
                else integer_pattern(self.minimum, self.maximum))
        return {'anyOf': [self.shown(),
                          {'type': 'string', 'pattern': _pattern(text)}]}


class Number(Parser):
    """A finite number within [minimum, maximum] (above `minimum` with
    `exclusive_minimum`): a JSON number or decimal digits."""

    def __init__(self, minimum: int, maximum: int,
                 exclusive_minimum: bool = False) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.allowed = _range_text('a number', minimum, maximum,
                                   exclusive_minimum)

    def __call__(self, value: Any) -> float:
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            # Exactly, so that text just past a bound is not rounded in.
            exact = Decimal(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise self.refuse()
            exact = Decimal(value)
        else:
            raise self.refuse()
        too_low = (exact <= self.minimum if self.exclusive_minimum
                   else exact < self.minimum)
        if too_low or exact > self.maximum:
            raise self.refuse()
        return float(value)

    def shown(self) -> dict[str, Any]:
        schema = {'type': 'number', 'minimum': self.minimum,
                  'maximum': self.maximum}
        if self.exclusive_minimum:
            schema['exclusiveMinimum'] = True
        return schema

    def accepted(self) -> dict[str, Any]:
        text = number_pattern(self.minimum, self.maximum,
                              self.exclusive_minimum)
        return {'anyOf': [self.shown(),
                          {'type': 'string', 'pattern': _pattern(text)}]}


class Choice(Parser):
    """One of `choices`, exactly (an Enum member is taken by name)."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.choices = tuple(choices)
        self.allowed = 'one of: ' + ', '.join(self.choices)

    def __call__(self, value: Any) -> str:
        if isinstance(value, Enum):
            value = value.name
        if not isinstance(value, str) or value not in self.choices:
            raise self.refuse()
        return value

    def accepted(self) -> dict[str, Any]:
        return {'type': 'string', 'enum': list(self.choices)}

    def shown(self) -> dict[str, Any]:
        return self.accepted()


# Durations, in Mailman's notation (lazr.config's as_timedelta).

_AMOUNT = r'(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)'
_UNITS = 'wdhms'


def _duration_text() -> str:
    # Each unit at most once, in the order w, d, h, m, s, at least one.
    def part(unit: str) -> str:
        return f'{_AMOUNT}{unit}'
    return '|'.join(
        part(first) + ''.join(f'(?:{part(unit)})?'
                              for unit in _UNITS[index + 1:])
        for index, first in enumerate(_UNITS))


# How Mailman's REST API (its JSON encoder) writes a duration: whole days,
# then the rest in seconds when there is any.
_SHOWN_DURATION = r'[0-9]+d(?:[0-9]+(?:\.[0-9]+)?(?:e-[0-9]+)?s)?'


class Duration(Parser):
    """A duration from zero to `maximum` in Mailman's notation."""

    grammar = re.compile(_duration_text(), re.ASCII)

    def __init__(self, maximum: timedelta = MAX_DURATION) -> None:
        self.maximum = maximum
        self.allowed = ('a duration such as 90d, 2w, 12h, 30m or 1d12h '
                        f'(zero to {maximum.days} days)')

    def __call__(self, value: Any) -> timedelta:
        if isinstance(value, timedelta):
            duration = value
        elif isinstance(value, str) and self.grammar.fullmatch(value):
            try:
                duration = as_timedelta(value)
            except (OverflowError, ValueError):
                # Too large for Python's timedelta.
                raise self.refuse() from None
        else:
            raise self.refuse()
        if not timedelta(0) <= duration <= self.maximum:
            raise self.refuse()
        return duration

    def accepted(self) -> dict[str, Any]:
        return {'type': 'string', 'pattern': _pattern(self.grammar.pattern),
                'example': '7d'}

    def shown(self) -> dict[str, Any]:
        return {'type': 'string', 'pattern': _pattern(_SHOWN_DURATION),
                'example': '7d'}


def format_duration(value: timedelta) -> str:
    """A duration for people (``90d``, ``1d12h``), in units `Duration`
    reads."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return '0s'
    pieces = []
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60), ('s', 1)):
        count, seconds = divmod(seconds, size)
        if count:
            pieces.append(f'{count}{unit}')
    return ''.join(pieces)


class Text(Parser):
    """Any text."""

    allowed = 'text'

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.refuse()
        return value

    def accepted(self) -> dict[str, Any]:
        return {'type': 'string'}

    def shown(self) -> dict[str, Any]:
        return {'type': 'string'}


class Optional(Parser):
    """`parser`'s values, or None (given as None or as empty text)."""

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.allowed = parser.allowed + ', or empty for none'

    def __call__(self, value: Any) -> Any:
        if value is None or value == '':
            return None
        try:
            return self.parser(value)
        except InvalidValue:
            raise self.refuse() from None

    def accepted(self) -> dict[str, Any]:
        return {'anyOf': [self.parser.accepted(), _EMPTY], 'nullable': True}

    def form(self) -> dict[str, Any]:
        return {'anyOf': [self.parser.form(), _EMPTY]}

    def shown(self) -> dict[str, Any]:
        return {**self.parser.shown(), 'nullable': True}


_EMPTY = {'type': 'string', 'maxLength': 0}


class Weights(Parser):
    """A reason -> weight mapping: a JSON object, or text such as
    ``userunknown=1, mailboxfull=0.5``.  Reasons must be among `reasons`,
    weights are numbers from 0 to `maximum`."""

    def __init__(self, reasons: Iterable[str], maximum: int) -> None:
        self.reasons = tuple(reasons)
        self.weight = Number(0, maximum)
        self.allowed = (f'reason=weight pairs with weights from 0 to '
                        f'{maximum} and reasons among: '
                        + ', '.join(self.reasons))
        reason = '|'.join(self.reasons)
        weight = number_pattern(0, maximum)
        pair = f'(?:{reason}) *= *(?:{weight})'
        self.grammar = re.compile(f'{pair}(?: *, *{pair})*', re.ASCII)

    def __call__(self, value: Any) -> dict[str, float]:
        if isinstance(value, str) and self.grammar.fullmatch(value):
            pairs = [pair.partition('=') for pair in value.split(',')]
            items = [(reason.strip(), weight.strip())
                     for reason, _, weight in pairs]
        elif isinstance(value, dict):
            items = list(value.items())
        else:
            raise self.refuse()
        weights = {}
        for reason, weight in items:
            if reason not in self.reasons:
                raise self.refuse()
            try:
                weights[reason] = self.weight(weight)
            except InvalidValue:
                raise self.refuse() from None
        return weights

    def accepted(self) -> dict[str, Any]:
        mapping = {'type': 'object',
                   'properties': {reason: self.weight.accepted()
                                  for reason in self.reasons},
                   'additionalProperties': False}
        text = {'type': 'string', 'pattern': _pattern(self.grammar.pattern),
                'example': 'userunknown=1, mailboxfull=0.5'}
        return {'anyOf': [mapping, text]}

    def shown(self) -> dict[str, Any]:
        return {'type': 'object', 'additionalProperties': {'type': 'number'}}
