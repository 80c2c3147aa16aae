"""Helpers shared by the plugin's REST resources.

Query parameters are declared once (`Parameter`: name, converter, JSON
Schema, description) and read with Mailman's own `Validator`, so that
unknown parameters and unconvertible values are a 400 naming them, as in
core's ``find`` resources; booleans are read by lazr.config's
`as_boolean` and enums by core's `enum_validator`, like core's own
parameters.  The OpenAPI document is built from the same declarations and
from the resources' shapes (`mailman_bounces.fields`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import falcon
from lazr.config import as_boolean
from mailman.config import config
from mailman.rest.helpers import (
    ExtendedEncoder,
    bad_request,
    get_request_params,
    not_found,
)
from mailman.rest.validator import Validator, enum_validator
from public import public

from mailman_bounces.app.queries.paging import (
    DEFAULT_COUNT,
    MAX_COUNT,
    MAX_PAGE,
    Page,
)
from mailman_bounces.config import plugin_name
from mailman_bounces.fields import COUNT, LINK, STRING, Field, Shape, array
from mailman_bounces.utilities.times import parse_time
from mailman_bounces.validators import MAX_INTEGER, Boolean, echoed

# A larger number cannot name a row (and PostgreSQL refuses to compare
# with it).
MAX_ID = MAX_INTEGER


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
    """A row id from a URL segment, or None if `text` cannot name a row
    (not a number, or out of range): like core's ids, such a segment is
    simply not found."""
    # Not too long for int() either (Python reads 4300 digits at most).
    if not re.fullmatch(r'[0-9]{1,20}', text, re.ASCII):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


@public
def row_by_id(model, identifier: str, response, what: str,
              list_id: str | None = None):
    """The `model` row named by the URL segment `identifier` (and, with
    `list_id`, belonging to that list), or None after answering 404
    "No such `what`": a row of another list is as missing as no row."""
    row_id = parse_id(identifier)
    row = None if row_id is None else config.db.store.get(model, row_id)
    if row is None or (list_id is not None and row.list_id != list_id):
        not_found(response, f'No such {what}: {identifier}')
        return None
    return row


# Query parameters.

@public
@dataclass(frozen=True)
class Converter:
    """Reads one query parameter's text (raising ValueError saying why);
    `schema` is the JSON Schema of what it accepts."""

    convert: Callable[[str], Any]
    schema: Mapping[str, Any]

    def __call__(self, value: Any) -> Any:
        # A parameter given twice arrives as a list.
        if not isinstance(value, str):
            raise TypeError('expected a single value')
        if '\x00' in value:
            raise ValueError('NUL characters are not allowed')
        return self.convert(value)


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError('expected a value')
    return value


@public
def text() -> Converter:
    """Any single non-empty string, as given."""
    return Converter(_non_empty, {'type': 'string', 'minLength': 1,
                                  'pattern': '^[^\\u0000]+$'})


@public
def choice(values: Iterable[str]) -> Converter:
    """One of `values`, exactly."""
    allowed = tuple(values)

    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError('Accepted Values are: ' + ', '.join(allowed))
        return value
    return Converter(convert, {'type': 'string', 'enum': list(allowed)})


@public
def enum(enum_class: type[Enum]) -> Converter:
    """A member of `enum_class`, by name (core's enum_validator)."""
    return Converter(enum_validator(enum_class),
                     {'type': 'string',
                      'enum': [member.name for member in enum_class]})


@public
def boolean() -> Converter:
    """What Mailman reads as a boolean (lazr.config's as_boolean)."""
    return Converter(as_boolean, Boolean().form())


@public
def time_point(*, end_of_day: bool = False) -> Converter:
    """An ISO 8601 date, or date and time (UTC when no offset is given)."""
    return Converter(
        lambda value: parse_time(value, end_of_day=end_of_day),
        {'anyOf': [{'type': 'string', 'format': 'date-time'},
                   {'type': 'string', 'format': 'date'}]})


@public
def integer(minimum: int, maximum: int | None = None,
            default: int | None = None) -> Converter:
    """An integer in [minimum, maximum]; `default` is only described (the
    resource applies it)."""
    bound = (f'from {minimum} to {maximum}' if maximum is not None
             else f'of at least {minimum}')

    def convert(value: str) -> int:
        if not re.fullmatch(r'-?[0-9]+', value, re.ASCII):
            raise ValueError('expected an integer')
        # Exactly, however long (int() reads 4300 digits at most).
        number = Decimal(value)
        if number < minimum or (maximum is not None and number > maximum):
            raise ValueError(f'expected an integer {bound}')
        return int(number)
    schema = {'type': 'integer', 'minimum': minimum}
    if maximum is not None:
        schema['maximum'] = maximum
    if default is not None:
        schema['default'] = default
    return Converter(convert, schema)


@public
@dataclass(frozen=True)
class Parameter:
    """An optional query parameter: its name, how it is read and what it
    does."""

    name: str
    converter: Converter
    doc: str


# Paging parameters, as in core: ``count`` per page, ``page`` from 1; but
# unlike core a page is never the whole listing (see paging.py).
PAGING = (
    Parameter('count', integer(1, MAX_COUNT, default=DEFAULT_COUNT),
              f'Entries per page: {DEFAULT_COUNT} when absent, '
              f'at most {MAX_COUNT}.'),
    Parameter('page', integer(1, MAX_PAGE, default=1),
              'Page number, from 1.'),
)
SINCE = Parameter('since', time_point(),
                  'From this time (ISO 8601; UTC when no offset is given).')
UNTIL = Parameter('until', time_point(end_of_day=True),
                  'Up to this time; a date alone includes the whole day.')


@public
class Parameters:
    """The query parameters of a resource, all optional; with `paged`
    core's paging parameters too."""

    def __init__(self, *parameters: Parameter, paged: bool = True) -> None:
        self.parameters = (*parameters, *PAGING) if paged else parameters
        converters = {p.name: p.converter for p in self.parameters}
        self._validator = Validator(_optional=tuple(converters),
                                    **converters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def read(self, request, response) -> dict[str, Any] | None:
        """The converted parameters given (for a paged resource ``count``
        and ``page`` always, with their defaults); or, after answering 400
        naming the bad or unknown parameters, None."""
        try:
            values = self._validator(request)
        except ValueError as error:
            bad_request(response, echoed(str(error)))
            return None
        for parameter in self.parameters:
            default = parameter.converter.schema.get('default')
            if default is not None:
                values.setdefault(parameter.name, default)
        return values


# Request bodies and representations.

# The largest request body read (a PUT of every setting is about 2 KB).  A
# JSON body over it is refused (413) before it is read; a form body core's
# falcon app has already read and parsed before any resource runs
# (auto_parse_form_urlencoded), so it is refused the same way, only later.
MAX_BODY_SIZE = 1024 * 1024


@public
def too_large(response) -> None:
    """Answer 413, saying the limit."""
    response.status = falcon.HTTP_413
    response.content_type = falcon.MEDIA_JSON
    response.text = falcon.HTTPError(
        falcon.HTTP_413,
        description=f'The request body is over {MAX_BODY_SIZE} bytes',
    ).to_json()


@public
def read_body(request, response) -> dict[str, Any] | None:
    """The fields of a PATCH/PUT/POST body, JSON or form encoded; or, after
    answering 413 (too large) or 400 (not an object of fields), None."""
    if (request.content_length or 0) > MAX_BODY_SIZE:
        too_large(response)
        return None
    try:
        return request_values(request)
    except (TypeError, ValueError) as error:
        bad_request(response, echoed(str(error)))
        return None


@public
def request_values(request) -> dict[str, Any]:
    """The fields of a PATCH/PUT/POST body, JSON or form encoded.
    :raises TypeError: if the body is not an object of fields.
    :raises ValueError: if it is not JSON, or nested too deeply to read."""
    if (request.content_type or '').startswith('application/json'):
        # Not core's get_request_params, which takes a JSON null, false or
        # empty list for an empty object.
        try:
            values = request.get_media(default_when_empty={})
        except falcon.MediaMalformedError:
            raise ValueError('The request body is not valid JSON') from None
        except RecursionError:
            # The json module parses nested values recursively and falcon
            # lets a RecursionError through (a 500).
            raise ValueError('The request body is nested too deeply') \
                from None
        if not isinstance(values, dict):
            raise TypeError('Expected an object of fields')
        return values
    values = get_request_params(request)
    for name, value in values.items():
        # A form field given twice arrives as a list.
        if isinstance(value, list):
            raise TypeError(f'Invalid Parameter "{echoed(name)}": given '
                            'more than once')
    return values


@public
def etag(resource: dict) -> str:
    """Add an ``http_etag`` to `resource` and return its JSON, as core's
    `etag` does; but the tag is a hash of the JSON (core hashes its
    pprint.pformat(), which took 90 % of the time of a page of 50
    events; clients only compare tags)."""
    assert 'http_etag' not in resource, 'Resource already etagged'
    text = json.dumps(resource, cls=ExtendedEncoder, sort_keys=True)
    tag = hashlib.sha1(text.encode()).hexdigest()
    resource['http_etag'] = f'"{tag}"'
    return json.dumps(resource, cls=ExtendedEncoder,
                      sort_keys=as_boolean(config.devmode.enabled))


_ETAGGED = Shape(Field('http_etag', STRING, "The representation's etag."))


@public
def resource_schema(shape: Shape) -> dict[str, Any]:
    """The JSON Schema of a resource of `shape`, etagged like core's."""
    return (shape + _ETAGGED).schema()


def _collection_fields(entries: Mapping[str, Any]) -> Shape:
    return Shape(
        Field('start', COUNT, read=lambda page, *_: page.start),
        Field('total_size', COUNT, read=lambda page, *_: page.total_size),
        Field('entries', entries, read=lambda page, entries, *_: entries),
        Field('self_link', LINK, read=lambda page, entries, link: link))


@public
def collection(page: Page, entries: list[dict], self_link: str) -> dict:
    """A collection in core's shape, each entry etagged.  Unlike core, an
    empty collection still has its (empty) ``entries``."""
    for entry in entries:
        etag(entry)
    return _collection_fields({}).values(page, entries, self_link)


@public
def collection_schema(entry: Shape) -> dict[str, Any]:
    """The JSON Schema of a collection of resources of `entry`'s shape."""
    return resource_schema(
        _collection_fields(array(resource_schema(entry))))
