"""The OpenAPI 3.0 description of the plugin's REST API: ``openapi.json``.

The document is assembled here from what the resources themselves use:
their shapes (what each shows), their query parameters and the settings'
definitions (what each accepts), so it cannot drift from the code; the
test suite also checks it against the running server (schemathesis).
Only summaries of the operations are written here.
"""

from __future__ import annotations

import json
from typing import Any

from mailman.rest.helpers import okay
from public import public

from mailman_bounces import __version__
from mailman_bounces.app.queries.paging import DEFAULT_COUNT, MAX_COUNT
from mailman_bounces.config.hooks import (
    CALLBACK_URL_PATTERN,
    EVENTS_PATTERN,
    SECRET_PATTERN,
)
from mailman_bounces.detect import REASONS
from mailman_bounces.fields import (
    CALLBACK_OUTBOX,
    DAILY_COUNTS,
    LIST_SCORING,
    MEMBERS_EVIDENCE,
    READABLE_MESSAGE,
    REENABLE_PREVIEW,
    RULE,
    SITE_LISTS,
    STRING,
)
from mailman_bounces.policy.rules import MAX_PATTERN
from mailman_bounces.rest.callbacks import (
    ALLOW_PRIVATE,
    CALLBACK_PARAMETERS,
    CALLBACK_RESOURCE,
    ENDPOINT_RESOURCE,
)
from mailman_bounces.rest.events import EVENT_PARAMETERS, EVENT_RESOURCE
from mailman_bounces.rest.frontend import (
    DAILY_PARAMETERS,
    EVIDENCE_PARAMETERS,
)
from mailman_bounces.rest.helpers import (
    MAX_BODY_SIZE,
    MAX_ID,
    Parameters,
    collection_schema,
    plugin_name,
    resource_schema,
)
from mailman_bounces.rest.index import ROOT_RESOURCE
from mailman_bounces.rest.mailboxes import MAILBOX_RESOURCE
from mailman_bounces.rest.members import (
    LIST_RESOURCE,
    MEMBER_PARAMETERS,
    STANDING_RESOURCE,
)
from mailman_bounces.rest.reenable import REENABLED_RESOURCE
from mailman_bounces.rest.rules import RULE_RESOURCE
from mailman_bounces.rest.settings import (
    SETTINGS_RESOURCE,
    settings_change_schema,
)
from mailman_bounces.rest.stats import (
    FREEZE_PARAMETERS,
    FREEZE_RESOURCE,
    STATS_PARAMETERS,
    STATS_RESOURCE,
)
from mailman_bounces.rest.tracking import (
    COPY_RESOURCE,
    POST_RESOURCE,
    TRACKING_PARAMETERS,
)

JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'


def _ref(name: str) -> dict:
    return {'$ref': f'#/components/schemas/{name}'}


def _schemas() -> dict[str, Any]:
    return {
        # Falcon's error body, as core's resources send it.
        'Error': {'type': 'object', 'properties': {
            'title': STRING, 'description': STRING}},
        'Root': resource_schema(ROOT_RESOURCE),
        'Event': resource_schema(EVENT_RESOURCE),
        'Events': collection_schema(EVENT_RESOURCE),
        'List': resource_schema(LIST_RESOURCE),
        'Settings': resource_schema(SETTINGS_RESOURCE),
        'SettingsChange': settings_change_schema(form=False, replace=False),
        'SettingsChangeForm': settings_change_schema(form=True,
                                                     replace=False),
        'SettingsReplacement': settings_change_schema(form=False,
                                                      replace=True),
        'SettingsReplacementForm': settings_change_schema(form=True,
                                                          replace=True),
        'Member': resource_schema(STANDING_RESOURCE),
        'Members': collection_schema(STANDING_RESOURCE),
        'Reenabled': resource_schema(REENABLED_RESOURCE),
        'Freeze': resource_schema(FREEZE_RESOURCE),
        'Freezes': collection_schema(FREEZE_RESOURCE),
        'Stats': resource_schema(STATS_RESOURCE),
        'Callbacks': collection_schema(CALLBACK_RESOURCE),
        'CallbackEndpoint': resource_schema(ENDPOINT_RESOURCE),
        'CallbackEndpoints': collection_schema(ENDPOINT_RESOURCE),
        'CallbackEndpointNew': _new_endpoint(form=False),
        'CallbackEndpointNewForm': _new_endpoint(form=True),
        'ReenablePreview': resource_schema(REENABLE_PREVIEW),
        'ReadableMessage': resource_schema(READABLE_MESSAGE),
        'DailyCounts': resource_schema(DAILY_COUNTS),
        'BouncingLists': resource_schema(SITE_LISTS),
        'ListScoring': resource_schema(LIST_SCORING),
        'MembersEvidence': resource_schema(MEMBERS_EVIDENCE),
        'CallbackOutbox': resource_schema(CALLBACK_OUTBOX),
        'Mailbox': resource_schema(MAILBOX_RESOURCE),
        'Mailboxes': collection_schema(MAILBOX_RESOURCE),
        'TrackedPosts': collection_schema(POST_RESOURCE),
        'TrackedCopies': collection_schema(COPY_RESOURCE),
        'Rule': resource_schema(RULE_RESOURCE),
        'Rules': collection_schema(RULE_RESOURCE),
        'NewRule': _new_rule(form=False),
        'NewRuleForm': _new_rule(form=True),
    }


def _new_endpoint(form: bool) -> dict[str, Any]:
    flag = ALLOW_PRIVATE.form() if form else ALLOW_PRIVATE.accepted()
    return {'type': 'object',
            'properties': {
                'url': {**STRING, 'pattern': CALLBACK_URL_PATTERN,
                        'description': 'https to a host name, or http to '
                        'loopback; a name resolving to a private address '
                        'is refused at delivery unless allow_private.'},
                'secret': {**STRING, 'pattern': SECRET_PATTERN,
                           'description': 'whsec_ and base64.'},
                'events': {**STRING, 'pattern': EVENTS_PATTERN,
                           'description': "Event names separated by spaces, "
                           "or 'all' (the default)."},
                'allow_private': flag},
            'required': ['url', 'secret'],
            'additionalProperties': False}


def _new_rule(form: bool) -> dict[str, Any]:
    """What a POST to a list's rules takes."""
    fields = {field.name: field.described() for field in RULE
              if field.name not in ('id', 'name')}
    fields['pattern'] = {**fields['pattern'], 'minLength': 1,
                         'maxLength': MAX_PATTERN}
    fields['reason'] = {**fields['reason'], 'enum': [*sorted(REASONS), None]}
    fields['severity'] = {**fields['severity'],
                          'enum': [*fields['severity']['enum'], None]}
    # Null or absent: the diagnostic text.
    fields['field'] = {**fields['field'], 'nullable': True,
                       'enum': [*fields['field']['enum'], None]}
    fields['effect']['description'] = (
        'A set rule needs a reason or a severity; the others have neither.')
    if form:
        fields = {name: {k: v for k, v in schema.items() if k != 'nullable'}
                  for name, schema in fields.items()}
        # A form says "none" with an empty field.
        for name in ('field', 'reason', 'severity'):
            fields[name]['enum'] = [
                *(value for value in fields[name]['enum'] if value), '']
    return {'type': 'object', 'properties': fields,
            'required': ['pattern', 'effect'],
            'additionalProperties': False}


# Parameters.

def _query(parameters: Parameters) -> list[dict]:
    return [{'name': parameter.name, 'in': 'query', 'required': False,
             'schema': dict(parameter.converter.schema),
             'description': parameter.doc}
            for parameter in parameters]


def _path(name: str, schema: dict, description: str,
          example: Any = None) -> dict:
    parameter = {'name': name, 'in': 'path', 'required': True,
                 'schema': schema, 'description': description}
    if example is not None:
        parameter['example'] = example
    return parameter


# A URL path segment: no slash.
SEGMENT = {'type': 'string', 'minLength': 1, 'pattern': '^[^/\\u0000]+$'}
# Anything else is not found, like core's ids.
ROW_ID = {'type': 'integer', 'minimum': 1, 'maximum': MAX_ID}
LIST_PARAMETER = _path(
    'list', SEGMENT, 'The list-id (or the posting address).',
    example='test.example.com')


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
TOO_LARGE = _error(f'The request body is over {MAX_BODY_SIZE} bytes.')
# Answered by Mailman's REST server (gunicorn, in HTML) before any
# resource runs.
URI_TOO_LONG = {'description': "The request line is over the REST "
                "server's limit (gunicorn's limit_request_line: 4094 bytes "
                "unless the site's gunicorn configuration says otherwise)."}
NO_CONTENT = {'description': 'Done.'}


def _operation(summary: str, responses: dict, parameters=(),
               body: str | None = None, body_required: bool = True,
               **extra) -> dict:
    operation = {'summary': summary,
                 'responses': {**responses, '401': UNAUTHORIZED,
                               '414': URI_TOO_LONG}}
    if parameters:
        operation['parameters'] = list(parameters)
    if body is not None:
        operation['responses']['413'] = TOO_LARGE
        operation['requestBody'] = {'required': body_required, 'content': {
            JSON: {'schema': _ref(body)},
            FORM: {'schema': _ref(body + 'Form')}}}
    operation.update(extra)
    return operation


def _paths(prefix: str) -> dict[str, Any]:
    member = _path('address', SEGMENT, "The member's address.",
                   example='anne@example.org')
    event_id = _path('id', ROW_ID, 'The event id.', example=1)
    freeze_id = _path('id', ROW_ID, 'The freeze id.', example=1)
    endpoint_id = _path('id', ROW_ID, 'The endpoint id.', example=1)
    rule_id = _path('id', ROW_ID, 'The rule id.', example=1)
    message_id = _path('message_id', SEGMENT,
                       "The post's Message-ID, without angle brackets.",
                       example='post@example.com')
    paths = {
        '': {'get': _operation(
            'The plugin, its version and links to its resources.',
            {'200': _json_response('The root.', 'Root')})},
        '/events': {'get': _operation(
            'Bounce events, newest first (by time, then id).',
            {'200': _json_response('A page of events.', 'Events'),
             '400': BAD_REQUEST},
            _query(EVENT_PARAMETERS))},
        '/events/{id}': {'get': _operation(
            'One bounce event.',
            {'200': _json_response('The event.', 'Event'),
             '404': NOT_FOUND}, [event_id])},
        '/events/{id}/message': {'get': _operation(
            'The stored bounce message, as received (cut at the '
            "configured size).",
            {'200': {'description': 'The message.', 'content': {
                'message/rfc822': {'schema': STRING}}},
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
        '/lists/{list}/tracking': {'get': _operation(
            "A list's tracked posts, newest first, with the counts of "
            'their copies (list setting tracking).',
            {'200': _json_response('A page of tracked posts.',
                                   'TrackedPosts'),
             '400': BAD_REQUEST, '404': NOT_FOUND},
            [LIST_PARAMETER, *_query(TRACKING_PARAMETERS)])},
        '/lists/{list}/tracking/{message_id}': {'get': _operation(
            "A tracked post's copies, by recipient address.",
            {'200': _json_response('A page of copies.', 'TrackedCopies'),
             '400': BAD_REQUEST, '404': NOT_FOUND},
            [LIST_PARAMETER, message_id,
             *_query(TRACKING_PARAMETERS)])},
        '/lists/{list}/members': {'get': _operation(
            "A list's members and their bounce standing, by address.",
            {'200': _json_response('A page of members.', 'Members'),
             '400': BAD_REQUEST, '404': NOT_FOUND},
            [LIST_PARAMETER, *_query(MEMBER_PARAMETERS)])},
        '/lists/{list}/members/{address}': {'get': _operation(
            "One member's bounce standing.",
            {'200': _json_response('The member.', 'Member'),
             '404': NOT_FOUND}, [LIST_PARAMETER, member])},
        '/lists/{list}/members/{address}/reset': {'post': _operation(
            "Re-enable the member's delivery and clear their score and "
            'warnings (the member is not notified).',
            {'204': NO_CONTENT, '404': NOT_FOUND},
            [LIST_PARAMETER, member])},
        '/lists/{list}/callbacks': {
            'get': _operation(
                "The list's own callback endpoints (secrets not shown).",
                {'200': _json_response('The endpoints.',
                                       'CallbackEndpoints'),
                 '404': NOT_FOUND}, [LIST_PARAMETER]),
            'post': _operation(
                'Add a callback endpoint to the list.',
                {'201': {'description': 'Created; Location names it.'},
                 '400': BAD_REQUEST, '404': NOT_FOUND},
                [LIST_PARAMETER], body='CallbackEndpointNew'),
        },
        '/lists/{list}/callbacks/{id}': {
            'get': _operation(
                'One callback endpoint of the list.',
                {'200': _json_response('The endpoint.', 'CallbackEndpoint'),
                 '404': NOT_FOUND}, [LIST_PARAMETER, endpoint_id]),
            'delete': _operation(
                'Remove the endpoint; its pending callbacks are not sent.',
                {'204': NO_CONTENT, '404': NOT_FOUND},
                [LIST_PARAMETER, endpoint_id]),
        },
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
            _query(STATS_PARAMETERS))},
        '/freezes': {'get': _operation(
            'Outage freezes, newest first.',
            {'200': _json_response('A page of freezes.', 'Freezes'),
             '400': BAD_REQUEST},
            _query(FREEZE_PARAMETERS))},
        '/freezes/{id}': {
            'get': _operation(
                'One outage freeze.',
                {'200': _json_response('The freeze.', 'Freeze'),
                 '404': NOT_FOUND}, [freeze_id]),
            'delete': _operation(
                'Lift the freeze now: the events it held are scored at the '
                'next pass.  It stays in the history.',
                {'204': NO_CONTENT, '404': NOT_FOUND}, [freeze_id]),
        },
        '/freezes/{id}/confirm': {'post': _operation(
            "A site admin's confirmation that the freeze is an outage: it "
            'may go on for another `[outage]max_unconfirmed` (24 hours by '
            'default) from now, and is back in force if that limit ended '
            'it.  A freeze is never extended past that limit unconfirmed.',
            {'204': NO_CONTENT,
             '400': _error('The freeze was lifted, or ended without '
                           'reaching the limit.'),
             '404': NOT_FOUND}, [freeze_id])},
        '/callbacks': {'get': _operation(
            'The callback outbox, oldest first; state=dead shows the dead '
            'letters.',
            {'200': _json_response('A page of callbacks.', 'Callbacks'),
             '400': BAD_REQUEST},
            _query(CALLBACK_PARAMETERS))},
        '/frontend/reenable/{token}': {'get': _operation(
            'The subscription a re-enable token would re-enable (for the '
            "page behind the warning's link); the token stays usable.",
            {'200': _json_response('The subscription.', 'ReenablePreview'),
             '404': _error('Unknown, used or expired token.')},
            [_path('token', SEGMENT, 'The token from the warning.')])},
        '/frontend/events/{id}/message': {'get': _operation(
            "A stored bounce message's headers and readable text.",
            {'200': _json_response('The message.', 'ReadableMessage'),
             '404': _error('No such event, or its message is not stored.')},
            [event_id])},
        '/frontend/daily': {'get': _operation(
            'Events per day, severity and reason.',
            {'200': _json_response('The counts.', 'DailyCounts'),
             '400': BAD_REQUEST},
            _query(DAILY_PARAMETERS))},
        '/frontend/lists': {'get': _operation(
            'The lists with bouncing members, most first.',
            {'200': _json_response('The lists.', 'BouncingLists')})},
        '/frontend/lists/{list}': {'get': _operation(
            "What the list's members are measured against: the threshold "
            'at which delivery is disabled and the warnings before '
            'removal.',
            {'200': _json_response('The threshold and warnings.',
                                   'ListScoring'),
             '404': NOT_FOUND},
            [LIST_PARAMETER])},
        '/frontend/lists/{list}/evidence': {'get': _operation(
            "How verified the given addresses' events on the list are.",
            {'200': _json_response('The addresses with events.',
                                   'MembersEvidence'),
             '400': BAD_REQUEST, '404': NOT_FOUND},
            [LIST_PARAMETER, *_query(EVIDENCE_PARAMETERS)])},
        '/frontend/callbacks': {'get': _operation(
            'Every callback endpoint and its outbox (pending, delivered '
            'and dead callbacks).',
            {'200': _json_response('The endpoints.', 'CallbackOutbox')})},
        '/lists/{list}/rules': {
            'get': _operation(
                "The rules applying to a list's bounces, in order: the "
                "site's (no id), then the list's own.",
                {'200': _json_response('The rules.', 'Rules'),
                 '404': NOT_FOUND}, [LIST_PARAMETER]),
            'post': _operation(
                'Add a rule to the list.  The pattern is an RE2 regular '
                'expression; an invalid or too complex one is refused.',
                {'201': {'description': 'Added; Location names it.'},
                 '400': BAD_REQUEST, '404': NOT_FOUND},
                [LIST_PARAMETER], body='NewRule'),
        },
        '/lists/{list}/rules/{id}': {
            'get': _operation(
                "One of the list's rules.",
                {'200': _json_response('The rule.', 'Rule'),
                 '404': NOT_FOUND}, [LIST_PARAMETER, rule_id]),
            'delete': _operation(
                'Delete the rule.',
                {'204': NO_CONTENT, '404': NOT_FOUND},
                [LIST_PARAMETER, rule_id]),
        },
        '/mailboxes': {'get': _operation(
            'The bounce mailboxes the bouncemail runner polls, by name: '
            'last poll, last success, last error, counts.',
            {'200': _json_response('Every mailbox.', 'Mailboxes')})},
        '/mailboxes/{name}': {'get': _operation(
            'One bounce mailbox.',
            {'200': _json_response('The mailbox.', 'Mailbox'),
             '404': NOT_FOUND},
            [_path('name', SEGMENT, 'The NAME of its [mailbox.NAME] '
                   'section.', example='bounces')])},
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
                "credentials.  Collections are paged like core's, with "
                f'`count` and `page`; a page holds {DEFAULT_COUNT} entries '
                f'unless `count` says otherwise, and at most {MAX_COUNT}.'),
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
