"""The ``mailman bounces`` command: its subcommands with click's runner on
the real layers, and the real executable on a fresh instance."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    make_list,
    member,
    run_pass,
    state,
)
from mailman_bounces.tests.test_rest_api import (
    ANNE,
    BART,
    CRIS,
    DAVE,
    MAILBOX_FULL,
    populate,
)


def run(*args: str):
    from mailman_bounces.commands.cli_bounces import bounces
    return CliRunner().invoke(bounces, args)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    """The error output of a command that must fail as a usage error."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    return result.output


@pytest.fixture
def world(mailman):
    return populate()


def test_mailman_finds_the_command(mailman):
    from mailman.interfaces.command import ICLISubCommand
    from mailman.utilities.modules import add_components

    from mailman_bounces.commands.cli_bounces import bounces
    commands = {}
    add_components('commands', ICLISubCommand, commands)
    assert commands['bounces'].command is bounces
    output = ok('--help')
    for name in ('events', 'status', 'reset', 'settings', 'process',
                 'report', 'freezes'):
        assert f'  {name} ' in output


@pytest.mark.parametrize('command, required', [
    ('events', False), ('status', True), ('reset', True),
    ('settings', True), ('report', False)])
def test_every_subcommand_takes_the_list_as_core_does(mailman, command,
                                                      required):
    # Like core's delmembers, digests and notify: --list/-l LISTSPEC.
    make_list(members=[ANNE])
    assert '-l, --list LISTSPEC' in ok(command, '--help')
    args = [ANNE] if command == 'reset' else []
    if required:
        assert "Missing option '--list' / '-l'" in refused(command, *args)
    for spec in ('test@example.com', 'test.example.com'):
        assert run(command, '-l', spec, *args).exit_code == 0
        assert run(command, '--list', spec, *args).exit_code == 0


# events

def _event_ids(output: str) -> list[int]:
    return [int(line.split()[0]) for line in output.splitlines()[1:]
            if line.split()[0].isdigit()]


def test_events_table(world):
    lines = ok('events').splitlines()
    assert lines[0].split() == ['ID', 'TIME', 'LIST', 'ADDRESS', 'KIND',
                                'SEVERITY', 'REASON', 'EVIDENCE', 'OUTCOME']
    assert _event_ids('\n'.join(lines)) == list(range(9, 0, -1))
    assert lines[-1].split() == ['1', '2005-08-01', '07:49:23',
                                 'test.example.com', ANNE, 'bounce', 'hard',
                                 'userunknown', 'verified', 'scored']


@pytest.mark.parametrize('args, expected', [
    (('--list', 'test@example.com', '--severity', 'soft'), [3, 2]),
    (('-l', 'other.example.com'), []),
    (('--address', BART), [2]),
    (('--domain', 'outage.example.net', '--unprocessed'), [9, 8, 7, 6, 5]),
    (('--processed', '--kind', 'complaint'), [4]),
    (('--reason', 'authfailure', '--outcome', 'ignored'), [3]),
    (('--context', 'probe'), []),
    (('--since', '2005-08-01T07:49:23', '--until', '2005-08-01'),
     list(range(9, 0, -1))),
    (('--until', '2005-07-31'), []),
    (('--evidence', 'verified'), list(range(9, 0, -1))),
    (('--evidence', 'forged'), []),
])
def test_event_filters(world, args, expected):
    assert _event_ids(ok('events', *args)) == expected


def test_events_limit_and_json(world):
    output = ok('events', '--limit', '2')
    assert _event_ids(output) == [9, 8]
    assert output.splitlines()[-1] == '(2 of 9 events; see --limit)'
    found = json.loads(ok('events', '--json', '--address', ANNE))
    assert len(found) == 1
    assert found[0]['reason'] == 'userunknown'
    assert found[0]['timestamp'] == '2005-08-01T07:49:23'
    assert found[0]['context'] == 'normal'
    assert json.loads(ok('events', '--json', '--list', 'none.example.com')
                      ) == []
    assert ok('events', '-l', 'none.example.com') == 'No bounce events\n'


@pytest.mark.parametrize('args, message', [
    (('--since', 'yesterday'),
     "Invalid value for '--since': not an ISO 8601 date"),
    (('--until', '2005-02-30'),
     "Invalid value for '--until': not a valid date"),
    (('--reason', 'sadness'), "Invalid value for '--reason'"),
    (('--limit', '0'), "Invalid value for '--limit'"),
])
def test_bad_event_options(world, args, message):
    assert message in refused('events', *args)


# status and reset

@pytest.fixture
def disabled(mailman):
    """Anne disabled by bounces, Bart with half a point, Cris clean."""
    mlist = make_list(members=[ANNE, BART, CRIS], bounce_score_threshold=1)
    bounce(mlist, ANNE)
    bounce(mlist, BART, **MAILBOX_FULL)
    run_pass()
    return mlist


def test_status(disabled):
    lines = ok('status', '-l', 'test@example.com').splitlines()
    assert lines[0] == 'Test <test@example.com> (test.example.com)'
    assert lines[1] == ('Bounce processing: yes; score mode mailman, '
                        'threshold 1, stale after 7d; 3 warnings every 7d')
    assert lines[2] == 'Bouncing members: 2 of 3'
    assert lines[3].split() == ['ADDRESS', 'SCORE', 'DELIVERY', 'LAST',
                                'BOUNCE', 'REASON']
    assert lines[4].split() == [ANNE, '0', 'by_bounces', '2005-08-01',
                                '07:49:23', 'userunknown']
    assert lines[5].split() == [BART, '0.5', 'enabled', '2005-08-01',
                                '07:49:23', 'mailboxfull']
    assert len(lines) == 6


def test_status_of_an_unknown_list(mailman):
    assert 'Error: No such list: nope@example.com' in refused(
        'status', '--list', 'nope@example.com')


def test_reset(disabled):
    from mailman.interfaces.member import DeliveryStatus
    assert ok('reset', '-l', 'test.example.com', ANNE) == (
        f'Delivery to {ANNE} on test.example.com re-enabled; score cleared\n')
    anne = member(disabled, ANNE)
    assert anne.preferences.delivery_status == DeliveryStatus.enabled
    assert (anne.bounce_score, anne.total_warnings_sent) == (0, 0)
    assert ok('reset', '-l', 'test@example.com', BART.upper()) == (
        f'Score of {BART} on test.example.com cleared (delivery was not '
        'disabled by bounces)\n')
    assert state(disabled, BART).score == 0.0
    assert 'Bouncing members: 0 of 3' in ok('status', '-l',
                                            'test.example.com')


def test_reset_refusals(disabled):
    assert (f'Error: {DAVE} is not a member of test.example.com'
            in refused('reset', '-l', 'test.example.com', DAVE))
    assert 'Error: No such list: nope.example.com' in refused(
        'reset', '-l', 'nope.example.com', ANNE)


# settings

def _settings(mlist) -> dict:
    from mailman_bounces.app.settings import get_settings
    return get_settings(mlist)


def test_settings_shown(mailman):
    make_list()
    lines = ok('settings', '-l', 'test@example.com').splitlines()
    assert lines[0].split() == ['process_bounces', 'yes']
    assert lines[9].split() == ['score_mode', 'mailman', '(site', 'default)']
    assert 'weights (site default):' in lines
    assert lines[-1].strip().endswith('feedback=0, vacation=0')
    assert json.loads(ok('settings', '-l', 'test.example.com', '--json'))[
        'overridden'] == []


def test_durations_are_shown_as_the_rest_api_shows_them(mailman):
    make_list()
    output = ok('settings', '-l', 'test.example.com',
                '--set', 'probe_wait=1d12h', '--set',
                'bounce_info_stale_after=2w')
    assert 'probe_wait                                 1d43200.0s  (list)' \
        in output
    assert 'bounce_info_stale_after                    14d\n' in output
    shown = json.loads(ok('settings', '-l', 'test.example.com', '--json'))
    assert (shown['probe_wait'], shown['bounce_info_stale_after']) == (
        '1d43200.0s', '14d')
    assert ', stale after 14d;' in ok('status', '-l', 'test.example.com')


def test_settings_changed(mailman):
    mlist = make_list()
    output = ok('settings', '-l', 'test.example.com',
                '--set', 'score_mode=sympa',
                '--set', 'bounce_score_threshold=3',
                '--set', 'weights=userunknown=2, mailboxfull=0')
    assert 'score_mode                                 sympa  (list)' in output
    assert 'weights (list):' in output
    values = _settings(mlist)
    assert (values['score_mode'], values['bounce_score_threshold']) == (
        'sympa', 3)
    assert (values['weights']['userunknown'],
            values['weights']['mailboxfull']) == (2.0, 0.0)
    output = ok('settings', '-l', 'test.example.com', '--reset', 'score_mode',
                '--reset', 'weights', '--json')
    assert json.loads(output)['overridden'] == []
    assert _settings(mlist)['weights']['userunknown'] == 1.0


@pytest.mark.parametrize('args, message', [
    (('--set', 'bounce_score_threshold=-1'),
     ("bounce_score_threshold: invalid value '-1': expected an integer from "
     '0 to 2147483647')),
    (('--set', 'complaint_action=ban'),
     ("complaint_action: invalid value 'ban': expected one of: none, "
     'disable, unsubscribe')),
    (('--set', 'sympa_level1=90'),
     ('sympa_level1: invalid value 90.0: expected a level no higher than '
     'sympa_level2 (75.0)')),
    (('--set', 'retention=999999999999d'),
     ("retention: invalid value '999999999999d': expected a duration such "
      'as 90d, 2w, 12h, 30m or 1d12h (zero to 36500 days)')),
    (('--set', 'colour=blue'), "colour: invalid value 'blue'"),
    (('--set', 'score_mode'), "--set expects name=value, not 'score_mode'"),
    (('--reset', 'process_bounces'),
     "--reset: 'process_bounces' has no site default"),
    (('--set', 'retention=5d', '--reset', 'retention'),
     'retention is both set and reset'),
])
def test_settings_refused_change_nothing(mailman, args, message):
    mlist = make_list()
    before = _settings(mlist)
    output = refused('settings', '-l', 'test.example.com', '--set',
                     'score_mode=sympa', '--set', 'failover=no', *args)
    assert message in output.replace('\n', ' ')
    assert _settings(mlist) == before


def test_a_refused_change_keeps_the_callers_work(mailman):
    # Run by `mailman`, each command has its own transaction; called from
    # Python, a refusal must not throw away what came before.
    mlist = make_list()
    ok('settings', '-l', 'test.example.com', '--set', 'score_mode=sympa')
    refused('settings', '-l', 'test.example.com', '--set',
            'sympa_level2=10')
    assert _settings(mlist)['score_mode'] == 'sympa'
    assert _settings(mlist)['sympa_level2'] == 75.0


def test_settings_of_an_unknown_list(mailman):
    assert 'No such list: nope.example.com' in refused(
        'settings', '-l', 'nope.example.com', '--set', 'score_mode=sympa')


# process and report

def test_process(mailman):
    mlist = make_list(members=[ANNE, BART])
    bounce(mlist, ANNE)
    bounce(mlist, BART, **MAILBOX_FULL)
    lines = ok('process').splitlines()
    assert lines[:3] == ['Events processed: 2 (in 1 batch(es))',
                         '    scored: 2', 'Outage freezes started: 0']
    assert member(mlist, ANNE).bounce_score == 1
    assert ok('process').splitlines()[0] == (
        'Events processed: 0 (in 0 batch(es))')


def test_report(world):
    lines = ok('report').splitlines()
    assert lines[0] == 'Bounce report for all lists, from the start to now'
    # Registered by in-process code (core's interface): verified.
    assert lines[1] == ('Total: 9 events from 9 addresses (6 hard, 2 soft, '
                        '1 complaint; 9 verified, 0 unverified, 0 forged)')
    assert lines[3] == ('test.example.com: 9 events from 9 addresses '
                        '(6 hard, 2 soft, 1 complaint; 9 verified, '
                        '0 unverified, 0 forged); 0 members disabled '
                        'by bounces')
    assert lines[5].split() == ['userunknown', '6', '6', '6', '0']
    assert 'Outage freezes in force: 2' in lines
    assert lines[-1].startswith(
        '    #1 domain outage.example.net on test.example.com, until '
        '2005-08-01 09:49:23 (5 bouncing of 5 members)')


def test_report_of_one_list_and_recent_days(world):
    other = make_list('other@example.com', members=[ANNE])
    bounce(other, ANNE)
    output = ok('report', '--list', 'other@example.com', '--days', '2')
    assert output.splitlines()[0] == (
        'Bounce report for other.example.com, from 2005-07-31 00:00:00 to '
        'now')
    assert ('Total: 1 event from 1 address (1 hard, 0 soft, 0 complaints; '
            '1 verified, 0 unverified, 0 forged)') in output
    assert 'test.example.com' not in output
    # The site-wide freeze concerns every list.
    assert 'Outage freezes in force: 1' in output


def _needs_matplotlib():
    # Not installed, or installed without what it needs to load.
    pytest.importorskip(
        'matplotlib', reason='the plot extra (matplotlib) is not installed',
        exc_type=ImportError)


@pytest.mark.parametrize('name, magic', [
    ('bounces.png', b'\x89PNG'), ('bounces.SVG', b'<?xml')])
def test_report_plot(world, tmp_path, name, magic):
    _needs_matplotlib()
    path = tmp_path / name
    output = ok('report', '--plot', str(path))
    assert output.splitlines()[-1] == f'Plot written to {path}'
    assert path.read_bytes().startswith(magic)
    if name.endswith('SVG'):
        text = path.read_text()
        for reason in ('userunknown', 'mailboxfull', 'authfailure'):
            assert reason in text


def test_report_plot_of_nothing(mailman, tmp_path):
    _needs_matplotlib()
    path = tmp_path / 'empty.png'
    ok('report', '--plot', str(path), '--until', '2000-01-01')
    assert path.read_bytes().startswith(b'\x89PNG')


def test_report_plot_without_matplotlib(world, tmp_path, monkeypatch):
    # As if the plot extra were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, 'matplotlib.figure', None)
    path = tmp_path / 'bounces.png'
    result = run('report', '--plot', str(path))
    assert result.exit_code == 1
    assert ('Error: Plotting needs matplotlib (pip install '
            'mailman-bounces[plot])') in result.output
    assert not path.exists()


def test_report_plot_needs_png_or_svg(world, tmp_path):
    path = tmp_path / 'bounces.gif'
    assert 'the file name must end in .png or .svg' in refused(
        'report', '--plot', str(path))
    assert not path.exists()


# freezes

def test_freezes(world):
    assert ok('freezes').splitlines() == [
        ('#2 domain outage.example.net on the whole site, until 2005-08-01 '
        '09:49:23 (5 bouncing of 5 members)'),
        ('#1 domain outage.example.net on test.example.com, until '
        '2005-08-01 09:49:23 (5 bouncing of 5 members)')]
    assert ok('freezes', '--lift', '1') == (
        'Freeze 1 lifted; the events it held are scored at the next pass\n')
    commit()
    assert ok('freezes', '--lift', '1') == 'Freeze 1 had already ended\n'
    assert [line[:3] for line in ok('freezes').splitlines()] == ['#2 ']
    assert ok('freezes', '--all').splitlines()[1] == (
        '#1 domain outage.example.net on test.example.com, lifted '
        '2005-08-01 07:49:23 (5 bouncing of 5 members)')
    assert 'Error: No such freeze: 7' in refused('freezes', '--lift', '7')


def test_confirming_freezes(world):
    assert ok('freezes', '--confirm', '1') == (
        'Freeze 1 confirmed: it may go on until 2005-08-02 07:49:23\n')
    commit()
    assert ok('freezes').splitlines()[1] == (
        '#1 domain outage.example.net on test.example.com, until 2005-08-01 '
        '09:49:23, confirmed until 2005-08-02 07:49:23 (5 bouncing of 5 '
        'members)')
    assert 'Error: No such freeze: 7' in refused('freezes', '--confirm', '7')
    ok('freezes', '--lift', '2')
    commit()
    assert 'Error: Freeze 2 was lifted' in refused('freezes', '--confirm', '2')
    assert 'exclude each other' in refused('freezes', '--confirm', '1',
                                           '--lift', '1')


def test_no_freezes(mailman):
    assert ok('freezes') == 'No outage freezes in force\n'
    assert ok('freezes', '--all') == 'No outage freezes\n'


# The real executable.

def test_the_mailman_executable(instance):
    instance.write_config(plugin=True)
    instance.run('create', 'test@example.com')
    assert 'bounces' in instance.run('--help').stdout
    assert instance.run('bounces', 'events').stdout == 'No bounce events\n'
    changed = instance.run('bounces', 'settings', '-l', 'test@example.com',
                           '--set', 'score_mode=sympa',
                           '--set', 'bounce_score_threshold=4')
    assert 'sympa  (list)' in changed.stdout
    # A refused change: exit status 2, the reason, and nothing changed
    # (the valid --set before the bad one neither).
    result = instance.run('bounces', 'settings', '-l', 'test@example.com',
                          '--set', 'complaint_action=disable',
                          '--set', 'bounce_score_threshold=many',
                          check=False)
    assert result.returncode == 2
    assert ("bounce_score_threshold: invalid value 'many': expected an "
            'integer from 0 to 2147483647') in result.stderr
    shown = json.loads(instance.run('bounces', 'settings', '-l',
                                    'test.example.com', '--json').stdout)
    assert (shown['score_mode'], shown['bounce_score_threshold'],
            shown['complaint_action']) == ('sympa', 4, 'none')
    result = instance.run('bounces', 'status', '-l', 'nope@example.com',
                          check=False)
    assert result.returncode == 2
    assert 'No such list: nope@example.com' in result.stderr
    assert instance.run('bounces', 'process').stdout.startswith(
        'Events processed: 0')


def test_keys_rotate_keeps_the_older_key_verifying_for_the_overlap(mailman):
    listed = ok('keys', 'list').splitlines()
    assert listed[0].split() == ['ID', 'CREATED', 'STATE']
    [first] = listed[1:]
    first_id = first.split()[0]
    assert first.split()[-1] == 'signing'
    output = ok('keys', 'rotate', '--overlap', '10d').splitlines()
    rows = {line.split()[0]: line for line in output[2:]}
    [second_id] = set(rows) - {first_id}
    assert output[0] == f'Key {second_id} signs from now on'
    # The test clock stands at 2005-08-01 07:49:23: ten days more.
    assert rows[first_id].endswith('verifies until 2005-08-11 07:49:23')
    assert rows[second_id].endswith('signing')
    assert 'expected a duration' in refused('keys', 'rotate', '--overlap',
                                            'forever')
