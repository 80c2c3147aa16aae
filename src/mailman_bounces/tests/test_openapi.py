"""The OpenAPI document is checked against the running REST server,
property-based, with schemathesis; plus a few checks by hand."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from mailman_bounces.rest.openapi import openapi_document
from mailman_bounces.tests.test_rest_api import (
    ANNE,
    AUTH,
    base_url,
    call,
    get,
    populate,
)

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


# The settings' parsers accept more spellings than JSON Schema can say
# (booleans as yes/on/1, durations such as 1w2d) and check constraints
# across fields (the Sympa levels), so for changes of settings the
# generated data is not judged valid or invalid by the schema alone;
# test_rest_settings.py covers what is accepted and refused.
JUDGED_BY_SCHEMA = (schemathesis.checks.positive_data_acceptance,
                    schemathesis.checks.negative_data_rejection)


@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_matches_its_description(case, world):
    changes_settings = (case.path.endswith('/settings')
                        and case.method in ('PATCH', 'PUT'))
    case.call_and_validate(
        base_url=world,
        excluded_checks=JUDGED_BY_SCHEMA if changes_settings else ())


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
    return {'boolean': 'true', 'integer': str(spec.get('minimum', 1)),
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
    ('GET', '/events/one', '/events/{id}', None, 400),
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
    ('DELETE', '/freezes/1', '/freezes/{id}', None, 204),
    ('DELETE', '/freezes/99', '/freezes/{id}', None, 404),
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
