"""The bouncemail runner against a real Dovecot (IMAP and POP3).

Each test starts its own Dovecot (``mailman_bounces.testing.dovecot``) on
loopback ports with a self-signed certificate, puts mail in with
``doveadm save``, and polls it with the plugin's code into the test
layer's database.  Without Dovecot the tests skip, unless
MAILMAN_BOUNCES_REQUIRE names it.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from mailman_bounces.config import MailboxConfig
from mailman_bounces.testing import dovecot as dovecot_module
from mailman_bounces.tests.helpers import fast_forward, make_list
from mailman_bounces.tests.samples import dsn

_REQUIRED = 'dovecot' in os.environ.get('MAILMAN_BOUNCES_REQUIRE', '')

if not dovecot_module.available():
    if _REQUIRED:
        raise RuntimeError('MAILMAN_BOUNCES_REQUIRE names dovecot, but it '
                           'is not installed (apt-get install dovecot-imapd '
                           'dovecot-pop3d dovecot-lmtpd)')
    pytest.skip('Dovecot is not installed (apt-get install dovecot-imapd '
                'dovecot-pop3d dovecot-lmtpd); mailbox tests skipped',
                allow_module_level=True)

NOT_A_BOUNCE = """\
From: somebody@example.net
To: test-bounces@example.com
Subject: Please unsubscribe me
Message-ID: <human-1@example.net>

How do I get off this list?
"""

# The bearer tokens the local token endpoint knows: active or expired.
TOKENS = {'fresh-token': True, 'expired-token': False}


class _Introspection(BaseHTTPRequestHandler):
    """RFC 7662 token introspection, as Dovecot's oauth2 passdb asks it."""

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        form = parse_qs(self.rfile.read(length).decode())
        token = (form.get('token') or [''])[0]
        active = TOKENS.get(token, False)
        body = {'active': active}
        if active:
            body['username'] = 'bounces'
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def token_url():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Introspection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}/introspect'
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(token_url):
    dovecot = dovecot_module.Dovecot(token_url=token_url).start()
    yield dovecot
    dovecot.stop()


@pytest.fixture
def mlist(mailman):
    return make_list('test@example.com',
                     members=('anne@example.org', 'bart@example.org'))


@pytest.fixture
def box(server, tmp_path) -> MailboxConfig:
    password = tmp_path / 'password'
    password.write_text(server.password + '\n')
    return MailboxConfig(
        name='bounces', host='localhost', user=server.user,
        protocol='imap', port=server.imaps, security='tls',
        ca_file=str(server.certificate), password_file=str(password))


def _poll(box, force=True):
    from mailman_bounces.app.mailboxes.poll import poll
    return poll(box, force=force)


def _events():
    from mailman_bounces.tests.helpers import events
    return events()


def _state(name='bounces'):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.mailbox import MailboxState
    config.db.abort()
    return config.db.store.execute(select(MailboxState).where(
        MailboxState.name == name)).scalar_one()


def test_imap_bounces_registered_and_moved(mlist, server, box):
    server.save(dsn('anne@example.org'))
    server.save(dsn('bart@example.org', status='5.2.2',
                    diagnostic='552 5.2.2 Mailbox full'))
    assert _poll(box)
    found = sorted((e.email, e.reason, e.severity) for e in _events())
    assert found == [('anne@example.org', 'userunknown', 'hard'),
                     ('bart@example.org', 'mailboxfull', 'soft')]
    assert server.count('INBOX') == 0
    assert server.count('Processed') == 2
    assert server.count('Unparsed') == 0
    state = _state()
    assert (state.seen, state.registered, state.unparsed) == (2, 2, 0)
    assert state.last_error is None and state.failures == 0
    assert state.last_success is not None


def test_non_bounces_go_to_unparsed(mlist, server, box):
    server.save(NOT_A_BOUNCE)
    # For no list at all.
    server.save(dsn('anne@example.org', to='someone@example.net'))
    server.save(dsn('anne@example.org'))
    assert _poll(box)
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('Unparsed') == 2
    assert server.count('Processed') == 1
    assert server.count('INBOX') == 0
    state = _state()
    assert (state.seen, state.registered, state.unparsed) == (3, 1, 2)


def test_fixed_list_and_verp_from_delivered_to(mlist, server, box):
    # The To: header was rewritten on the way; Delivered-To keeps the
    # VERP address naming the member.
    message = dsn('someone-else@example.org', to='bounces@example.org')
    server.save('Delivered-To: test-bounces+bart=example.org@example.com\n'
                + message)
    assert _poll(box)
    [event] = _events()
    assert (event.list_id, event.email) == ('test.example.com',
                                            'bart@example.org')
    # With a fixed list, a message naming no list is still read for it.
    server.save(dsn('anne@example.org', to='bounces@example.org'))
    assert _poll(replace(box, list='test@example.com'))
    assert sorted(e.email for e in _events()) == ['anne@example.org',
                                                  'bart@example.org']


class Killed(BaseException):
    """The runner process dies here (not an error it could handle)."""


def test_killed_between_register_and_move_counts_once(
        mlist, server, box, monkeypatch):
    from mailman_bounces.utilities.mailbox_clients import IMAPClient
    server.save(dsn('anne@example.org'))
    moving = IMAPClient.move

    def die(self, uids, folder):
        raise Killed
    monkeypatch.setattr(IMAPClient, 'move', die)
    with pytest.raises(Killed):
        _poll(box)
    # Registered and committed, not moved.
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('INBOX') == 1
    monkeypatch.setattr(IMAPClient, 'move', moving)
    # The dead runner still holds the mailbox until its lease ends.
    assert not _poll(box)
    fast_forward(hours=0.5)
    assert _poll(box)
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('INBOX') == 0
    assert server.count('Processed') == 1
    assert _state().registered == 1


def test_a_runner_stopping_mid_poll_is_no_mailbox_error(
        mlist, server, box, monkeypatch):
    """SIGTERM raises RunnerInterrupt wherever the runner is: a poll cut
    short by it records no error, backs nothing off, frees the mailbox."""
    from mailman.interfaces.runner import RunnerInterrupt

    from mailman_bounces.utilities.mailbox_clients import IMAPClient
    server.save(dsn('anne@example.org'))
    moving = IMAPClient.move

    def stopped(self, uids, folder):
        raise RunnerInterrupt
    monkeypatch.setattr(IMAPClient, 'move', stopped)
    with pytest.raises(RunnerInterrupt):
        _poll(box)
    state = _state()
    assert (state.failures, state.last_error) == (0, None)
    monkeypatch.setattr(IMAPClient, 'move', moving)
    # Not held by the stopped runner's lease: the next poll goes at once.
    assert _poll(box, force=True)
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('Processed') == 1


def test_uidvalidity_change_counts_nothing_twice(mlist, server, box):
    box = replace(box, folder='Bounces')
    first = dsn('anne@example.org')
    server.save(first, 'Bounces')
    server.save(dsn('bart@example.org'), 'Bounces')
    assert _poll(box)
    before = _state().uidvalidity
    assert server.count('Processed') == 2
    # The folder is rebuilt (new UIDVALIDITY, UIDs from 1 again) with an
    # old message in it, and one new bounce.
    server.recreate('Bounces')
    server.save(first, 'Bounces')
    server.save(dsn('anne@example.org', status='5.7.1',
                    diagnostic='550 5.7.1 Mailbox disabled'), 'Bounces')
    assert _poll(box)
    assert _state().uidvalidity != before
    found = sorted((e.email, e.status) for e in _events())
    assert found == [('anne@example.org', '5.1.1'),
                     ('anne@example.org', '5.7.1'),
                     ('bart@example.org', '5.1.1')]
    assert server.count('Bounces') == 0
    assert server.count('Processed') == 4
    assert _state().registered == 3


def test_copy_and_expunge_without_move(mlist, token_url, tmp_path):
    server = dovecot_module.Dovecot(token_url=token_url, without_move=True)
    server.start()
    try:
        password = tmp_path / 'password'
        password.write_text(server.password)
        box = MailboxConfig(
            name='bounces', host='localhost', user=server.user,
            port=server.imap, security='starttls',
            ca_file=str(server.certificate), password_file=str(password))
        server.save(dsn('anne@example.org'))
        server.save(NOT_A_BOUNCE)
        assert _poll(box)
        assert [e.email for e in _events()] == ['anne@example.org']
        assert server.count('INBOX') == 0
        assert server.count('Processed') == 1
        assert server.count('Unparsed') == 1
    finally:
        server.stop()


def test_wrong_password_backs_off(mlist, server, box, tmp_path):
    wrong = tmp_path / 'wrong'
    wrong.write_text('not-the-password')
    box = replace(box, password_file=str(wrong))
    server.save(dsn('anne@example.org'))
    from mailman.utilities.datetime import now
    started = now()
    assert _poll(box, force=False)
    state = _state()
    assert state.failures == 1
    assert 'AUTHENTICATIONFAILED' in state.last_error
    assert state.next_poll - started == timedelta(minutes=5)
    # Not due again before the back-off ends ...
    fast_forward(hours=4 / 60)
    assert not _poll(box, force=False)
    # ... then it doubles.
    fast_forward(hours=1 / 60)
    assert _poll(box, force=False)
    state = _state()
    assert state.failures == 2
    assert state.next_poll - state.last_poll == timedelta(minutes=10)
    assert _events() == []
    assert server.count('INBOX') == 1


def test_backoff_doubles_up_to_an_hour():
    from mailman_bounces.app.mailboxes.poll import backoff
    assert [backoff(n).total_seconds() / 60 for n in range(1, 8)] == [
        5, 10, 20, 40, 60, 60, 60]


def test_xoauth2_token(mlist, server, box):
    box = replace(box, password_file=None,
                  token_command='printf fresh-token')
    server.save(dsn('anne@example.org'))
    assert _poll(box)
    assert _state().last_error is None
    assert [e.email for e in _events()] == ['anne@example.org']
    assert 'method=XOAUTH2' in server.log()


def test_expired_token_backs_off(mlist, server, box):
    box = replace(box, password_file=None,
                  token_command='printf expired-token')
    server.save(dsn('anne@example.org'))
    assert _poll(box)
    state = _state()
    assert state.failures == 1 and state.last_error
    assert _events() == []
    assert server.count('INBOX') == 1


@pytest.mark.parametrize('protocol,security', [
    ('imap', 'tls'), ('imap', 'starttls'), ('pop3', 'tls'),
    ('pop3', 'starttls')])
def test_wrong_tls_certificate_refused(mlist, server, box, tmp_path,
                                       protocol, security):
    other = tmp_path / 'other'
    other.mkdir()
    ports = {('imap', 'tls'): server.imaps, ('imap', 'starttls'): server.imap,
             ('pop3', 'tls'): server.pop3s,
             ('pop3', 'starttls'): server.pop3}
    box = replace(box, protocol=protocol, security=security,
                  port=ports[protocol, security],
                  ca_file=str(dovecot_module.make_certificate(other)))
    server.save(dsn('anne@example.org'))
    assert _poll(box)
    state = _state()
    assert state.failures == 1
    assert 'certificate' in state.last_error
    assert _events() == []
    # The password was never sent: no login attempt reached Dovecot.
    assert 'user=<bounces>' not in server.log()


def _pop3(box, server, **changes):
    return replace(box, protocol='pop3', port=server.pop3s, **changes)


def test_pop3_deletes_only_registered_bounces(mlist, server, box):
    box = _pop3(box, server)
    server.save(dsn('anne@example.org'))
    server.save(NOT_A_BOUNCE)
    assert _poll(box)
    assert [e.email for e in _events()] == ['anne@example.org']
    # The human's message stays; the bounce is gone.
    assert server.count('INBOX') == 1
    assert (_state().seen, _state().unparsed) == (2, 1)
    # Seen UIDLs are not read again.
    server.save(dsn('bart@example.org'))
    assert _poll(box)
    assert sorted(e.email for e in _events()) == ['anne@example.org',
                                                  'bart@example.org']
    assert _state().seen == 3
    assert server.count('INBOX') == 1


def test_pop3_never_delete(mlist, server, box):
    box = _pop3(box, server, delete=False)
    server.save(dsn('anne@example.org'))
    assert _poll(box)
    assert _poll(box)
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('INBOX') == 1
    assert _state().seen == 1


def test_pop3_killed_before_quit_counts_once(mlist, server, box,
                                             monkeypatch):
    from mailman_bounces.utilities.mailbox_clients import POP3Client
    box = _pop3(box, server)
    server.save(dsn('anne@example.org'))
    quitting = POP3Client.close

    def die(self):
        raise Killed
    monkeypatch.setattr(POP3Client, 'close', die)
    with pytest.raises(Killed):
        _poll(box)
    # The DELE was never committed by a QUIT.
    assert server.count('INBOX') == 1
    monkeypatch.setattr(POP3Client, 'close', quitting)
    fast_forward(hours=0.5)
    assert _poll(box)
    assert [e.email for e in _events()] == ['anne@example.org']
    assert server.count('INBOX') == 0


@pytest.mark.parametrize('scheme,port', [('imaps', 'imaps'), ('imap', 'imap'),
                                         ('pop3s', 'pop3s')])
def test_scan_reads_a_mailbox_read_only(server, box, capsys, scheme, port):
    from mailman_bounces.detect.cli import main
    server.save(dsn('anne@example.org'))
    server.save(NOT_A_BOUNCE)
    url = f'{scheme}://bounces@localhost:{getattr(server, port)}/INBOX'
    status = main(['scan', '--json', '--password-file', box.password_file,
                   '--ca-file', box.ca_file, url])
    assert status == 0
    records = [json.loads(line)
               for line in capsys.readouterr().out.splitlines()]
    assert [r['kind'] for r in records] == ['bounce', 'none']
    assert records[0]['recipients'][0]['address'] == 'anne@example.org'
    assert records[0]['file'].startswith(url + '#')
    # Nothing changed on the server: both still there, neither seen.
    assert server.count('INBOX') == 2
    assert server.doveadm('search', '-u', server.user, 'mailbox', 'INBOX',
                          'SEEN').strip() == ''


def test_scan_of_a_mailbox_it_cannot_log_in_to(server, box, tmp_path,
                                               capsys):
    from mailman_bounces.detect.cli import main
    wrong = tmp_path / 'wrong'
    wrong.write_text('nope')
    url = f'imaps://bounces@localhost:{server.imaps}/INBOX'
    assert main(['scan', '--password-file', str(wrong), '--ca-file',
                 box.ca_file, url]) == 1
    assert 'AUTHENTICATIONFAILED' in capsys.readouterr().err


def test_bouncemail_runner_in_an_instance(instance, server, tmp_path):
    """The issue's runner itself: with an enabled ``[mailbox.NAME]`` the
    plugin adds ``[runner.bouncemail]`` (none without one); run as
    Mailman's master runs it, it polls the Dovecot mailbox on its own,
    registers the bounce in the instance's database and moves it to
    Processed."""
    import signal
    import subprocess
    import time
    from pathlib import Path

    from sqlalchemy import text

    from mailman_bounces.tests.instance import mailman_executable
    password = tmp_path / 'password'
    password.write_text(server.password + '\n')
    settings = instance.root / 'bounces.cfg'

    def configure(enabled: str) -> str:
        settings.write_text(
            f'[mailbox.hosted]\nprotocol: imap\nhost: localhost\n'
            f'port: {server.imaps}\nsecurity: tls\nuser: {server.user}\n'
            f'password_file: {password}\nca_file: {server.certificate}\n'
            f'list: test.example.com\nenabled: {enabled}\n',
            encoding='utf-8')
        instance.write_config(plugin=True)
        config_text = instance.config_file.read_text(
            encoding='utf-8').replace(
            'enabled: yes', f'enabled: yes\nconfiguration: {settings}', 1)
        instance.config_file.write_text(config_text, encoding='utf-8')
        return instance.run('conf', '-s', 'runner.bouncemail',
                            check=False).stdout

    runner_class = 'mailman_bounces.runners.bouncemail.BounceMailRunner'
    assert runner_class not in configure('no')
    assert runner_class in configure('yes')
    instance.run('create', 'test@example.com')
    instance.run('addmembers', '-', 'test@example.com',
                 stdin='anne@example.org\n')
    server.save(dsn('anne@example.org'))
    # How the master starts each runner.
    command = [str(Path(mailman_executable()).with_name('runner')),
               '-C', str(instance.config_file), '-r', 'bouncemail']
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith('MAILMAN_')}
    environment.update(instance.env)
    errors = instance.root / 'runner.err'
    process = subprocess.Popen(command, env=environment, cwd=instance.root,
                               stdout=subprocess.DEVNULL,
                               stderr=errors.open('w'))
    def polled() -> bool:
        # The poll's end is committed with its counts and time: stopping
        # the runner before that (as soon as the message is moved) cuts
        # the poll short, and a cut poll records no counts.
        with instance.engine().connect() as connection:
            return connection.execute(text(
                'SELECT count(*) FROM bounces_mailbox '
                'WHERE last_success IS NOT NULL')).scalar() > 0
    try:
        deadline = time.monotonic() + 120
        while (not polled() and process.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    assert server.count('Processed') == 1, errors.read_text()
    assert server.count('INBOX') == 0
    with instance.engine().connect() as connection:
        rows = connection.execute(text(
            'SELECT email, list_id, reason FROM bounces_event')).all()
        state = connection.execute(text(
            'SELECT name, seen, registered, unparsed, last_error '
            'FROM bounces_mailbox')).all()
    assert [tuple(row) for row in rows] == [
        ('anne@example.org', 'test.example.com', 'userunknown')]
    assert [tuple(row) for row in state] == [('hosted', 1, 1, 0, None)]
