"""The OpenAPI 3.0 description of the plugin's REST API: ``openapi.json``.

The document is data built here, next to the resources it describes, and
is checked against the running server by the test suite (schemathesis).
The settings' descriptions come from the settings' own definitions.
"""

from __future__ import annotations

import json
from typing import Any

from mailman.interfaces.member import DeliveryStatus
from mailman.rest.helpers import okay
from public import public

from mailman_bounces import __version__
from mailman_bounces.app.queries import CONTEXTS, KINDS, SEVERITIES
from mailman_bounces.app.settings import SETTING_NAMES
from mailman_bounces.detect import REASONS
from mailman_bounces.policy.settings import (
    ACTIONS,
    COMPLAINT_ACTIONS,
    CORE_FIELDS,
    FORWARD_DISPOSITIONS,
    PLUGIN_FIELDS,
    SCORE_MODES,
)
from mailman_bounces.rest.helpers import MAX_ID, plugin_name

JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'


def _ref(name: str) -> dict:
    return {'$ref': f'#/components/schemas/{name}'}


def _nullable(schema: dict) -> dict:
    return {**schema, 'nullable': True}


STRING = {'type': 'string'}
# A non-empty string without NUL characters (databases refuse those).
TEXT = {'type': 'string', 'minLength': 1, 'pattern': '^[^\\u0000]+$'}
# Mailman shows naive UTC times (no offset), which the date-time format
# would refuse.
TIME = {'type': 'string', 'pattern': '^[0-9]{4}-[0-9]{2}-[0-9]{2}T',
        'example': '2005-08-01T07:49:23'}
LINK = {'type': 'string', 'format': 'uri'}
COUNT = {'type': 'integer', 'minimum': 0}
DURATION = {'type': 'string', 'pattern': '^([0-9]+[dhms])+$',
            'example': '7d'}
# What a PATCH or PUT accepts for a duration: ``90d``, ``1w2d``, ``12h``,
# or a number of days.
DURATION_IN = {'anyOf': [
    {'type': 'string', 'pattern': '^ *([0-9]+(\\.[0-9]+)? *[wdhmsWDHMS] *)+$'},
    {'type': 'number', 'minimum': 0, 'maximum': 36500}]}
BOOLEAN_IN = {'anyOf': [
    {'type': 'boolean'},
    {'type': 'string', 'enum': ['yes', 'no', 'true', 'false', 'on', 'off',
                                '1', '0']}]}


def _integer_in(minimum: int, maximum: int) -> dict:
    return {'anyOf': [
        {'type': 'integer', 'minimum': minimum, 'maximum': maximum},
        {'type': 'string', 'pattern': '^ *[0-9]+ *$'}]}


def _number_in(minimum: float, maximum: float) -> dict:
    return {'anyOf': [
        {'type': 'number', 'minimum': minimum, 'maximum': maximum},
        {'type': 'string', 'pattern': '^ *[0-9]+(\\.[0-9]+)? *$'}]}


def _choice_in(values) -> dict:
    return {'type': 'string', 'enum': list(values)}


# Each setting: (schema of its value as shown, schema of what is accepted).
SETTING_SCHEMAS: dict[str, tuple[dict, dict]] = {
    'process_bounces': ({'type': 'boolean'}, BOOLEAN_IN),
    'bounce_score_threshold': ({'type': 'integer'}, _integer_in(1, 1000)),
    'bounce_info_stale_after': (DURATION, DURATION_IN),
    'bounce_you_are_disabled_warnings': (
        {'type': 'integer'}, _integer_in(0, 100)),
    'bounce_you_are_disabled_warnings_interval': (DURATION, DURATION_IN),
    'bounce_notify_owner_on_disable': ({'type': 'boolean'}, BOOLEAN_IN),
    'bounce_notify_owner_on_removal': ({'type': 'boolean'}, BOOLEAN_IN),
    'bounce_notify_owner_on_bounce_increment': (
        {'type': 'boolean'}, BOOLEAN_IN),
    'forward_unrecognized_bounces_to': (
        _choice_in(FORWARD_DISPOSITIONS), _choice_in(FORWARD_DISPOSITIONS)),
    'score_mode': (_choice_in(SCORE_MODES), _choice_in(SCORE_MODES)),
    'score_threshold': (_nullable({'type': 'number'}), _number_in(0, 1000)),
    'complaint_action': (_choice_in(COMPLAINT_ACTIONS),
                         _choice_in(COMPLAINT_ACTIONS)),
    'notify_owner_on_complaint': ({'type': 'boolean'}, BOOLEAN_IN),
    'notify_owner_on_ignored': ({'type': 'boolean'}, BOOLEAN_IN),
    'probe_before_disable': ({'type': 'boolean'}, BOOLEAN_IN),
    'probe_wait': (DURATION, DURATION_IN),
    'retention': (DURATION, DURATION_IN),
    'failover': ({'type': 'boolean'}, BOOLEAN_IN),
    'sympa_min_count': ({'type': 'integer'}, _integer_in(1, 10000)),
    'sympa_min_period': (DURATION, DURATION_IN),
    'sympa_level1': ({'type': 'number'}, _number_in(0, 100)),
    'sympa_level1_action': (_choice_in(ACTIONS), _choice_in(ACTIONS)),
    'sympa_level2': ({'type': 'number'}, _number_in(0, 100)),
    'sympa_level2_action': (_choice_in(ACTIONS), _choice_in(ACTIONS)),
    'weights': (
        {'type': 'object', 'additionalProperties': {'type': 'number'}},
        {'anyOf': [
            {'type': 'object',
             'properties': {reason: {'type': 'number', 'minimum': 0,
                                     'maximum': 10} for reason in REASONS},
             'additionalProperties': False},
            {'type': 'string', 'example': 'userunknown=1,mailboxfull=0.5'}]}),
}
assert set(SETTING_SCHEMAS) == set(SETTING_NAMES), 'settings out of date'


def _setting_doc(name: str) -> str:
    if name == 'weights':
        return ('How much one bounce of each reason adds to a score '
                '(mailman score mode); 0 means never held against members.')
    field = CORE_FIELDS.get(name) or PLUGIN_FIELDS[name]
    origin = 'Core' if name in CORE_FIELDS else 'Plugin'
    return f'{field.doc} ({origin} setting.)'


def _settings_schemas() -> dict[str, Any]:
    shown = {name: {**schema, 'description': _setting_doc(name)}
             for name, (schema, _) in SETTING_SCHEMAS.items()}
    accepted = {}
    for name, (_, schema) in SETTING_SCHEMAS.items():
        if name in CORE_FIELDS:
            accepted[name] = schema
        else:
            # Null or empty: back to the site default.
            accepted[name] = {'anyOf': [schema, {'type': 'string',
                                                 'maxLength': 0}],
                              'nullable': True}
    plugin = [*PLUGIN_FIELDS, 'weights']
    names = {'type': 'array', 'items': _choice_in(plugin)}
    return {
        'Settings': {
            'type': 'object',
            'required': [*SETTING_NAMES, 'list_id', 'overridden',
                         'inherited', 'self_link', 'http_etag'],
            'properties': {
                **shown, 'list_id': STRING,
                'overridden': {**names, 'description':
                               'Plugin settings the list set itself.'},
                'inherited': {**names, 'description':
                              'Plugin settings following the site default.'},
                'self_link': LINK, 'http_etag': STRING},
            'additionalProperties': False},
        'SettingsChange': {
            'type': 'object', 'properties': accepted,
            'additionalProperties': False},
        'SettingsReplacement': {
            'type': 'object', 'properties': accepted,
            'required': list(SETTING_NAMES), 'additionalProperties': False},
    }


def _collection(entry: str) -> dict:
    return {
        'type': 'object',
        'required': ['start', 'total_size', 'entries', 'self_link',
                     'http_etag'],
        'properties': {
            'start': COUNT, 'total_size': COUNT,
            'entries': {'type': 'array', 'items': _ref(entry)},
            'self_link': LINK, 'http_etag': STRING},
        'additionalProperties': False}


_EVENT = {
    'id': {'type': 'integer'},
    'list_id': STRING,
    'email': STRING,
    'original_recipient': _nullable(STRING),
    'final_recipient': _nullable(STRING),
    'domain': _nullable(STRING),
    'timestamp': TIME,
    'message_id': _nullable(STRING),
    'context': _choice_in(CONTEXTS),
    'processed': {'type': 'boolean'},
    'processed_at': _nullable(TIME),
    'kind': _choice_in(KINDS),
    'severity': _choice_in(SEVERITIES),
    'reason': STRING,
    'status': _nullable(STRING),
    'reply_code': _nullable(STRING),
    'diagnostic': _nullable(STRING),
    'remote_mta': _nullable(STRING),
    'detector': _nullable(STRING),
    'feedback_type': _nullable(STRING),
    'outcome': {**_nullable(STRING), 'description': (
        'What the pass did with the event (scored, ignored, same-day, '
        'disabled, complaint, outage ...); null until processed.')},
    'score_delta': _nullable({'type': 'number'}),
    'self_link': LINK,
    'message_link': {**LINK, 'description':
                     'Present while the bounce message is stored.'},
    'http_etag': STRING,
}

_STANDING = {
    'list_id': STRING,
    'email': STRING,
    'display_name': STRING,
    'delivery_status': _choice_in(status.name for status in DeliveryStatus),
    'bounce_score': {'type': 'integer', 'description': "Core's score."},
    'score': {'type': 'number',
              'description': 'The exact (weighted) score.'},
    'last_bounce_received': _nullable(TIME),
    'last_reason': _nullable(STRING),
    'disabled_reason': _nullable(STRING),
    'disabled_at': _nullable(TIME),
    'total_warnings_sent': COUNT,
    'last_warning_sent': _nullable(TIME),
    'probe_sent': _nullable(TIME),
    'member_link': {**LINK, 'description': "Core's member resource."},
    'events_link': LINK,
    'last_event_link': LINK,
    'self_link': LINK,
    'http_etag': STRING,
}

_FREEZE = {
    'id': {'type': 'integer'},
    'list_id': {**_nullable(STRING),
                'description': 'null for a site-wide freeze.'},
    'key_type': _choice_in(['domain', 'mx']),
    'key': STRING,
    'started': TIME,
    'expires': TIME,
    'lifted': _nullable(TIME),
    'lifted_by': _nullable(STRING),
    'bouncing': COUNT,
    'members': COUNT,
    'active': {'type': 'boolean'},
    'self_link': LINK,
    'http_etag': STRING,
}

_COUNTS = {name: COUNT for name in
           ('events', 'addresses', 'hard', 'soft', 'complaints')}


def _counted(key: str, schema: dict) -> dict:
    return {'type': 'object', 'required': [key, *_COUNTS],
            'properties': {key: schema, **_COUNTS},
            'additionalProperties': False}


def _object(properties: dict, optional: tuple = ()) -> dict:
    return {'type': 'object', 'properties': properties,
            'required': [name for name in properties if name not in optional],
            'additionalProperties': False}


def _schemas() -> dict[str, Any]:
    return {
        'Error': {'type': 'object', 'properties': {
            'title': STRING, 'description': STRING}},
        'Root': _object({
            'name': STRING, 'version': STRING, 'events_link': LINK,
            'stats_link': LINK, 'freezes_link': LINK, 'openapi_link': LINK,
            'self_link': LINK, 'http_etag': STRING}),
        'Event': _object(_EVENT, optional=('message_link',)),
        'Events': _collection('Event'),
        'List': _object({
            'list_id': STRING, 'fqdn_listname': STRING,
            'settings_link': LINK, 'members_link': LINK, 'events_link': LINK,
            'stats_link': LINK, 'self_link': LINK, 'http_etag': STRING}),
        **_settings_schemas(),
        'Member': _object(_STANDING, optional=('last_event_link',)),
        'Members': _collection('Member'),
        'Reenabled': _object({
            'list_id': STRING, 'email': STRING,
            'was_disabled': {'type': 'boolean'}, 'member_link': LINK,
            'http_etag': STRING}),
        'Freeze': _object(_FREEZE),
        'Freezes': _collection('Freeze'),
        'Stats': _object({
            'list_id': _nullable(STRING), 'since': _nullable(TIME),
            'until': _nullable(TIME),
            'totals': _object(_COUNTS),
            'lists': {'type': 'array', 'items': _counted('list_id', STRING)},
            'reasons': {'type': 'array', 'items': _counted('reason', STRING)},
            'domains': {'type': 'array',
                        'items': _counted('domain', _nullable(STRING))},
            'days': {'type': 'array', 'items': _counted(
                'day', {'type': 'string', 'format': 'date'})},
            'freezes': {'type': 'array', 'items': _ref('Freeze')},
            'self_link': LINK, 'http_etag': STRING}),
    }


# Parameters.

def _query(name: str, schema: dict, description: str) -> dict:
    return {'name': name, 'in': 'query', 'required': False,
            'schema': schema, 'description': description}


def _path(name: str, schema: dict, description: str,
          example: Any = None) -> dict:
    parameter = {'name': name, 'in': 'path', 'required': True,
                 'schema': schema, 'description': description}
    if example is not None:
        parameter['example'] = example
    return parameter


# A URL path segment: no slash.
SEGMENT = {'type': 'string', 'minLength': 1, 'pattern': '^[^/\\u0000]+$'}
ROW_ID = {'type': 'integer', 'minimum': 1, 'maximum': MAX_ID}
WHEN = {'anyOf': [{'type': 'string', 'format': 'date-time'},
                  {'type': 'string', 'format': 'date'}]}

PAGING = [
    _query('count', COUNT, 'Entries per page (all when absent).'),
    _query('page', {'type': 'integer', 'minimum': 1},
           'Page number, from 1.'),
]
LIST_PARAMETER = _path(
    'list', SEGMENT, 'The list-id (or the posting address).',
    example='test.example.com')
SINCE = _query('since', WHEN, 'From this time (ISO 8601; UTC when no '
                              'offset is given).')
UNTIL = _query('until', WHEN, 'Up to this time; a date alone includes '
                              'the whole day.')
EVENT_FILTERS = [
    _query('list_id', TEXT, 'Only this list (list-id or posting address).'),
    _query('address', TEXT, 'Only this recipient address.'),
    _query('domain', TEXT, 'Only this recipient domain.'),
    _query('reason', _choice_in(REASONS), 'Only this reason.'),
    _query('severity', _choice_in(SEVERITIES), 'Only this severity.'),
    _query('kind', _choice_in(KINDS), 'Only this kind.'),
    _query('context', _choice_in(CONTEXTS),
           'normal bounces or answers to probes.'),
    _query('processed', {'type': 'boolean'},
           'Only events the pass did (true) or did not (false) process.'),
    _query('outcome', TEXT, 'Only this outcome.'),
    SINCE, UNTIL,
]


# Responses.

def _json_response(description: str, schema: str) -> dict:
    return {'description': description,
            'content': {JSON: {'schema': _ref(schema)}}}


def _error(description: str) -> dict:
    return _json_response(description, 'Error')


UNAUTHORIZED = _error('REST admin credentials are missing or wrong.')
BAD_REQUEST = _error('A parameter or field is wrong; the description '
                     'names it and says why.')
NOT_FOUND = _error('No such resource.')
NO_CONTENT = {'description': 'Done.'}


def _operation(summary: str, responses: dict, parameters=(),
               body: str | None = None, body_required: bool = True,
               **extra) -> dict:
    operation = {'summary': summary,
                 'responses': {**responses, '401': UNAUTHORIZED}}
    if parameters:
        operation['parameters'] = list(parameters)
    if body is not None:
        operation['requestBody'] = {'required': body_required, 'content': {
            JSON: {'schema': _ref(body)}, FORM: {'schema': _ref(body)}}}
    operation.update(extra)
    return operation


def _paths(prefix: str) -> dict[str, Any]:
    member = _path('address', SEGMENT, "The member's address.",
                   example='anne@example.org')
    event_id = _path('id', ROW_ID, 'The event id.', example=1)
    freeze_id = _path('id', ROW_ID, 'The freeze id.', example=1)
    paths = {
        '': {'get': _operation(
            'The plugin, its version and links to its resources.',
            {'200': _json_response('The root.', 'Root')})},
        '/events': {'get': _operation(
            'Bounce events, newest first (by time, then id).',
            {'200': _json_response('A page of events.', 'Events'),
             '400': BAD_REQUEST},
            [*EVENT_FILTERS, *PAGING])},
        '/events/{id}': {'get': _operation(
            'One bounce event.',
            {'200': _json_response('The event.', 'Event'),
             '400': BAD_REQUEST, '404': NOT_FOUND}, [event_id])},
        '/events/{id}/message': {'get': _operation(
            'The stored bounce message, as received (cut at the '
            "configured size).",
            {'200': {'description': 'The message.', 'content': {
                'message/rfc822': {'schema': STRING}}},
             '400': BAD_REQUEST,
             '404': _error('No such event, or its message is not stored.')},
            [event_id])},
        '/lists/{list}': {'get': _operation(
            "Links to a list's bounce resources.",
            {'200': _json_response('The links.', 'List'),
             '404': NOT_FOUND}, [LIST_PARAMETER])},
        '/lists/{list}/settings': {
            'get': _operation(
                "Every bounce setting of a list, core's and the plugin's.",
                {'200': _json_response('The settings.', 'Settings'),
                 '404': NOT_FOUND}, [LIST_PARAMETER]),
            'patch': _operation(
                'Change some settings, all or nothing.  A plugin setting '
                'given as null or empty goes back to the site default; '
                "weights are merged into the list's own.",
                {'204': NO_CONTENT, '400': BAD_REQUEST, '404': NOT_FOUND},
                [LIST_PARAMETER], body='SettingsChange',
                body_required=False),
            'put': _operation(
                "Set every setting, all or nothing; the list's weights "
                'become the ones given.',
                {'204': NO_CONTENT, '400': BAD_REQUEST, '404': NOT_FOUND},
                [LIST_PARAMETER], body='SettingsReplacement'),
        },
        '/lists/{list}/members': {'get': _operation(
            "A list's members and their bounce standing, by address.",
            {'200': _json_response('A page of members.', 'Members'),
             '400': BAD_REQUEST, '404': NOT_FOUND},
            [LIST_PARAMETER,
             _query('bouncing', {'type': 'boolean'},
                    'Only members with a score or disabled by bounces '
                    '(true), or the others (false).'),
             _query('delivery_status',
                    _choice_in(status.name for status in DeliveryStatus),
                    'Only members with this delivery status.'),
             *PAGING])},
        '/lists/{list}/members/{address}': {'get': _operation(
            "One member's bounce standing.",
            {'200': _json_response('The member.', 'Member'),
             '404': NOT_FOUND}, [LIST_PARAMETER, member])},
        '/lists/{list}/members/{address}/reset': {'post': _operation(
            "Re-enable the member's delivery and clear their score and "
            'warnings (the member is not notified).',
            {'204': NO_CONTENT, '404': NOT_FOUND},
            [LIST_PARAMETER, member])},
        '/reenable/{token}': {'post': _operation(
            'Redeem the re-enable token of a warning (for the web front '
            "end behind the warning's link).  A token works once.",
            {'200': _json_response('Delivery re-enabled.', 'Reenabled'),
             '404': _error('Unknown, used or expired token.')},
            [_path('token', SEGMENT, 'The token from the warning.')])},
        '/stats': {'get': _operation(
            'Event counts per list, reason, recipient domain and day, and '
            'the outage freezes in force.',
            {'200': _json_response('The statistics.', 'Stats'),
             '400': BAD_REQUEST},
            [_query('list_id', TEXT, 'Only this list (and site-wide '
                                     'freezes).'),
             SINCE, UNTIL,
             _query('days', {'type': 'integer', 'minimum': 1,
                             'maximum': 36500},
                    'Only the last so many days, today included.'),
             _query('top', {'type': 'integer', 'minimum': 1,
                            'maximum': 1000},
                    'How many domains to show (most events first; 50).')])},
        '/freezes': {'get': _operation(
            'Outage freezes, newest first.',
            {'200': _json_response('A page of freezes.', 'Freezes'),
             '400': BAD_REQUEST},
            [_query('all', {'type': 'boolean'},
                    'Include ended and lifted freezes.'), *PAGING])},
        '/freezes/{id}': {
            'get': _operation(
                'One outage freeze.',
                {'200': _json_response('The freeze.', 'Freeze'),
                 '400': BAD_REQUEST, '404': NOT_FOUND}, [freeze_id]),
            'delete': _operation(
                'Lift the freeze now: the events it held are scored at the '
                'next pass.  It stays in the history.',
                {'204': NO_CONTENT, '400': BAD_REQUEST, '404': NOT_FOUND},
                [freeze_id]),
        },
        '/openapi.json': {'get': _operation(
            'This document.',
            {'200': {'description': 'The OpenAPI document.',
                     'content': {JSON: {'schema': {'type': 'object'}}}}})},
    }
    return {prefix + path: operations for path, operations in paths.items()}


@public
def openapi_document(server: str, name: str = 'bounces') -> dict[str, Any]:
    """The OpenAPI document of the plugin called `name` (its section in
    mailman.cfg) on the REST API (version 3.1) at `server`."""
    return {
        'openapi': '3.0.3',
        'info': {
            'title': 'mailman-bounces',
            'version': __version__,
            'description': (
                "Bounce processing for GNU Mailman 3: bounce events, lists' "
                "bounce settings, members' bounce standing, statistics and "
                "outage freezes.  Every resource needs Mailman's REST admin "
                'credentials.  Collections are paged like core\'s, with '
                '`count` and `page`.'),
        },
        'servers': [{'url': server}],
        'security': [{'admin': []}],
        'paths': _paths(f'/plugins/{name}'),
        'components': {
            'securitySchemes': {'admin': {'type': 'http', 'scheme': 'basic'}},
            'schemas': _schemas(),
        },
    }


@public
class OpenAPIDocument:
    """/plugins/bounces/openapi.json"""

    def on_get(self, request, response):
        """The OpenAPI document, with this server's address."""
        server = self.api.path_to('').rstrip('/')
        okay(response, json.dumps(openapi_document(server, plugin_name())))
