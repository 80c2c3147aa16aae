"""Helpers shared by the plugin's REST resources.

Query parameters are read with Mailman's own `Validator` (unknown
parameters and unconvertible values are a 400 naming them, as in core's
``find`` resources); the converters here say what is wrong in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from mailman.config import config
from mailman.rest.helpers import etag, get_request_params, not_found
from mailman.rest.validator import Validator
from public import public

from mailman_bounces.app.queries import Page, parse_time

# Database integer ids are 32-bit: a larger number cannot name a row (and
# PostgreSQL refuses to compare with it).
MAX_ID = 2**31 - 1


@public
def plugin_name() -> str:
    """The name the site gave the plugin (its [plugin.<name>] section)."""
    from mailman_bounces.plugin import BouncesPlugin
    for name, plugin in config.plugins.items():
        if isinstance(plugin, BouncesPlugin):
            return name
    return 'bounces'


@public
def path_to(api, path: str) -> str:
    """The URL of `path` under the plugin's REST root."""
    if api is None:
        # The plugin root itself is reached through core's APlugin proxy,
        # which keeps the API object; plugins exist from API 3.1 on.
        from mailman.core.api import API31
        api = API31
    return api.path_to(f'plugins/{plugin_name()}/{path}')


@public
class Missing:
    """What a path names that does not exist: 404, saying what is missing,
    whatever the method (core's NotFound gives no description)."""

    def __init__(self, description: str):
        self._description = description

    def _missing(self, request, response):
        not_found(response, self._description)

    on_get = on_post = on_put = on_patch = on_delete = _missing


@public
def parse_id(text: str) -> int | None:
    """A row id from a URL segment: None if it is not an integer;
    ids that cannot exist are 0 (found nowhere)."""
    if not re.fullmatch(r'-?[0-9]+', text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else 0


# Converters of query parameters (they raise ValueError saying why).

def _single(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError('expected a single value')
    if '\x00' in value:
        raise ValueError('NUL characters are not allowed')
    return value


# The converters take values exactly as given (no stripping, no case
# folding), so that what they accept is what openapi.json describes.

@public
def text() -> Callable[[Any], str]:
    """Any single non-empty string."""
    def convert(value: Any) -> str:
        value = _single(value)
        if not value:
            raise ValueError('expected a value')
        return value
    return convert


@public
def choice(values: Iterable[str]) -> Callable[[Any], str]:
    """One of `values`."""
    allowed = tuple(values)

    def convert(value: Any) -> str:
        if _single(value) not in allowed:
            raise ValueError('expected one of: ' + ', '.join(allowed))
        return value
    return convert


@public
def boolean(value: Any) -> bool:
    """true or false."""
    value = _single(value)
    if value in ('true', 'false'):
        return value == 'true'
    raise ValueError('expected true or false')


@public
def time_point(*, end_of_day: bool = False) -> Callable[[Any], datetime]:
    """An ISO 8601 date, or date and time (UTC when no offset is given)."""
    def convert(value: Any) -> datetime:
        return parse_time(_single(value), end_of_day=end_of_day)
    return convert


@public
def integer(minimum: int, maximum: int | None = None
            ) -> Callable[[Any], int]:
    """An integer in [minimum, maximum]."""
    def convert(value: Any) -> int:
        value = _single(value)
        if not re.fullmatch(r'-?[0-9]+', value):
            raise ValueError('expected an integer')
        number = int(value)
        if number < minimum or (maximum is not None and number > maximum):
            bound = (f'from {minimum} to {maximum}' if maximum is not None
                     else f'of at least {minimum}')
            raise ValueError(f'expected an integer {bound}')
        return number
    return convert


# Paging parameters, as in core: ``count`` per page, ``page`` from 1.
PAGING = {'count': integer(0), 'page': integer(1)}


@public
def query_validator(paged: bool = True, **converters) -> Validator:
    """A Validator of optional query parameters, with `paged` core's
    paging parameters too."""
    if paged:
        converters = {**converters, **PAGING}
    return Validator(_optional=tuple(converters), **converters)


@public
def read_query(validator: Validator, request) -> dict[str, Any]:
    """The converted query parameters, paging taken out as
    ``count``/``page`` (None when absent).
    :raises ValueError: naming the bad or unknown parameters."""
    values = validator(request)
    values.setdefault('count', None)
    values.setdefault('page', None)
    return values


@public
def request_values(request) -> dict[str, Any]:
    """The fields of a PATCH/PUT/POST body, JSON or form encoded.
    :raises TypeError: if the body is not an object of fields."""
    values = get_request_params(request)
    if not isinstance(values, dict):
        raise TypeError('Expected an object of fields')
    if (request.content_type or '').startswith('application/json'):
        return values
    for name, value in values.items():
        # A form field given twice arrives as a list.
        if isinstance(value, list):
            raise TypeError(f'Invalid Parameter "{name}": given more '
                            'than once')
    return values


@public
def collection(page: Page, entries: list[dict], self_link: str) -> dict:
    """A collection in core's shape, each entry etagged.  Unlike core, an
    empty collection still has its (empty) ``entries``."""
    for entry in entries:
        etag(entry)
    return {'start': page.start, 'total_size': page.total_size,
            'entries': entries, 'self_link': self_link}
