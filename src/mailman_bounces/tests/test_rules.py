"""Custom classification rules: checking, matching, and their effect on
registration, through REST and ``mailman bounces rules``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from mailman_bounces.config import ConfigurationError, load_site_config
from mailman_bounces.policy.rules import RuleError, apply_rules, make_rule
from mailman_bounces.tests.helpers import make_list
from mailman_bounces.tests.samples import dsn


def _rule(**values):
    return make_rule('test', values)


@pytest.mark.parametrize('values,field,words', [
    ({'pattern': '(unclosed', 'effect': 'ignore'}, 'pattern', 'missing )'),
    # Beyond RE2's repetition limit.
    ({'pattern': 'a{1001}', 'effect': 'ignore'}, 'pattern', 'repetition'),
    # Within the limits one by one, beyond the memory budget together.
    ({'pattern': '((((a{100}){100}){100}){100})', 'effect': 'ignore'},
     'pattern', 'invalid or too complex'),
    ({'pattern': 'x' * 1001, 'effect': 'ignore'}, 'pattern', 'longer'),
    ({'effect': 'ignore'}, 'pattern', 'required'),
    ({'pattern': 'x', 'effect': 'delete'}, 'effect', 'one of'),
    ({'pattern': 'x', 'effect': 'ignore', 'field': 'subject'}, 'field',
     'one of'),
    ({'pattern': 'x', 'effect': 'set'}, 'reason', 'needs a reason'),
    ({'pattern': 'x', 'effect': 'set', 'reason': 'nosuch'}, 'reason',
     'one of the reasons'),
    ({'pattern': 'x', 'effect': 'set', 'severity': 'fatal'}, 'severity',
     'one of'),
    ({'pattern': 'x', 'effect': 'ignore', 'reason': 'userunknown'},
     'reason', 'only a set rule'),
    ({'pattern': 'x', 'effect': 'ignore', 'colour': 'red'}, 'colour',
     'Unknown attribute'),
])
def test_refused_rules_name_the_field(values, field, words):
    with pytest.raises(RuleError) as error:
        _rule(**values)
    assert error.value.field == field
    assert words in error.value.message


def test_pathological_pattern_stays_linear():
    # A backtracking engine needs about 2**40 steps for this; RE2 does not.
    rule = _rule(pattern='(a+)+$', effect='ignore', field='text')
    outcome = apply_rules([rule], {'text': 'a' * 40 + 'b'})
    assert outcome.rule is None


def test_first_matching_rule_wins():
    rules = [_rule(pattern='quota', effect='set', reason='mailboxfull',
                   severity='soft'),
             _rule(pattern='.', effect='not_bounce')]
    facts = {'diagnostic': '552 over quota', 'status': '5.2.2'}
    outcome = apply_rules(rules, facts)
    assert outcome.rule is rules[0]
    assert outcome.changes == {'reason': 'mailboxfull', 'severity': 'soft'}
    assert apply_rules(rules, {'diagnostic': 'other'}).registered is False
    assert apply_rules(rules, {}).rule is None
    ignore = _rule(pattern=r'^5\.7\.', field='status', effect='ignore')
    assert apply_rules([ignore], facts).rule is None
    assert apply_rules([ignore], {'status': '5.7.1'}).changes == {
        'severity': 'none'}


def test_site_rules_in_the_configuration():
    settings = load_site_config("""
[rule.quota]
pattern: (?i)over quota
effect: set
reason: mailboxfull
severity: soft
comment: our relay says quota for full mailboxes
""", 'bounces.cfg')
    [rule] = settings.rules
    assert (rule.name, rule.field, rule.reason) == (
        'site:quota', 'diagnostic', 'mailboxfull')
    with pytest.raises(ConfigurationError) as error:
        load_site_config('[rule.bad]\npattern: (x\neffect: ignore\n', 'b')
    assert str(error.value).startswith("[rule.bad]pattern: invalid value '(x'")


# Registration.

def _register(mlist, message: str):
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    msg = specialized_message_from_string(message)
    config.switchboards['bounces'].enqueue(msg, listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()


def _events():
    from mailman_bounces.tests.helpers import events
    return events()


QUOTA = '552 5.2.2 <{}>: over quota, try later'


def test_list_rules_change_what_is_registered(mailman):
    from mailman_bounces.app.rules import add_rule
    from mailman_bounces.tests.helpers import commit
    mlist = make_list(members=['anne@example.org', 'bart@example.org',
                               'cris@example.org'])
    quota = add_rule(mlist.list_id, {
        'pattern': 'over quota', 'effect': 'set', 'reason': 'mailboxfull',
        'severity': 'soft'})
    relay = add_rule(mlist.list_id, {
        'pattern': r'relay\.example\.net', 'field': 'remote_mta',
        'effect': 'not_bounce'})
    ignore = add_rule(mlist.list_id, {
        'pattern': '^5\\.7\\.', 'field': 'status', 'effect': 'ignore'})
    commit()
    _register(mlist, dsn('anne@example.org', status='5.1.1',
                         diagnostic=QUOTA.format('anne@example.org')))
    _register(mlist, dsn('bart@example.org', status='5.7.1',
                         diagnostic='550 5.7.1 refused'))
    _register(mlist, dsn('cris@example.org').replace(
        'mx.remote.example.org', 'relay.example.net'))
    found = {e.email: (e.reason, e.severity, e.rule) for e in _events()}
    assert found == {
        'anne@example.org': ('mailboxfull', 'soft', f'list:{quota.id}'),
        'bart@example.org': (found['bart@example.org'][0], 'none',
                             f'list:{ignore.id}'),
    }
    assert relay.id


# (member, status, diagnostic, remote MTA) of one failure each, and what
# the rules below make of it: by diagnostic, by remote MTA, by status.
RULED_FAILURES = [
    ('anne@example.org', '5.1.1', '552 over quota, try later',
     'mx.remote.example.org'),
    ('bart@example.org', '5.7.1', '550 5.7.1 refused',
     'mx.remote.example.org'),
    ('cris@example.org', '5.1.1', '550 5.1.1 unknown', 'relay.example.net'),
]


def _by_mail(mlist, email: str, status: str, diagnostic: str,
             remote_mta: str) -> None:
    _register(mlist, dsn(email, status=status, diagnostic=diagnostic)
              .replace('mx.remote.example.org', remote_mta))


def _by_webhook(mlist, email: str, status: str, diagnostic: str,
                remote_mta: str) -> None:
    # Mailgun: the one provider whose events name all three fields.
    import json
    from datetime import UTC

    from mailman.utilities.datetime import now

    from mailman_bounces.app.webhooks import accept
    from mailman_bounces.config import set_site_config
    from mailman_bounces.esp.mailgun import sign
    settings = load_site_config(f"""
[webhooks]
enabled: yes
[webhook.mg]
provider: mailgun
list: {mlist.list_id}
secret: signing-key
""")
    stamp = str(int(now().replace(tzinfo=UTC).timestamp()))
    body = json.dumps({
        'signature': {'timestamp': stamp, 'token': f'token-{email}',
                      'signature': sign('signing-key', stamp,
                                        f'token-{email}')},
        'event-data': {
            'event': 'failed', 'id': f'id-{email}', 'severity': 'permanent',
            'recipient': email, 'delivery-status': {
                'message': diagnostic, 'enhanced-code': status,
                'mx-host': remote_mta}}}).encode()
    previous = set_site_config(settings)
    try:
        assert accept('mailgun', 'mg', {}, body).status == 200
    finally:
        set_site_config(previous)


@pytest.mark.parametrize('arrive', [_by_mail, _by_webhook])
def test_list_rules_apply_however_the_bounce_arrives(mailman, arrive):
    from mailman_bounces.app.rules import add_rule
    from mailman_bounces.tests.helpers import commit
    mlist = make_list(members=['anne@example.org', 'bart@example.org',
                               'cris@example.org'])
    quota = add_rule(mlist.list_id, {
        'pattern': 'over quota', 'effect': 'set', 'reason': 'mailboxfull',
        'severity': 'soft'})
    add_rule(mlist.list_id, {
        'pattern': r'relay\.example\.net', 'field': 'remote_mta',
        'effect': 'not_bounce'})
    ignore = add_rule(mlist.list_id, {
        'pattern': '^5\\.7\\.', 'field': 'status', 'effect': 'ignore'})
    commit()
    for failure in RULED_FAILURES:
        arrive(mlist, *failure)
    found = {e.email: (e.severity, e.rule) for e in _events()}
    assert found == {'anne@example.org': ('soft', f'list:{quota.id}'),
                     'bart@example.org': ('none', f'list:{ignore.id}')}
    assert [e.reason for e in _events() if e.email == 'anne@example.org'
            ] == ['mailboxfull']


def test_site_rules_apply_before_the_lists(mailman):
    from mailman_bounces.app.rules import add_rule
    from mailman_bounces.config import set_site_config, site_config
    from mailman_bounces.tests.helpers import commit
    mlist = make_list(members=['anne@example.org'])
    add_rule(mlist.list_id, {'pattern': 'quota', 'effect': 'not_bounce'})
    commit()
    site = make_rule('site:quota', {'pattern': 'quota', 'effect': 'set',
                                    'severity': 'hard'})
    previous = set_site_config(replace(site_config(), rules=(site,)))
    try:
        _register(mlist, dsn('anne@example.org', status='4.2.2',
                             diagnostic=QUOTA.format('anne@example.org')))
    finally:
        set_site_config(previous)
    [event] = _events()
    assert (event.severity, event.rule) == ('hard', 'site:quota')


# REST and the CLI.

def test_rules_through_rest(rest):
    from mailman_bounces.tests.test_rest_api import call, description, get
    make_list()
    path = '/lists/test.example.com/rules'
    assert get(path)['entries'] == []
    response = call('POST', path, json={
        'pattern': 'over quota', 'effect': 'set', 'reason': 'mailboxfull',
        'comment': 'our relay'})
    assert response.status_code == 201, response.text
    location = response.headers['Location']
    [rule] = get(path)['entries']
    assert rule['pattern'] == 'over quota'
    assert rule['field'] == 'diagnostic'
    assert rule['name'] == f"list:{rule['id']}"
    assert rule['self_link'] == location
    assert get(f"{path}/{rule['id']}")['comment'] == 'our relay'
    refused = call('POST', path, json={'pattern': '(a', 'effect': 'ignore'})
    assert refused.status_code == 400
    assert description(refused).startswith('pattern: invalid or too complex')
    refused = call('POST', path, data={'pattern': 'x', 'effect': 'nope'})
    assert refused.status_code == 400
    assert description(refused).startswith('effect: one of')
    assert len(get(path)['entries']) == 1
    assert call('DELETE', f"{path}/{rule['id']}").status_code == 204
    assert call('GET', f"{path}/{rule['id']}").status_code == 404
    assert call('GET', '/lists/nope.example.com/rules').status_code == 404


def test_a_list_holds_at_most_max_list_rules(rest):
    from mailman_bounces.app.rules import add_rule
    from mailman_bounces.policy.rules import MAX_LIST_RULES
    from mailman_bounces.tests.helpers import commit
    from mailman_bounces.tests.test_rest_api import call, description, get
    mlist = make_list()
    for number in range(MAX_LIST_RULES):
        add_rule(mlist.list_id, {'pattern': f'relay {number}',
                                 'effect': 'ignore'})
    commit()
    path = '/lists/test.example.com/rules'
    refused = call('POST', path, json={'pattern': 'one more',
                                       'effect': 'ignore'})
    assert refused.status_code == 400
    assert description(refused).startswith(
        f'rules: the list has {MAX_LIST_RULES} rules')
    assert get(path + f'?count={MAX_LIST_RULES}')['total_size'] == (
        MAX_LIST_RULES)
    # Another list is not held back by this one's.
    other = make_list('other@example.com')
    add_rule(other.list_id, {'pattern': 'one more', 'effect': 'ignore'})


def _cli(*args):
    from mailman_bounces.commands.cli_bounces import bounces
    return CliRunner().invoke(bounces, ['rules', *args])


def test_rules_cli(mailman, tmp_path):
    make_list(members=['anne@example.org'])
    result = _cli('add', '-l', 'test@example.com', '--pattern', 'relay code 4711',
                  '--effect', 'set', '--reason', 'mailboxfull',
                  '--severity', 'soft')
    assert result.exit_code == 0, result.output
    [number] = [word.split(':')[1] for word in result.output.split()
                if word.startswith('list:')]
    shown = _cli('show', '-l', 'test.example.com').output
    assert shown == (f'list:{number}: diagnostic ~ /relay code 4711/ -> set '
                     'reason=mailboxfull severity=soft\n')
    message = tmp_path / 'bounce.eml'
    message.write_text(dsn('anne@example.org', status='5.1.1',
                           diagnostic='550 5.1.1 User unknown, relay code 4711'))
    tested = _cli('test', '-l', 'test.example.com', str(message))
    assert tested.output == (
        f'anne@example.org: userunknown/hard -> list:{number} (set): '
        'mailboxfull/soft\n')
    # As the issue writes it: rules test LIST FILE.
    for spec in ('test.example.com', 'test@example.com'):
        positional = _cli('test', spec, str(message))
        assert positional.exit_code == 0, positional.output
        assert positional.output == tested.output
    for wrong in ([str(message)], ['-l', 'test.example.com',
                                   'test.example.com', str(message)],
                  ['test.example.com', str(tmp_path / 'missing.eml')]):
        assert _cli('test', *wrong).exit_code == 2
    assert 'No such list' in _cli('test', 'nope.example.com',
                                  str(message)).output
    refused = _cli('add', '-l', 'test.example.com', '--pattern', 'a{5000}',
                   '--effect', 'ignore')
    assert refused.exit_code == 2
    assert 'pattern: invalid or too complex' in refused.output
    assert _cli('delete', '-l', 'test.example.com', number).exit_code == 0
    assert _cli('show', '-l', 'test.example.com').output == 'No rules\n'
    assert _cli('delete', '-l', 'test.example.com', number).exit_code == 2
    # Nothing was registered by the test.
    assert _events() == []
