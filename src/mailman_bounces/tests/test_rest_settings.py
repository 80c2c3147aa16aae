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
    from mailman_bounces.app.settings import get_settings
    return get_settings(_list())


def _writable(content: dict) -> dict:
    return {name: value for name, value in content.items()
            if name not in READ_ONLY}


def test_every_setting_and_where_it_comes_from(mlist):
    from mailman_bounces.app.queries import RESETTABLE
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
    assert (content['score_mode'], content['bounce_score_threshold'],
            content['process_bounces'], content['probe_wait']) == (
        'sympa', 3, False, '2d12h')
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
    ({'bounce_score_threshold': '0'}, 'bounce_score_threshold',
     'an integer from 1 to 1000'),
    ({'score_mode': 'strict'}, 'score_mode', 'one of: mailman, sympa'),
    ({'process_bounces': 'perhaps'}, 'process_bounces', 'a boolean'),
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
    ({'colour': 'blue'}, 'colour', 'one of the bounce settings'),
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
    response = call('PATCH', SETTINGS, json=['score_mode', 'sympa'])
    assert response.status_code == 400
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
