"""A list's bounce settings through REST: reading, PATCH and PUT with form
and JSON bodies, refusals that name the field and change nothing."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import make_list
from mailman_bounces.tests.test_rest_api import call, description, get

SETTINGS = '/lists/test.example.com/settings'
READ_ONLY = ('list_id', 'overridden', 'inherited', 'self_link', 'http_etag')


@pytest.fixture
def mlist(rest):
    return make_list()


def _list():
    """The list as it is in the database now."""
    from mailman.interfaces.listmanager import IListManager
    from zope.component import getUtility
    return getUtility(IListManager).get_by_list_id('test.example.com')


def _settings() -> dict:
    """The list's settings as the REST API encodes them (core's encoder)."""
    import json

    from mailman.rest.helpers import ExtendedEncoder

    from mailman_bounces.app.settings import get_settings
    return json.loads(json.dumps(get_settings(_list()), cls=ExtendedEncoder))


def _writable(content: dict) -> dict:
    return {name: value for name, value in content.items()
            if name not in READ_ONLY}


def test_every_setting_and_where_it_comes_from(mlist):
    from mailman_bounces.policy.settings import RESETTABLE
    content = get(SETTINGS)
    assert _writable(content) == _settings()
    assert content['bounce_score_threshold'] == 5
    assert content['bounce_info_stale_after'] == '7d'
    assert content['forward_unrecognized_bounces_to'] == 'administrators'
    assert content['score_mode'] == 'mailman'
    assert content['weights']['userunknown'] == 1.0
    assert content['list_id'] == 'test.example.com'
    assert content['overridden'] == []
    assert content['inherited'] == list(RESETTABLE)
    assert content['self_link'].endswith(
        '/plugins/bounces/lists/test.example.com/settings')
    # The posting address names the list too.
    assert get('/lists/test@example.com/settings') == content


def test_unknown_list_is_404(mlist):
    for method in ('GET', 'PATCH', 'PUT'):
        for name in ('nope.example.com', 'nope@example.com'):
            assert call(method, f'/lists/{name}/settings').status_code == 404


def test_patch_with_a_form(mlist):
    response = call('PATCH', SETTINGS, data={
        'score_mode': 'sympa', 'bounce_score_threshold': '3',
        'process_bounces': 'no', 'probe_wait': '2d12h'})
    assert response.status_code == 204, response.text
    content = get(SETTINGS)
    # Durations are shown like core shows its own: days, then seconds.
    assert (content['score_mode'], content['bounce_score_threshold'],
            content['process_bounces'], content['probe_wait']) == (
        'sympa', 3, False, '2d43200.0s')
    assert content['overridden'] == ['score_mode', 'probe_wait']
    assert 'score_mode' not in content['inherited']
    # Core's own settings stay on the mailing list, where Postorius looks.
    assert _list().bounce_score_threshold == 3
    assert _list().process_bounces is False


def test_patch_with_json_merges_weights(mlist):
    response = call('PATCH', SETTINGS, json={
        'weights': {'userunknown': 2, 'authfailure': 0.5},
        'score_threshold': 2.5, 'failover': False})
    assert response.status_code == 204, response.text
    content = get(SETTINGS)
    assert content['weights']['userunknown'] == 2.0
    assert content['weights']['authfailure'] == 0.5
    assert content['weights']['hostunknown'] == 1.0
    assert (content['score_threshold'], content['failover']) == (2.5, False)
    call('PATCH', SETTINGS, data={'weights': 'mailboxfull=0'})
    weights = get(SETTINGS)['weights']
    assert (weights['userunknown'], weights['mailboxfull']) == (2.0, 0.0)


@pytest.mark.parametrize('changes, field, why', [
    ({'bounce_score_threshold': '-1'}, 'bounce_score_threshold',
     'an integer from 0 to 2147483647'),
    ({'score_mode': 'strict'}, 'score_mode', 'one of: mailman, sympa'),
    # Choices are exact, like core's enum names.
    ({'score_mode': 'Sympa'}, 'score_mode', 'one of: mailman, sympa'),
    ({'process_bounces': 'perhaps'}, 'process_bounces', 'a boolean'),
    # Mailman's notation: no bare numbers, units in order, no blanks.
    ({'probe_wait': '3'}, 'probe_wait', 'a duration'),
    ({'probe_wait': '12h1d'}, 'probe_wait', 'a duration'),
    ({'probe_wait': ' 3d'}, 'probe_wait', 'a duration'),
    ({'weights': 'userunknown=1,,hasmoved=1'}, 'weights', 'reasons among'),
    ({'probe_wait': 'soon'}, 'probe_wait', 'a duration'),
    ({'retention': '99999999999d'}, 'retention', 'zero to 36500 days'),
    ({'retention': '400000d'}, 'retention', 'zero to 36500 days'),
    ({'weights': 'userunknown=11'}, 'weights', 'from 0 to 10'),
    ({'weights': 'nosuchreason=1'}, 'weights', 'reasons among'),
    ({'forward_unrecognized_bounces_to': 'nobody'},
     'forward_unrecognized_bounces_to', 'site_owner'),
    ({'sympa_level1': '80'}, 'sympa_level1', 'no higher than sympa_level2'),
    ({'sympa_level2': '40', 'sympa_level1': '45'}, 'sympa_level1',
     'no higher than sympa_level2'),
    ({'bounce_score_threshold': ''}, 'bounce_score_threshold', 'integer'),
])
def test_a_bad_value_is_refused_and_nothing_is_applied(mlist, changes, field,
                                                       why):
    before = _settings()
    # Valid changes in the same request are not applied either.
    body = {'score_mode': 'sympa', 'bounce_score_threshold': '7',
            'complaint_action': 'unsubscribe', **changes}
    for encoding in ('data', 'json'):
        response = call('PATCH', SETTINGS, **{encoding: body})
        assert response.status_code == 400
        assert description(response).startswith(field + ': ')
        assert why in description(response)
        assert _settings() == before
        assert get(SETTINGS)['overridden'] == []


def test_read_only_and_malformed_bodies(mlist):
    response = call('PATCH', SETTINGS, data={'list_id': 'x.example.com'})
    assert response.status_code == 400
    assert description(response) == 'Read-only attribute: list_id'
    response = call('PATCH', SETTINGS, data='{"score_mode": ',
                    headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    for body in ('["score_mode", "sympa"]', 'null', 'false', '[]'):
        # Not taken for an empty object, as core's get_request_params does.
        response = call('PATCH', SETTINGS, data=body,
                        headers={'Content-Type': 'application/json'})
        assert response.status_code == 400, body
        assert 'object' in description(response)
    response = call('PATCH', SETTINGS,
                    data='score_mode=sympa&score_mode=mailman',
                    headers={'Content-Type':
                             'application/x-www-form-urlencoded'})
    assert response.status_code == 400
    assert 'score_mode' in description(response)
    assert get(SETTINGS)['overridden'] == []


def test_an_empty_patch_changes_nothing(mlist):
    before = get(SETTINGS)
    assert call('PATCH', SETTINGS).status_code == 204
    assert get(SETTINGS) == before


@pytest.mark.parametrize('encoding, empty', [
    ('data', ''), ('json', ''), ('json', None)])
def test_empty_goes_back_to_the_site_default(mlist, encoding, empty):
    call('PATCH', SETTINGS, json={
        'complaint_action': 'unsubscribe', 'sympa_level1_action': 'probe',
        'weights': {'userunknown': 3}, 'probe_wait': '1d'})
    assert set(get(SETTINGS)['overridden']) == {
        'complaint_action', 'sympa_level1_action', 'weights', 'probe_wait'}
    response = call('PATCH', SETTINGS, **{encoding: {
        'complaint_action': empty, 'sympa_level1_action': empty,
        'weights': empty}})
    assert response.status_code == 204, response.text
    content = get(SETTINGS)
    assert content['overridden'] == ['probe_wait']
    # The site defaults, not the words "none".
    assert content['complaint_action'] == 'none'
    assert content['sympa_level1_action'] == 'notify_owner'
    assert content['weights']['userunknown'] == 1.0


def test_put_sets_everything(mlist):
    content = _writable(get(SETTINGS))
    content.update(bounce_you_are_disabled_warnings=1, score_mode='sympa',
                   weights={'userunknown': 4})
    response = call('PUT', SETTINGS, json=content)
    assert response.status_code == 204, response.text
    after = get(SETTINGS)
    assert after['bounce_you_are_disabled_warnings'] == 1
    assert after['score_mode'] == 'sympa'
    assert after['weights']['userunknown'] == 4.0
    # PUT replaces the list's weights: only the ones given are the list's.
    call('PATCH', SETTINGS, json={'weights': {'hostunknown': 2}})
    content = _writable(get(SETTINGS))
    content['weights'] = {'mailboxfull': 1}
    assert call('PUT', SETTINGS, json=content).status_code == 204
    weights = get(SETTINGS)['weights']
    assert (weights['userunknown'], weights['hostunknown'],
            weights['mailboxfull']) == (1.0, 1.0, 1.0)


def test_put_with_a_form(mlist):
    content = {name: ('yes' if value is True else 'no' if value is False
                      else '' if value is None else value)
               for name, value in _writable(get(SETTINGS)).items()}
    content['weights'] = 'userunknown=2'
    content['bounce_score_threshold'] = '9'
    response = call('PUT', SETTINGS, data=content)
    assert response.status_code == 204, response.text
    after = get(SETTINGS)
    assert after['bounce_score_threshold'] == 9
    assert after['weights']['userunknown'] == 2.0


def test_put_needs_every_setting(mlist):
    content = _writable(get(SETTINGS))
    del content['retention'], content['weights']
    content['score_mode'] = 'sympa'
    response = call('PUT', SETTINGS, json=content)
    assert response.status_code == 400
    assert description(response) == 'Missing Parameter: retention, weights'
    assert get(SETTINGS)['score_mode'] == 'mailman'


def test_put_with_a_bad_value_changes_nothing(mlist):
    before = get(SETTINGS)
    content = _writable(before)
    content.update(score_mode='sympa', sympa_min_count=0)
    response = call('PUT', SETTINGS, json=content)
    assert response.status_code == 400
    assert description(response).startswith('sympa_min_count: ')
    assert get(SETTINGS) == before


def test_other_methods(mlist):
    for method in ('POST', 'DELETE'):
        assert call(method, SETTINGS).status_code == 405


def test_a_reset_and_a_change_are_judged_together(mlist):
    # Resetting sympa_level2 puts it back to 75: too low for the new
    # sympa_level1, so neither is made.
    assert call('PATCH', SETTINGS, json={'sympa_level2': 90}).status_code == 204
    response = call('PATCH', SETTINGS, json={'sympa_level2': None,
                                             'sympa_level1': 80})
    assert response.status_code == 400
    assert 'no higher than sympa_level2 (75.0)' in description(response)
    content = get(SETTINGS)
    assert (content['sympa_level1'], content['sympa_level2']) == (45.0, 90.0)
    assert content['overridden'] == ['sympa_level2']


# Like core's list configuration (/3.1/lists/<list>/config).

def _core(rest_url: str, method: str, path: str = '', **kws):
    """Call core's configuration resource of the test list."""
    import requests

    from mailman_bounces.tests.helpers import commit
    from mailman_bounces.tests.test_rest_api import AUTH
    response = requests.request(
        method, f'{rest_url}/lists/test.example.com/config{path}',
        auth=AUTH, timeout=30, **kws)
    commit()
    return response


def test_unknown_and_read_only_names_are_refused_like_core(mlist, rest_url):
    for method, body, expected in (
            ('PATCH', {'colour': 'blue'}, 'Unknown attribute: colour'),
            ('PUT', {'colour': 'blue', 'size': '3'},
             'Unexpected parameters: colour, size')):
        ours = call(method, SETTINGS, data=body)
        assert (ours.status_code, description(ours)) == (400, expected)
        core = _core(rest_url, method, data=body)
        assert (core.status_code, description(core)) == (400, expected)
    # Each resource has its own read-only attributes.
    ours = call('PATCH', SETTINGS, data={'list_id': 'x'})
    assert description(ours) == 'Read-only attribute: list_id'
    core = _core(rest_url, 'PATCH', data={'fqdn_listname': 'x'})
    assert description(core) == 'Read-only attribute: fqdn_listname'
    assert get(SETTINGS)['overridden'] == []


@pytest.mark.parametrize('name, value', [
    ('bounce_score_threshold', '0'),
    ('bounce_score_threshold', '2000'),
    ('bounce_you_are_disabled_warnings', '250'),
    ('bounce_info_stale_after', '1d12h'),
    ('bounce_you_are_disabled_warnings_interval', '0.5d'),
    ('process_bounces', 'disabled'),
])
def test_what_core_sets_can_be_put_back(mlist, rest_url, name, value):
    # Set through core (as Postorius does), then read here and written
    # back whole: both with JSON and with a form.
    assert _core(rest_url, 'PATCH', data={name: value}).status_code == 204
    shown = get(SETTINGS)
    assert shown[name] == _core(rest_url, 'GET', f'/{name}').json()[name]
    writable = _writable(shown)
    assert call('PUT', SETTINGS, json=writable).status_code == 204
    assert _writable(get(SETTINGS)) == writable
    form = {key: ('true' if value is True else 'false' if value is False
                  else '' if value is None else value)
            for key, value in writable.items()}
    form['weights'] = ', '.join(f'{reason}={weight}' for reason, weight
                                in writable['weights'].items())
    response = call('PUT', SETTINGS, data=form)
    assert response.status_code == 204, response.text
    assert _writable(get(SETTINGS)) == writable


def test_durations_are_shown_like_core_shows_them(mlist, rest_url):
    # Core's encoder writes whole days, then the rest in seconds.
    response = call('PATCH', SETTINGS, data={
        'bounce_info_stale_after': '1d12h', 'probe_wait': '2w'})
    assert response.status_code == 204, response.text
    shown = get(SETTINGS)
    assert shown['bounce_info_stale_after'] == '1d43200.0s'
    assert shown['probe_wait'] == '14d'
    core = _core(rest_url, 'GET', '/bounce_info_stale_after').json()
    assert core['bounce_info_stale_after'] == '1d43200.0s'


@pytest.mark.parametrize('word, expected', [
    ('true', True), ('YES', True), ('1', True), ('On', True),
    ('enabled', True), ('Enable', True),
    ('false', False), ('no', False), ('0', False), ('OFF', False),
    ('Disabled', False), ('disable', False)])
def test_booleans_are_read_like_core_reads_them(mlist, rest_url, word,
                                                expected):
    for name in ('process_bounces', 'failover'):
        # The opposite first, so that the word changes something.
        call('PATCH', SETTINGS, json={name: not expected})
        response = call('PATCH', SETTINGS, data={name: word})
        assert response.status_code == 204, response.text
        assert get(SETTINGS)[name] is expected
    assert _core(rest_url, 'PATCH', data={
        'process_bounces': word}).status_code == 204


@pytest.mark.parametrize('value', ['maybe', ' yes', 'y', 't', 1])
def test_other_booleans_are_refused(mlist, value):
    response = call('PATCH', SETTINGS, json={'failover': value})
    assert response.status_code == 400
    assert description(response).startswith('failover: ')
