"""Parsers for setting values, shared by the site configuration and the
per-list settings.

Each parser takes the raw value (usually a string from a configuration file,
a REST form or the command line, but already-typed values are accepted too)
and returns the typed value, or raises `InvalidValue` with a sentence saying
what is allowed.  The caller adds the field name and the bad value, so every
error a site admin or list owner sees names all three.

This module is pure: it imports nothing from Mailman.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

__all__ = [
    'InvalidValue',
    'Parser',
    'as_bool',
    'as_choice',
    'as_duration',
    'as_float',
    'as_int',
    'as_optional',
    'format_duration',
]


class InvalidValue(ValueError):
    """A value was refused; the message says what is allowed."""

    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


Parser = Callable[[Any], Any]

_TRUE = frozenset({'yes', 'true', 'on', '1', 'y', 't'})
_FALSE = frozenset({'no', 'false', 'off', '0', 'n', 'f'})
_DURATION_PART = re.compile(r'(\d+(?:\.\d+)?)\s*([wdhms])', re.IGNORECASE)
_UNIT_SECONDS = {'w': 604800, 'd': 86400, 'h': 3600, 'm': 60, 's': 1}
# Longer durations make no sense for a setting and overflow the databases'
# interval columns (about 2.9 million days on SQLite and MySQL).
MAX_DURATION = timedelta(days=36500)


def as_bool(value: Any) -> bool:
    """Parse yes/no, true/false, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue('a boolean: yes or no')


def as_duration(value: Any) -> timedelta:
    """Parse a duration such as ``90d``, ``1w2d``, ``12h`` or ``30m``.

    A bare number is read as days, as Mailman's REST API does for its
    interval settings.  Negative durations and durations of more than
    `MAX_DURATION` are refused.
    """
    allowed = ('a duration such as 90d, 2w, 12h, 30m or 1d12h (zero to '
               f'{MAX_DURATION.days} days)')
    try:
        duration = _duration(value, allowed)
    except InvalidValue:
        raise
    except (OverflowError, ValueError):
        # Too large for Python's timedelta.
        raise InvalidValue(allowed) from None
    if duration > MAX_DURATION:
        raise InvalidValue(allowed)
    return duration


def _duration(value: Any, allowed: str) -> timedelta:
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise InvalidValue(allowed)
        return value
    if isinstance(value, bool):
        raise InvalidValue(allowed)
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise InvalidValue(allowed)
        return timedelta(days=value)
    text = str(value).strip().replace(' ', '')
    if re.fullmatch(r'\d+(\.\d+)?', text):
        return timedelta(days=float(text))
    parts = _DURATION_PART.findall(text)
    if not parts or ''.join(n + u for n, u in parts).lower() != text.lower():
        raise InvalidValue(allowed)
    seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Format a duration the way `as_duration` reads it (``90d``, ``1d12h``)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return '0s'
    pieces = []
    for unit in ('d', 'h', 'm', 's'):
        size = _UNIT_SECONDS[unit]
        count, seconds = divmod(seconds, size)
        if count:
            pieces.append(f'{count}{unit}')
    return ''.join(pieces)


def as_int(minimum: int | None = None,
           maximum: int | None = None) -> Parser:
    """Return a parser for an integer within [minimum, maximum]."""
    allowed = _range_text('an integer', minimum, maximum)

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise InvalidValue(allowed)
        if isinstance(value, float):
            if not value.is_integer():
                raise InvalidValue(allowed)
            value = int(value)
        try:
            number = int(str(value).strip())
        except ValueError:
            raise InvalidValue(allowed) from None
        _check_range(number, minimum, maximum, allowed)
        return number
    return parse


def as_float(minimum: float | None = None,
             maximum: float | None = None,
             exclusive_minimum: bool = False) -> Parser:
    """Return a parser for a finite number within [minimum, maximum]."""
    allowed = _range_text('a number', minimum, maximum, exclusive_minimum)

    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise InvalidValue(allowed)
        try:
            number = float(str(value).strip())
        except ValueError:
            raise InvalidValue(allowed) from None
        if not math.isfinite(number):
            raise InvalidValue(allowed)
        if exclusive_minimum and minimum is not None and number <= minimum:
            raise InvalidValue(allowed)
        _check_range(number, minimum, maximum, allowed)
        return number
    return parse


def as_choice(choices: Iterable[str]) -> Parser:
    """Return a parser accepting one of `choices` (case-insensitive)."""
    options = tuple(choices)
    allowed = 'one of: ' + ', '.join(options)

    def parse(value: Any) -> str:
        # Enum members are accepted by name.
        text = str(getattr(value, 'name', value)).strip().lower()
        if text not in options:
            raise InvalidValue(allowed)
        return text
    return parse


def as_optional(parser: Parser) -> Parser:
    """Wrap `parser` so that None or an empty string mean "not set"."""
    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parser(value)
        except InvalidValue as error:
            raise InvalidValue(error.allowed + ', or empty for none') from None
    return parse


def _range_text(kind: str, minimum: float | None, maximum: float | None,
                exclusive_minimum: bool = False) -> str:
    if minimum is not None and maximum is not None:
        low = 'above' if exclusive_minimum else 'from'
        return f'{kind} {low} {minimum:g} to {maximum:g}'
    if minimum is not None:
        relation = 'above' if exclusive_minimum else 'of at least'
        return f'{kind} {relation} {minimum:g}'
    if maximum is not None:
        return f'{kind} of at most {maximum:g}'
    return kind


def _check_range(number: float, minimum: float | None,
                 maximum: float | None, allowed: str) -> None:
    if minimum is not None and number < minimum:
        raise InvalidValue(allowed)
    if maximum is not None and number > maximum:
        raise InvalidValue(allowed)
