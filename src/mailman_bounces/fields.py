"""The shape of what the REST API and ``mailman bounces`` show.

Each kind of thing shown (a bounce event, a member's standing, a freeze,
statistics, a REST resource) is described once, by a `Shape`: its fields
in order, each with the JSON Schema of its value, a description and how the
value is read from the object shown.  The code builds the values with the
shape and the OpenAPI document is generated from it, so the two cannot
disagree.

This module is pure: it imports nothing from Mailman.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mailman_bounces.signing import EVIDENCE

__all__ = [
    'BOOLEAN',
    'CALLBACK_OUTBOX',
    'COUNT',
    'DAILY_COUNT',
    'DAILY_COUNTS',
    'DATE',
    'INTEGER',
    'LINK',
    'LIST_BOUNCING',
    'LIST_SCORING',
    'MEMBERS_EVIDENCE',
    'NUMBER',
    'OMIT',
    'READABLE_MESSAGE',
    'REENABLE_PREVIEW',
    'SITE_LISTS',
    'STRING',
    'TIME',
    'Field',
    'Shape',
    'array',
    'choice',
    'nullable',
]

# JSON Schema (OpenAPI 3.0) of the values shown.
STRING = {'type': 'string'}
INTEGER = {'type': 'integer'}
NUMBER = {'type': 'number'}
BOOLEAN = {'type': 'boolean'}
COUNT = {'type': 'integer', 'minimum': 0}
LINK = {'type': 'string', 'format': 'uri'}
DATE = {'type': 'string', 'format': 'date'}
# Mailman shows naive UTC times (no offset), which the date-time format
# would refuse.
TIME = {'type': 'string', 'pattern': '^[0-9]{4}-[0-9]{2}-[0-9]{2}T',
        'example': '2005-08-01T07:49:23'}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {**schema, 'nullable': True}


def choice(values) -> dict[str, Any]:
    return {'type': 'string', 'enum': list(values)}


def array(items: Mapping[str, Any]) -> dict[str, Any]:
    return {'type': 'array', 'items': dict(items)}


# What a field's reader returns for a field left out of this value.
OMIT = object()


@dataclass(frozen=True)
class Field:
    """One field: its name, the JSON Schema of its value, a description,
    and how its value is read from the object shown (the attribute or key
    of the same name by default)."""

    name: str
    schema: Mapping[str, Any]
    doc: str = ''
    read: Callable[..., Any] | None = None
    # Left out of some values (the reader returns OMIT then).
    optional: bool = False

    def value(self, source: Any, *context: Any) -> Any:
        """The value of this field for `source`; `context` is whatever
        else the readers of the shape need."""
        if self.read is not None:
            return self.read(source, *context)
        if isinstance(source, Mapping):
            return source[self.name]
        return getattr(source, self.name)

    def described(self) -> dict[str, Any]:
        schema = dict(self.schema)
        if self.doc:
            schema['description'] = self.doc
        return schema


class Shape:
    """The fields of one kind of value, in the order they are shown."""

    def __init__(self, *fields: Field) -> None:
        self.fields = fields
        names = [field.name for field in fields]
        assert len(set(names)) == len(names), f'fields named twice: {names}'

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __add__(self, other: Shape) -> Shape:
        return Shape(*self.fields, *other.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def values(self, source: Any, *context: Any) -> dict[str, Any]:
        """The fields of `source` as plain values, by name."""
        values = {}
        for field in self.fields:
            value = field.value(source, *context)
            if value is not OMIT:
                values[field.name] = value
        return values

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the values: exactly these fields, all of them
        but the optional ones."""
        return {
            'type': 'object',
            'properties': {field.name: field.described()
                           for field in self.fields},
            'required': [field.name for field in self.fields
                         if not field.optional],
            'additionalProperties': False,
        }


# What the web front end (`mailman_bounces.web`) reads besides the
# resources above: the REST resources of `mailman_bounces.rest.frontend`,
# each read from a mapping of its values.

# The subscription a re-enable token names, shown before the member
# confirms.
REENABLE_PREVIEW = Shape(
    Field('list_id', STRING),
    Field('fqdn_listname', STRING),
    Field('list_name', STRING, "The list's display name."),
    Field('email', STRING, 'The subscribed address.'),
    Field('delivery_status', STRING,
          'enabled, by_bounces, by_user, by_moderator or unknown.'),
    Field('disabled_reason', nullable(STRING),
          'The bounce reason that disabled delivery, if one did.'),
    Field('last_reason', nullable(STRING),
          'The reason of the last bounce counted.'),
    Field('score', NUMBER),
    Field('threshold', NUMBER, 'The score at which delivery is disabled.'),
    Field('total_warnings_sent', COUNT),
    Field('warnings', COUNT, 'How many warnings come before removal.'),
)

# What a list's members are measured against, for the member tables
# (the list's policy, so that no page works the threshold out again).
LIST_SCORING = Shape(
    Field('list_id', STRING),
    Field('threshold', NUMBER, 'The score at which delivery is disabled '
          '(score_threshold when set, else bounce_score_threshold).'),
    Field('warnings', COUNT, 'How many warnings come before removal.'),
    Field('self_link', LINK),
)

# One header: its name and its decoded value.
_HEADER = {'type': 'array', 'items': STRING, 'minItems': 2, 'maxItems': 2}

# A stored bounce message taken apart for people to read.
READABLE_MESSAGE = Shape(
    Field('event_id', INTEGER),
    Field('size', COUNT, 'The size of the stored message, in bytes.'),
    Field('headers', array(_HEADER), 'The top-level headers, decoded.'),
    Field('text', STRING, 'The first human-readable (text/plain) part, '
          'decoded; empty when there is none.'),
    Field('truncated', BOOLEAN, 'Whether the text was cut.'),
)

# Events per day, severity and reason.
DAILY_COUNT = Shape(
    Field('day', DATE),
    Field('severity', STRING),
    Field('reason', STRING),
    Field('events', COUNT),
)
DAILY_COUNTS = Shape(
    Field('list_id', nullable(STRING), 'The list counted, or null for all.'),
    Field('since', nullable(TIME)),
    Field('entries', array(DAILY_COUNT.schema()), 'By day, severity and '
          'reason.'),
    Field('self_link', LINK),
)

# How many members of a list are bouncing, for the site's view.
LIST_BOUNCING = Shape(
    Field('list_id', STRING),
    Field('fqdn_listname', STRING),
    Field('members', COUNT, 'Members (role member).'),
    Field('bouncing', COUNT, 'Members with a score or disabled by bounces.'),
    Field('disabled', COUNT, 'Members disabled by bounces.'),
)
SITE_LISTS = Shape(
    Field('entries', array(LIST_BOUNCING.schema()),
          'The lists with bouncing members, most first.'),
    Field('self_link', LINK),
)

# The evidence of one member's bounce events on one list.
MEMBER_EVIDENCE = Shape(
    Field('email', STRING),
    *(Field(name, COUNT, f'Events on {name} evidence.') for name in EVIDENCE),
    Field('last', choice(EVIDENCE), "The newest event's evidence."),
)
MEMBERS_EVIDENCE = Shape(
    Field('list_id', STRING),
    Field('entries', array(MEMBER_EVIDENCE.schema()),
          'The addresses asked for that have events, by address.'),
    Field('self_link', LINK),
)

# A callback endpoint, site-wide or a list's, and its outbox.
ENDPOINT_OUTBOX = Shape(
    Field('endpoint', STRING, "'site:<name>' or 'list:<endpoint id>'."),
    Field('url', nullable(STRING), 'null: no longer configured.'),
    Field('list_id', nullable(STRING), 'null for a site-wide endpoint.'),
    Field('enabled', BOOLEAN, 'false once the receiver answered 410 Gone '
          'or the endpoint is gone.'),
    Field('pending', COUNT, 'Callbacks waiting to be sent.'),
    Field('delivered', COUNT),
    Field('dead', COUNT, 'Callbacks given up on.'),
)
CALLBACK_OUTBOX = Shape(
    Field('entries', array(ENDPOINT_OUTBOX.schema()),
          'Site-wide endpoints by name, then lists\' by id.'),
    Field('self_link', LINK),
)


# The bounce mailboxes the bouncemail runner polls (REST ``mailboxes``
# and ``mailman bounces mailboxes``), read from a `MailboxStatus`.
MAILBOX = Shape(
    Field('name', STRING, 'The NAME of its [mailbox.NAME] section.'),
    Field('protocol', choice(('imap', 'pop3'))),
    Field('host', STRING),
    Field('port', INTEGER),
    Field('security', choice(('tls', 'starttls', 'none'))),
    Field('user', STRING),
    Field('folder', STRING),
    Field('enabled', BOOLEAN),
    Field('last_poll', nullable(TIME), 'When it was last polled.'),
    Field('last_success', nullable(TIME), 'When a poll last worked.'),
    Field('last_error', nullable(STRING),
          'Why the last poll failed, or null if it worked.'),
    Field('failures', COUNT, 'Failed polls in a row (the back-off doubles '
          'from 5 minutes to an hour with each).'),
    Field('next_poll', nullable(TIME)),
    Field('seen', COUNT, 'Messages read from it.'),
    Field('registered', COUNT, 'Messages registered as bounces.'),
    Field('unparsed', COUNT, 'Messages that were no bounce (IMAP: moved '
          'to the unparsed folder; POP3: left in place).'),
)


# A classification rule (REST ``lists/<list>/rules`` and ``mailman
# bounces rules``), read from a `ListRule` row or a site `Rule`.
RULE = Shape(
    Field('id', nullable(INTEGER), 'The rule id; null for a site rule.',
          read=lambda rule, *_: getattr(rule, 'id', None)),
    Field('name', STRING, 'What events it changed record: list:ID or '
          'site:NAME.',
          read=lambda rule, *_: getattr(rule, 'name', None)
          or f'list:{rule.id}'),
    Field('pattern', STRING, 'An RE2 regular expression, searched for.'),
    Field('field', choice(('diagnostic', 'status', 'remote_mta', 'text',
                           'sender')), 'Where the pattern is searched.'),
    Field('effect', choice(('set', 'not_bounce', 'ignore'))),
    Field('reason', nullable(STRING), 'The reason a set rule gives.'),
    Field('severity', nullable(choice(('hard', 'soft'))),
          'The severity a set rule gives.'),
    Field('comment', nullable(STRING)),
)
