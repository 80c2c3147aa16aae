"""A list's bounce settings: core's stay core's, the plugin's follow the
site until changed, and a bad value is refused whole."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailman_bounces.tests.helpers import commit, make_list


@pytest.fixture
def mlist(mailman):
    return make_list()


def test_settings_show_core_and_plugin_values(mlist):
    from mailman.interfaces.bounce import UnrecognizedBounceDisposition

    from mailman_bounces.app.settings import get_settings
    settings = get_settings(mlist)
    assert settings['bounce_score_threshold'] == 5
    assert settings['bounce_info_stale_after'] == timedelta(days=7)
    assert settings['forward_unrecognized_bounces_to'] == (
        UnrecognizedBounceDisposition.administrators)
    assert settings['score_mode'] == 'mailman'
    assert settings['retention'] == timedelta(days=90)
    assert settings['weights']['userunknown'] == 1.0
    assert settings['weights']['authfailure'] == 0.0


def test_changing_core_settings_changes_the_list(mlist):
    from mailman_bounces.app.settings import change_settings
    change_settings(mlist, {'bounce_score_threshold': '3',
                            'bounce_you_are_disabled_warnings_interval': '2w',
                            'forward_unrecognized_bounces_to': 'site_owner'})
    commit()
    assert mlist.bounce_score_threshold == 3
    assert mlist.bounce_you_are_disabled_warnings_interval == timedelta(
        days=14)
    assert mlist.forward_unrecognized_bounces_to.name == 'site_owner'


def test_plugin_settings_follow_the_site_until_changed(mlist):
    from mailman_bounces.app.settings import (
        change_settings,
        get_settings,
        overridden_settings,
        policy_for,
    )
    from mailman_bounces.config import load_site_config, set_site_config
    change_settings(mlist, {'complaint_action': 'disable'})
    commit()
    previous = set_site_config(load_site_config(
        '[list_defaults]\nretention: 30d\ncomplaint_action: unsubscribe\n'))
    try:
        settings = get_settings(mlist)
        assert settings['retention'] == timedelta(days=30)  # the site's
        assert settings['complaint_action'] == 'disable'  # the list's
        assert overridden_settings(mlist) == ['complaint_action']
        assert policy_for(mlist).retention == timedelta(days=30)
    finally:
        set_site_config(previous)


def test_empty_value_goes_back_to_the_site_default(mlist):
    from mailman_bounces.app.settings import change_settings, get_settings
    change_settings(mlist, {'retention': '10d'})
    change_settings(mlist, {'retention': ''})
    commit()
    assert get_settings(mlist)['retention'] == timedelta(days=90)


@pytest.mark.parametrize('changes, field, allowed', [
    # Core's columns hold 32-bit integers.
    ({'bounce_score_threshold': 'many'}, 'bounce_score_threshold',
     'an integer from 0 to 2147483647'),
    ({'bounce_score_threshold': '-1'}, 'bounce_score_threshold',
     'an integer from 0 to 2147483647'),
    ({'bounce_score_threshold': 2**31}, 'bounce_score_threshold',
     'an integer from 0 to 2147483647'),
    ({'score_mode': 'strict'}, 'score_mode', 'one of: mailman, sympa'),
    ({'retention': '-3d'}, 'retention', 'a duration'),
    # Mailman's notation: a bare number is no duration, units in order.
    ({'retention': '7'}, 'retention', 'a duration'),
    ({'retention': '12h1d'}, 'retention', 'a duration'),
    ({'weights': 'userunknown=11'}, 'weights', 'weights from 0 to 10'),
    ({'weights': 'nosuchreason=1'}, 'weights', 'reasons among'),
    ({'process_bounces': 'perhaps'}, 'process_bounces', 'a boolean'),
    ({'forward_unrecognized_bounces_to': 'nobody'},
     'forward_unrecognized_bounces_to', 'one of: discard'),
    ({'nonsense': '1'}, 'nonsense', 'one of the bounce settings'),
    ({'sympa_level1': '90', 'sympa_level2': '50'}, 'sympa_level1',
     'no higher than sympa_level2'),
])
def test_bad_values_are_refused_with_the_field_and_why(
        mlist, changes, field, allowed):
    from mailman_bounces.app.settings import SettingError, change_settings
    with pytest.raises(SettingError) as caught:
        change_settings(mlist, changes)
    assert caught.value.field == field
    assert allowed in str(caught.value)
    assert field in str(caught.value)


def test_nothing_is_half_applied(mlist):
    from mailman_bounces.app.settings import (
        SettingError,
        change_settings,
        get_settings,
    )
    before = get_settings(mlist)
    with pytest.raises(SettingError):
        change_settings(mlist, {'bounce_score_threshold': '2',
                                'complaint_action': 'disable',
                                'retention': 'forever'})
    commit()
    assert get_settings(mlist) == before
    assert mlist.bounce_score_threshold == 5


def test_weights_merge_unless_replaced(mlist):
    from mailman_bounces.app.settings import change_settings, get_settings
    change_settings(mlist, {'weights': 'mailboxfull=0.25'})
    change_settings(mlist, {'weights': {'expired': 0}})
    commit()
    weights = get_settings(mlist)['weights']
    assert weights['mailboxfull'] == 0.25 and weights['expired'] == 0.0
    change_settings(mlist, {'weights': 'hasmoved=0.5'}, replace_weights=True)
    commit()
    weights = get_settings(mlist)['weights']
    assert weights['mailboxfull'] == 0.5          # back to the site's
    assert weights['hasmoved'] == 0.5
