"""The [mailbox.NAME] sections of the plugin's configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailman_bounces.config import ConfigurationError, load_site_config


def _load(text: str):
    return load_site_config(text, 'bounces.cfg')


def test_no_mailbox_by_default():
    assert dict(load_site_config().mailboxes) == {}


def test_a_mailbox_section():
    settings = _load("""\
[mailbox.hosted]
protocol: pop3
host: pop.example.net
security: starttls
user: bounces@example.net
token_command: /usr/local/bin/token --for bounces
poll_interval: 2m
delete: no
""")
    box = settings.mailboxes['hosted']
    assert box.name == 'hosted'
    assert (box.protocol, box.host, box.security) == (
        'pop3', 'pop.example.net', 'starttls')
    assert box.effective_port == 110
    assert box.token_command == '/usr/local/bin/token --for bounces'
    assert box.password_file is None
    assert box.poll_interval == timedelta(minutes=2)
    assert box.delete is False
    # The defaults of the issue.
    assert (box.folder, box.processed_folder, box.unparsed_folder) == (
        'INBOX', 'Processed', 'Unparsed')
    assert box.list is None and box.enabled


def test_imaps_port_default():
    box = _load('[mailbox.a]\nhost: imap.example.net\nuser: u\n'
                'password_file: /etc/pw\n').mailboxes['a']
    assert (box.protocol, box.security, box.effective_port) == (
        'imap', 'tls', 993)


@pytest.mark.parametrize('text,message', [
    ('host: mail.example.net\nuser: u\npassword_file: /p\nsecurity: none\n',
     '[mailbox.a]security: invalid value'),
    ('host: mail.example.net\nuser: u\n',
     'exactly one of password_file and token_command'),
    (('host: mail.example.net\nuser: u\npassword_file: /p\n'
     'token_command: t\n'), 'exactly one of password_file'),
    (('host: mail.example.net\nuser: u\npassword_file: /p\n'
     'protocol: smtp\n'), '[mailbox.a]protocol'),
    ('user: u\npassword_file: /p\n', '[mailbox.a]host'),
])
def test_bad_mailbox_refused(text, message):
    with pytest.raises(ConfigurationError) as error:
        _load('[mailbox.a]\n' + text)
    assert message in str(error.value)


@pytest.mark.parametrize('host', ['127.0.0.1', 'localhost', '::1'])
def test_plain_text_only_on_loopback(host):
    box = _load(f'[mailbox.a]\nhost: {host}\nuser: u\npassword_file: /p\n'
                'security: none\nprotocol: imap\n').mailboxes['a']
    assert box.security == 'none' and box.effective_port == 143
