"""The bounce mailboxes through REST and ``mailman bounces mailboxes``.

The test configuration (conftest.py) defines one mailbox, ``example``,
disabled, on a loopback port nothing listens on: polling it fails.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from mailman_bounces.tests.test_rest_api import call, get


def _cli(*args: str) -> str:
    from mailman_bounces.commands.cli_bounces import bounces
    result = CliRunner().invoke(bounces, ['mailboxes', *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_mailboxes_before_any_poll(rest):
    found = get('/mailboxes')
    assert found['total_size'] == 1
    [box] = found['entries']
    assert box['name'] == 'example'
    assert (box['protocol'], box['host'], box['port'], box['security']) == (
        'imap', '127.0.0.1', 9, 'none')
    assert box['enabled'] is False
    assert box['last_poll'] is None and box['last_error'] is None
    assert (box['seen'], box['registered'], box['unparsed']) == (0, 0, 0)
    assert box['self_link'].endswith('/plugins/bounces/mailboxes/example')
    assert get('/mailboxes/example')['name'] == 'example'


def test_unknown_mailbox_is_not_found(rest):
    response = call('GET', '/mailboxes/nope')
    assert response.status_code == 404
    assert call('GET', '/mailboxes/example/more').status_code == 404


def test_a_failed_poll_shows(rest):
    output = _cli('--poll', 'example')
    assert 'example: last error: ' in output
    assert 'Connection refused' in output
    box = get('/mailboxes/example')
    assert box['failures'] == 1
    assert 'Connection refused' in box['last_error']
    assert box['last_poll'] is not None and box['last_success'] is None
    # The back-off: five minutes.
    assert box['next_poll'] > box['last_poll']
    [shown] = json.loads(_cli('--json'))
    assert shown['failures'] == 1
    assert shown['last_error'] == box['last_error']


def test_cli_table(mailman):
    lines = _cli().splitlines()
    assert lines[0].split() == ['NAME', 'MAILBOX', 'ENABLED', 'LAST', 'POLL',
                                'LAST', 'SUCCESS', 'FAILURES', 'SEEN',
                                'REGISTERED', 'UNPARSED']
    assert lines[1].split() == ['example', 'imap://127.0.0.1:9/INBOX', 'no',
                                '-', '-', '0', '0', '0', '0']


def test_unknown_mailbox_polled_from_the_cli(mailman):
    from mailman_bounces.commands.cli_bounces import bounces
    result = CliRunner().invoke(bounces, ['mailboxes', '--poll', 'nope'])
    assert result.exit_code == 2
    assert 'No such mailbox: nope' in result.output
