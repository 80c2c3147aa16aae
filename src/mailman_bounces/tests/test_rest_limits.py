"""The REST API under load and bad input: every collection is paged with a
default and a maximum page size (as its OpenAPI description says), paging
values out of range are a 400, request bodies have a size limit, deeply
nested JSON is a 400, and error messages never repeat a huge value."""

from __future__ import annotations

import json
import socket
from base64 import b64encode
from urllib.parse import urlsplit

import pytest

from mailman_bounces.tests.helpers import commit, make_list
from mailman_bounces.tests.test_rest_api import (
    AUTH,
    base_url,
    call,
    description,
    get,
)

LIST_ID = 'test.example.com'
SETTINGS = f'/lists/{LIST_ID}/settings'
COLLECTIONS = ('/events', '/freezes', f'/lists/{LIST_ID}/members')
# More rows than a default page holds, and fewer than the largest page.
ROWS = 120
# What the brief allows an error message to repeat of a value.
FEW_HUNDRED = 500


def _add_events(number: int) -> None:
    """`number` events of the list, straight into the database."""
    from datetime import timedelta

    from mailman.config import config
    from mailman.utilities.datetime import now

    from mailman_bounces.model.event import BounceEvent
    start = now()
    config.db.store.add_all(
        BounceEvent(LIST_ID, f'user{n}@example.org', f'<m{n}@x>',
                    fingerprint=f'f{n}', reason='userunknown',
                    timestamp=start - timedelta(minutes=n))
        for n in range(number))
    commit()


@pytest.fixture
def mlist(rest):
    return make_list()


@pytest.fixture
def big_list(rest):
    return make_list(members=[f'user{n}@example.org' for n in range(ROWS)])


def _paging_schema() -> dict[str, dict]:
    """The schemas of ``count`` and ``page`` of each collection, from the
    OpenAPI document the server gives."""
    document = get('/openapi.json')
    found = {}
    for path in ('/events', '/freezes', '/lists/{list}/members'):
        operation = document['paths']['/plugins/bounces' + path]['get']
        found[path] = {parameter['name']: parameter['schema']
                       for parameter in operation['parameters']
                       if parameter['name'] in ('count', 'page')}
    return found


def test_the_document_states_default_and_maximum(rest):
    schemas = _paging_schema()
    for path, schema in schemas.items():
        count = schema['count']
        assert (count['minimum'], count['type']) == (1, 'integer'), path
        assert 1 <= count['default'] <= count['maximum'] <= 1000, path
        assert schema['page']['default'] == 1
        assert schema['page']['maximum'] < 10**25
    # Defined once: every collection says the same.
    assert len({json.dumps(schema, sort_keys=True)
                for schema in schemas.values()}) == 1


def test_without_count_a_page_has_the_default_size(big_list):
    _add_events(ROWS)
    count = _paging_schema()['/events']['count']
    assert count['default'] < ROWS <= count['maximum']
    for path in ('/events', f'/lists/{LIST_ID}/members'):
        first = get(path)
        assert (first['start'], first['total_size']) == (0, ROWS), path
        assert len(first['entries']) == count['default'], path
        second = get(path + '?page=2')
        assert second['start'] == count['default']
        assert len(second['entries']) == min(count['default'],
                                             ROWS - count['default'])
        everything = get(f'{path}?count={count["maximum"]}')
        assert len(everything['entries']) == ROWS
    # Newest first, across pages: no event twice, none left out.
    size = count['default']
    seen = [entry['email'] for page in (1, 2, 3)
            for entry in get(f'/events?page={page}')['entries']]
    assert seen == [f'user{n}@example.org' for n in range(ROWS)]
    assert size * 3 >= ROWS


@pytest.mark.parametrize('query, named', [
    ('count=0', 'count'),
    (f'count={10**25}', 'count'),
    ('count=501', 'count'),
    ('count=-1', 'count'),
    ('count=1.5', 'count'),
    ('count=ten', 'count'),
    ('count=', 'count'),
    (f'page={10**25}', 'page'),
    ('page=0', 'page'),
    ('page=-3', 'page'),
    ('page=2.0', 'page'),
    (f"page={'9' * 4000}&count=1", 'page'),
])
def test_paging_out_of_range_is_400(mlist, query, named):
    for path in COLLECTIONS:
        response = call('GET', f'{path}?{query}')
        assert response.status_code == 400, (path, query)
        text = description(response)
        assert f'"{named}"' in text, text
        assert 'expected an integer' in text, text
        assert len(text) < FEW_HUNDRED


# Request bodies.

def _nested(depth: int, kind: str) -> str:
    if kind == 'list':
        return '[' * depth + ']' * depth
    return '{"a": ' * depth + '1' + '}' * depth


@pytest.mark.parametrize('kind', ['list', 'object'])
@pytest.mark.parametrize('method', ['PATCH', 'PUT'])
def test_deeply_nested_json_is_400(mlist, method, kind):
    before = get(SETTINGS)
    body = '{"weights": ' + _nested(100_000, kind) + '}'
    response = call(method, SETTINGS, data=body,
                    headers={'Content-Type': 'application/json'})
    assert response.status_code == 400, response.text[:300]
    assert 'nested too deeply' in description(response)
    assert get(SETTINGS) == before


@pytest.mark.parametrize('encoding', ['json', 'data'])
def test_huge_values_are_not_echoed(mlist, encoding):
    length = 900_000
    for body, echoed in (
            ({'bounce_score_threshold': 'x' * length}, 'x' * 100),
            ({'y' * length: '1'}, 'Unknown attribute: ' + 'y' * 100)):
        response = call('PATCH', SETTINGS, **{encoding: body})
        assert response.status_code == 400
        assert len(response.content) < FEW_HUNDRED * 2
        text = description(response)
        assert echoed in text
        assert str(length) in text
    # Short values are still shown whole.
    response = call('PATCH', SETTINGS,
                    **{encoding: {'bounce_score_threshold': 'many'}})
    assert description(response).startswith(
        "bounce_score_threshold: invalid value 'many': expected")


def _raw_patch(headers: str, body_start: bytes) -> bytes:
    """Send a PATCH announcing a body but only `body_start` of it; what
    the server answers (it must not wait for the rest)."""
    url = urlsplit(base_url())
    credentials = b64encode(':'.join(AUTH).encode()).decode()
    request = (f'PATCH {url.path}{SETTINGS} HTTP/1.1\r\n'
               f'Host: {url.netloc}\r\n'
               f'Authorization: Basic {credentials}\r\n'
               f'{headers}\r\n').encode() + body_start
    with socket.create_connection((url.hostname, url.port),
                                  timeout=30) as connection:
        connection.sendall(request)
        answer = b''
        while b'\r\n\r\n' not in answer or not answer.endswith(b'}'):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_bodies_over_the_limit_are_refused_unread(mlist):
    limit = get('/openapi.json')['paths'][
        '/plugins/bounces' + '/lists/{list}/settings']['patch'][
        'responses']['413']['description']
    size = 50 * 1024 * 1024
    # Announced 50 MB, sent a few bytes: answered at once, not read.
    answer = _raw_patch('Content-Type: application/json\r\n'
                        f'Content-Length: {size}\r\n', b'{"weights": "')
    status, _, rest = answer.partition(b'\r\n')
    assert status.split()[1] == b'413', answer[:300]
    refusal = json.loads(rest.partition(b'\r\n\r\n')[2])
    assert refusal['description'].rstrip('.') == limit.rstrip('.')
    # Form bodies are read by core before the plugin sees them, but still
    # refused.
    response = call('PATCH', SETTINGS,
                    data={'bounce_score_threshold': '7' * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert len(response.content) < FEW_HUNDRED
    assert get(SETTINGS)['bounce_score_threshold'] == 5


def test_etags_like_cores(mailman):
    """A tag is core's shape (a quoted SHA-1), the same for equal
    representations, whatever their key order, and differs otherwise."""
    import re
    from datetime import datetime

    from mailman_bounces.rest.helpers import etag
    when = datetime(2005, 8, 1, 7, 49, 23)
    first = {'id': 1, 'timestamp': when, 'email': 'anne@example.org'}
    same = {'email': 'anne@example.org', 'timestamp': when, 'id': 1}
    other = {**first, 'id': 2}
    shown = json.loads(etag(first))
    assert shown['timestamp'] == '2005-08-01T07:49:23'
    etag(same)
    etag(other)
    assert re.fullmatch(r'"[0-9a-f]{40}"', first['http_etag'])
    assert shown['http_etag'] == first['http_etag'] == same['http_etag']
    assert other['http_etag'] != first['http_etag']
