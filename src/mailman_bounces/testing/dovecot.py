"""A private Dovecot (IMAP, POP3) for the mailbox tests and the demo.

It runs with its own configuration, base directory and loopback ports,
one ``passwd-file`` user, a self-signed certificate made here, and an
OAuth2 passdb asking a token endpoint given by the caller (for XOAUTH2).
Mail is put in with ``doveadm save``.  Needs Debian's ``dovecot-imapd``,
``dovecot-pop3d`` (2.3); `available` says whether they are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which('dovecot') or '/usr/sbin/dovecot'
DOVEADM = shutil.which('doveadm') or '/usr/bin/doveadm'

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {group}
pop3_uidl_format = %08Xu%08Xv
{imap_extra}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {internal}
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = home={root}/home/%u allow_all_users=yes
}}
"""

OAUTH2 = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


def available() -> bool:
    """Are the Dovecot programs installed?"""
    return os.access(DOVECOT, os.X_OK) and os.access(DOVEADM, os.X_OK)


def make_certificate(directory: Path, name: str = 'localhost') -> Path:
    """A self-signed certificate for `name` (and 127.0.0.1): writes
    cert.pem and key.pem into `directory`; returns the certificate."""
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-keyout', str(directory / 'key.pem'),
         '-out', str(directory / 'cert.pem'), '-days', '2',
         '-subj', f'/CN={name}',
         '-addext', f'subjectAltName=DNS:{name},IP:127.0.0.1'],
        check=True, capture_output=True)
    return directory / 'cert.pem'


def _wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), 1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Dovecot:
    """A running private Dovecot; `stop` it when done."""

    token_url: str = 'http://127.0.0.1:9/introspect'
    user: str = 'bounces'
    password: str = 'secret-pw'
    imap: int = 10143
    imaps: int = 10993
    pop3: int = 10110
    pop3s: int = 10995
    # Dovecot 2.3 offers MOVE; the COPY + EXPUNGE path is tested by
    # turning it off.
    without_move: bool = False
    root: Path = field(default_factory=lambda: Path(
        tempfile.mkdtemp(prefix='mailman-bounces-dovecot-')))
    _process: subprocess.Popen | None = None

    @property
    def certificate(self) -> Path:
        return self.root / 'cert.pem'

    @property
    def config_file(self) -> Path:
        return self.root / 'dovecot.conf'

    def _users(self) -> dict[str, str]:
        if os.getuid() == 0:
            # Dovecot's own users, made by the Debian package.
            return {'internal': 'dovecot', 'group': 'dovecot',
                    'login': 'dovenull', 'mail_user': 'dovecot'}
        me = pwd.getpwuid(os.getuid())
        group = me.pw_name
        return {'internal': me.pw_name, 'group': group,
                'login': me.pw_name, 'mail_user': me.pw_name}

    @property
    def command(self) -> list[str]:
        """The command running this Dovecot in the foreground."""
        return [DOVECOT, '-F', '-c', str(self.config_file)]

    @property
    def ports(self) -> list[int]:
        """The ports it listens on (a port of 0 is a listener turned off,
        as in Dovecot's own configuration)."""
        return [port for port in (self.imap, self.imaps, self.pop3,
                                  self.pop3s) if port]

    def configure(self) -> None:
        """Write its configuration, user, certificate and directories."""
        # Dovecot's processes run as other users: they must reach the files.
        self.root.chmod(0o755)
        for sub in ('run', 'state', 'mail', 'home'):
            (self.root / sub).mkdir(exist_ok=True)
        make_certificate(self.root)
        (self.root / 'passwd').write_text(
            f'{self.user}:{{PLAIN}}{self.password}::::::\n')
        (self.root / 'oauth2.conf.ext').write_text(
            OAUTH2.format(url=self.token_url))
        for name in ('passwd', 'oauth2.conf.ext'):
            # Read by the auth process, whatever the caller's umask.
            (self.root / name).chmod(0o644)
        users = self._users()
        if os.getuid() == 0:
            for sub in ('mail', 'home'):
                shutil.chown(self.root / sub, users['mail_user'],
                             users['group'])
        imap_extra = ('imap_capability = IMAP4rev1 UIDPLUS IDLE'
                      if self.without_move else '')
        self.config_file.write_text(CONFIG.format(
            root=self.root, imap=self.imap, imaps=self.imaps, pop3=self.pop3,
            pop3s=self.pop3s, imap_extra=imap_extra, **users))

    def start(self) -> Dovecot:
        self.configure()
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for port in self.ports:
                _wait_for(port)
        except OSError:
            self.stop()
            raise RuntimeError('Dovecot did not start: ' + self.log())
        return self

    def log(self) -> str:
        try:
            return (self.root / 'dovecot.log').read_text(errors='replace')
        except OSError:
            return ''

    def doveadm(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [DOVEADM, '-c', str(self.config_file), *args], input=stdin,
            capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f'doveadm {" ".join(args)}: '
                               f'{done.stderr.decode(errors="replace")}')
        return done.stdout.decode(errors='replace')

    def save(self, message: str | bytes, folder: str = 'INBOX') -> None:
        """Deliver `message` into `folder` (created if missing)."""
        content = message.encode() if isinstance(message, str) else message
        if folder != 'INBOX' and not self.count(folder):
            try:
                self.doveadm('mailbox', 'create', '-u', self.user, folder)
            except RuntimeError:
                pass    # it exists, empty
        self.doveadm('save', '-u', self.user, '-m', folder, stdin=content)

    def count(self, folder: str) -> int:
        """How many messages `folder` holds (0 if it does not exist)."""
        try:
            out = self.doveadm('-f', 'flow', 'mailbox', 'status', '-u',
                               self.user, 'messages', folder)
        except RuntimeError:
            return 0
        # Just deleted (a UIDVALIDITY test), doveadm may answer nothing.
        _, equals, value = out.partition('=')
        return int(value) if equals and value.strip() else 0

    def recreate(self, folder: str) -> None:
        """Delete and create `folder` again: a new UIDVALIDITY."""
        self.doveadm('mailbox', 'delete', '-u', self.user, folder)
        self.doveadm('mailbox', 'create', '-u', self.user, folder)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)
