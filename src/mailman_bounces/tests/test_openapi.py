"""The OpenAPI document is checked against the running REST server,
property-based, with schemathesis; plus a few checks by hand."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from lazr.config import as_timedelta

from mailman_bounces.rest.openapi import openapi_document
from mailman_bounces.tests.test_rest_api import (
    ANNE,
    AUTH,
    base_url,
    call,
    get,
    populate,
)
from mailman_bounces.validators import MAX_DURATION, Duration

SERVER = 'http://localhost:9001/3.1'

# Schemathesis' lazy (fixture) loader does not work with this pytest, so
# the document is built here; test_served_document_is_this_one shows the
# server serves the very same one.
schema = schemathesis.openapi.from_dict(openapi_document(SERVER))
# Given to schemathesis (not to each call) so that it can also try
# requests without credentials.
schema.config.update(basic_auth=AUTH)


@pytest.fixture
def world(rest):
    populate()
    return base_url().rpartition('/plugins/')[0]


# Two rules of the settings cannot be said in JSON Schema, so the document
# says them in words and the data generated for valid requests keeps them:
# the Sympa levels' order (a rule across two fields) and a duration's
# upper bound (a sum of its parts).  test_rest_settings.py checks both.
# Every other check, in particular that valid data is accepted and invalid
# data refused, runs on every operation.
_SETTINGS_BODY = re.compile(r'/settings$')
_DURATION = Duration.grammar


def _levels_in_order(body: dict) -> bool:
    # Only judged when both levels are given: one alone is judged against
    # the stored other, which earlier requests may have changed.
    names = ('sympa_level1', 'sympa_level2')
    given = [name for name in names if name in body]
    if not given:
        return True
    if len(given) == 1:
        return False
    from mailman_bounces.config import site_config
    defaults = site_config().list_defaults
    try:
        level1, level2 = (
            defaults[name] if body[name] in (None, '')
            else float(body[name]) for name in names)
    except (TypeError, ValueError):
        return True
    return level1 <= level2


def _durations_bounded(body: dict) -> bool:
    for value in body.values():
        if isinstance(value, str) and _DURATION.fullmatch(value):
            try:
                if as_timedelta(value) > MAX_DURATION:
                    return False
            except (OverflowError, ValueError):
                return False
    return True


def _keeps_the_unwritten_rules(body) -> bool:
    return (not isinstance(body, dict)
            or _levels_in_order(body) and _durations_bounded(body))


# A new classification rule keeps two rules the schema cannot state: its
# pattern is a regular expression RE2 accepts, and a set rule (only) has a
# reason or a severity.  test_rules.py checks the refusals.
_RULES_BODY = re.compile(r'/rules$')


def _a_sound_rule(body) -> bool:
    import re2
    if not isinstance(body, dict):
        return True
    try:
        options = re2.Options()
        options.log_errors = False
        re2.compile(str(body.get('pattern', '')), options)
    except re2.error:
        return False
    change = bool(body.get('reason') or body.get('severity'))
    return change == (body.get('effect') == 'set')


@schema.hook
def filter_case(context, case):
    """Valid settings changes and new rules keep the rules the schema
    cannot state."""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if _RULES_BODY.search(case.path) and not negative:
        return _a_sound_rule(case.body)
    if case.meta is None or negative or not _SETTINGS_BODY.search(
            case.path):
        return True
    return _keeps_the_unwritten_rules(case.body)


# Adding a rule is left out of the generated requests: whether its pattern
# is valid is RE2's decision, which no schema can state, and schemathesis
# does not filter all its phases through the hook below.  Its responses
# are checked by hand (test_responses_match_the_description) and its
# refusals in test_rules.py.
@schema.exclude(method='POST', path_regex='/rules$').parametrize()
@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_matches_its_description(case, world):
    case.call_and_validate(base_url=world)


# By hand: the document served, each documented parameter known to the
# server, and typical responses checked against the description.

def test_served_document_is_this_one(rest):
    served = get('/openapi.json')
    server = base_url().rpartition('/plugins/')[0]
    assert served == openapi_document(server)
    assert served['servers'] == [{'url': server}]


def test_the_path_examples_exist(world):
    # The explicit examples schemathesis tries first name what the world
    # of these tests has, so that they reach past the 404s.
    for path, method, operation in _operations():
        for parameter in operation.get('parameters', ()):
            if parameter['in'] == 'path' and parameter['name'] != 'token':
                assert 'example' in parameter, (path, parameter['name'])
    member = schema.raw_schema['paths'][
        '/plugins/bounces/lists/{list}/members/{address}']['get']
    examples = {p['name']: p['example'] for p in member['parameters']}
    assert get(f"/lists/{examples['list']}/members/{examples['address']}")
    assert call('GET', '/events/1/message').status_code == 200


def _valid_value(parameter: dict) -> str:
    spec = parameter['schema']
    if 'enum' in spec:
        return spec['enum'][0]
    if 'anyOf' in spec:
        return '2005-08-01'
    if 'pattern' in spec:
        return next(value for value in ('true', 'x')
                    if re.search(spec['pattern'], value))
    return {'integer': str(spec.get('minimum', 1)),
            'string': 'x'}[spec['type']]


def _operations():
    for path, operations in schema.raw_schema['paths'].items():
        for method, operation in operations.items():
            yield path, method.upper(), operation


def test_every_documented_query_parameter_is_known(world):
    checked = 0
    for path, method, operation in _operations():
        if method != 'GET' or '{' in path:
            continue
        for parameter in operation.get('parameters', ()):
            if parameter['in'] != 'query':
                continue
            query = f"{parameter['name']}={_valid_value(parameter)}"
            relative = path.removeprefix('/plugins/bounces')
            response = call('GET', f'{relative}?{query}')
            # An unknown parameter would be a 400.
            assert response.status_code == 200, (path, query, response.text)
            checked += 1
    assert checked >= 20


SETTINGS = '/lists/test.example.com/settings'


@pytest.mark.parametrize('method, path, template, body, status', [
    ('GET', '', '', None, 200),
    ('GET', '/events?severity=hard&count=1', '/events', None, 200),
    ('GET', '/events/1', '/events/{id}', None, 200),
    ('GET', '/events/1/message', '/events/{id}/message', None, 200),
    ('GET', '/events/one', '/events/{id}', None, 404),
    ('GET', '/events/99', '/events/{id}', None, 404),
    ('GET', '/lists/test@example.com', '/lists/{list}', None, 200),
    ('GET', SETTINGS, '/lists/{list}/settings', None, 200),
    ('PATCH', SETTINGS, '/lists/{list}/settings', {'score_mode': 'sympa'},
     204),
    ('PATCH', SETTINGS, '/lists/{list}/settings', {'score_mode': 'x'}, 400),
    ('PUT', SETTINGS, '/lists/{list}/settings', {'score_mode': 'sympa'},
     400),
    ('GET', '/lists/test.example.com/members?bouncing=true',
     '/lists/{list}/members', None, 200),
    ('GET', f'/lists/test.example.com/members/{ANNE}',
     '/lists/{list}/members/{address}', None, 200),
    ('GET', '/lists/nope.example.com/members/x@example.org',
     '/lists/{list}/members/{address}', None, 404),
    ('POST', f'/lists/test.example.com/members/{ANNE}/reset',
     '/lists/{list}/members/{address}/reset', None, 204),
    ('POST', '/reenable/abcdef', '/reenable/{token}', None, 404),
    ('GET', '/stats?days=7', '/stats', None, 200),
    ('GET', '/stats?days=0', '/stats', None, 400),
    ('GET', '/freezes?all=true', '/freezes', None, 200),
    ('GET', '/freezes/1', '/freezes/{id}', None, 200),
    ('POST', '/freezes/1/confirm', '/freezes/{id}/confirm', None, 204),
    ('POST', '/freezes/99/confirm', '/freezes/{id}/confirm', None, 404),
    ('DELETE', '/freezes/1', '/freezes/{id}', None, 204),
    ('DELETE', '/freezes/99', '/freezes/{id}', None, 404),
    ('GET', '/mailboxes', '/mailboxes', None, 200),
    ('POST', '/lists/test.example.com/rules', '/lists/{list}/rules',
     {'pattern': 'quota', 'effect': 'set', 'reason': 'mailboxfull'}, 201),
    ('POST', '/lists/test.example.com/rules', '/lists/{list}/rules',
     {'pattern': '(quota', 'effect': 'ignore'}, 400),
    ('GET', '/lists/test.example.com/rules', '/lists/{list}/rules', None,
     200),
    ('GET', '/lists/test.example.com/rules/99', '/lists/{list}/rules/{id}',
     None, 404),
    ('GET', '/mailboxes/example', '/mailboxes/{name}', None, 200),
    ('GET', '/mailboxes/nope', '/mailboxes/{name}', None, 404),
    # The REST server's own limit on the request line.
    ('GET', '/events?reason=' + 'x' * 5000, '/events', None, 414),
])
def test_responses_match_the_description(world, method, path, template,
                                         body, status):
    response = call(method, path, json=body)
    assert response.status_code == status, response.text
    operation = schema[f'/plugins/bounces{template}'][method]
    operation.validate_response(response)


def test_a_wrong_response_is_caught(world):
    # The description is strict enough to notice a missing field.
    from schemathesis.openapi.checks import JsonSchemaError

    response = call('GET', '/events/1')
    operation = schema['/plugins/bounces/events/{id}']['GET']
    content = response.json()
    del content['reason']
    response._content = json.dumps(content).encode()
    with pytest.raises(JsonSchemaError, match='"reason" is a required'):
        operation.validate_response(response)
