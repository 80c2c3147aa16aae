"""A private Postfix that produces real DSNs, for end-to-end tests.

Mailman (or a test) submits mail to this Postfix's smtpd on a loopback
port.  Postfix routes it by domain:

* the list server's domain (``list_domain``, where the bounces and
  return-path addresses live) goes by LMTP to ``lmtp_port``, Mailman's
  LMTP runner, so the DSNs Postfix itself writes come back to Mailman;
* ``final_domain`` is delivered by Postfix itself (virtual(8), into one
  Maildir, see `delivered`): final delivery, ``Action: delivered``;
* every other domain goes to the relay host, `sink`, an SMTP sink without
  DSN: ``Action: relayed``.

The local part ``refused`` (``nosuchuser``) fails with 5.1.1 in every
domain (the sink answers ``550 5.1.1``; the final domain has no mailbox
for it): a failure DSN.  ``deferred`` (``slowpoke``) is answered ``450
4.2.0`` by the sink, in the final domain too: a delay DSN within a second
(``delay_warning_time`` is 1s), then a retry every second.

Each instance has its own configuration, queue, data and mail directories
and log file under one temporary directory, listens on 127.0.0.1 only and
needs no DNS, so several run side by side, in one network namespace or in
several.  Needs Debian's ``postfix`` (3.7) and root: `unavailable` says
what is missing.

Usage::

    with Postfix(lmtp_port=mailman_lmtp_port) as postfix:
        smtplib.SMTP('127.0.0.1', postfix.port)...
        postfix.wait_for_log(r'status=deferred')
"""

from __future__ import annotations

import mailbox
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Self

from mailman_bounces.testing.smtp_sink import Sink, free_port

POSTFIX = '/usr/sbin/postfix'
INSTALL = ('echo "postfix postfix/main_mailer_type select No configuration" '
           '| debconf-set-selections; DEBIAN_FRONTEND=noninteractive '
           'apt-get install -y postfix')

# The parameters that differ from Debian's defaults, and why.
MAIN_CF = """\
compatibility_level = 3.6
# Everything of this instance under its own directory, so that instances
# (and the system's Postfix, if any) do not share a queue or a lock.
queue_directory = {root}/queue
data_directory = {root}/data
# The Debian package's postfix-files and dynamicmaps.cf.
meta_directory = /etc/postfix
# postlogd writes here: readable without syslog, in any namespace.
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = {hostname}
mydomain = {hostname}
myorigin = {hostname}
# Nothing is delivered locally: every domain goes out (transport map or
# relay host), and there is no local(8) in master.cf.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost = [127.0.0.1]:{sink_port}
transport_maps = texthash:{root}/etc/transport
# Final delivery (Action: delivered) is local delivery: virtual(8) into one
# Maildir.  Over LMTP Postfix says "relayed" (or, when the server offers
# DSN, passes NOTIFY on and says nothing).  Every address of the domain
# has that mailbox but the refused one, which bounces as unknown
# (5.1.1); the check waits for delivery, so that it makes a DSN rather
# than a refusal at RCPT time.
virtual_mailbox_domains = {final_domain}
virtual_mailbox_maps = regexp:{root}/etc/mailboxes
virtual_mailbox_base = {root}/mail
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = {uid}
smtpd_reject_unlisted_recipient = no
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
# A network namespace has no resolver: no DNS for anything (the next hops
# are all [address]:port).
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
# Delay DSNs within seconds: a warning as soon as the first attempt has
# been deferred, and a retry every second after it.
delay_warning_time = 1s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 1s
# Debian's delay notice counts in hours ("0 hour(s)", and a warning in the
# log for each notice); this one counts in seconds.
bounce_template_file = {root}/etc/bounce.cf
# A deferred recipient stays deferred for the length of any test (no
# failure DSN for it after a few retries).
maximal_queue_lifetime = 1d
bounce_queue_lifetime = 1d
# Mailman's LMTP runner and the sinks answer at once; a stuck one fails
# a test in seconds, not minutes.
lmtp_connect_timeout = 5s
smtp_connect_timeout = 5s
notify_classes = resource, software
"""

# Postfix's own delay template (postconf -t), in seconds.
BOUNCE_CF = """\
delay_template = <<EOF
Charset: us-ascii
From: Mail Delivery System <MAILER-DAEMON>
Subject: Delayed Mail (still being retried)
Postmaster-Subject: Postmaster Warning: Delayed Mail

This is the mail system at host $myhostname.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than
$delay_warning_time_seconds second(s).
It will be retried until it is $maximal_queue_lifetime_days day(s) old.

                   The mail system
EOF
"""

# Only the services this routing uses; no chroot (no copies of /etc in the
# queue directory), and no local(8), pickup(8) or TLS.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def unavailable() -> str | None:
    """None when a private Postfix can run here; else what is missing."""
    if not os.access(POSTFIX, os.X_OK):
        return f"Debian's postfix is not installed ({INSTALL})"
    if os.geteuid() != 0:
        # master(8) must start as root: it binds, then runs its daemons
        # as mail_owner.
        return 'Postfix must be started by root'
    return None


def available() -> bool:
    """Can a private Postfix run here (installed, and we are root)?"""
    return unavailable() is None


def required(environ: Mapping[str, str] | None = None) -> bool:
    """Does MAILMAN_BOUNCES_REQUIRE (comma-separated) name ``postfix``?"""
    names = (os.environ if environ is None else environ).get(
        'MAILMAN_BOUNCES_REQUIRE', '')
    return 'postfix' in [name.strip() for name in names.split(',')]


def skip_unless_available(environ: Mapping[str, str] | None = None) -> None:
    """In a test (or fixture) that needs Postfix: skip it with a note
    saying what is missing, or fail it when MAILMAN_BOUNCES_REQUIRE names
    ``postfix`` (CI: a missing Postfix must not pass as a skip)."""
    import pytest  # here, so that using the rest needs no pytest
    missing = unavailable()
    if missing is None:
        return
    if required(environ):
        pytest.fail(f'{missing}, which MAILMAN_BOUNCES_REQUIRE requires',
                    pytrace=False)
    pytest.skip(f'{missing}; Postfix tests skipped')


@dataclass
class Postfix:
    """A running private Postfix (see the module's docstring); `stop` it
    when done, or use it as a context manager."""

    # Mailman's LMTP runner (or a stand-in), where mail for `list_domain`,
    # the DSNs included, goes.
    lmtp_port: int
    list_domain: str = 'example.com'
    final_domain: str = 'final.test'
    port: int = 0                 # smtpd's; 0: a free port, chosen at start
    hostname: str = 'mta.test'
    refused: str = 'nosuchuser'
    deferred: str = 'slowpoke'
    root: Path = field(default_factory=lambda: Path(
        tempfile.mkdtemp(prefix='mailman-bounces-postfix-')))
    # The relay host: the SMTP sink for every other domain.
    sink: Sink = field(init=False)

    def __post_init__(self) -> None:
        self.sink = Sink(refused=self.refused, deferred=self.deferred)

    @property
    def config_directory(self) -> Path:
        return self.root / 'etc'

    @property
    def log_file(self) -> Path:
        return self.root / 'postfix.log'

    def _postfix(self, *args: str, check: bool = True
                 ) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [POSTFIX, '-c', str(self.config_directory), *args],
            capture_output=True, text=True, check=False,
            # The umask Postfix expects for the queue directories it makes
            # (Mailman's 007 would shut its daemons out).
            umask=0o022)
        if check and done.returncode != 0:
            raise RuntimeError(
                f'postfix {" ".join(args)} exited with {done.returncode}: '
                f'{done.stdout}{done.stderr}\n{self.log()}')
        return done

    def configure(self) -> None:
        """Write its main.cf, master.cf and transport map and make its
        directories."""
        # Postfix's daemons run as the postfix user and chdir to the queue
        # directory: every directory above it must let them through (a
        # 0700 $TMPDIR would not).
        self.root.chmod(0o755)
        for directory in self.root.parents:
            if not directory.stat().st_mode & 0o001:
                raise RuntimeError(
                    f'{directory} is not searchable by others, so Postfix '
                    f'cannot reach {self.root}: set TMPDIR elsewhere')
        for sub in ('etc', 'queue', 'data', 'mail'):
            (self.root / sub).mkdir(exist_ok=True)
            # Whatever the caller's umask (Mailman's is 007): the daemons,
            # as the postfix user, must enter them.
            (self.root / sub).chmod(0o755)
        # postfix(1) makes the queue's subdirectories itself
        # (post-install create-missing) but wants its lock file in a
        # data_directory owned by the postfix user; virtual(8) delivers as
        # that user too.
        owner = pwd.getpwnam('postfix')
        for sub in ('data', 'mail'):
            os.chown(self.root / sub, owner.pw_uid, owner.pw_gid)
        (self.config_directory / 'main.cf').write_text(MAIN_CF.format(
            root=self.root, hostname=self.hostname, sink_port=self.sink.port,
            final_domain=self.final_domain, uid=owner.pw_uid,
            gid=owner.pw_gid))
        (self.config_directory / 'master.cf').write_text(
            MASTER_CF.format(port=self.port))
        # texthash: read as it is, no postmap.  The list domain's
        # subdomains (lists.example.com) go the same way; the deferred
        # address of the final domain goes to the sink, which defers it.
        lmtp = f'lmtp:[127.0.0.1]:{self.lmtp_port}'
        (self.config_directory / 'transport').write_text(
            f'{self.list_domain} {lmtp}\n'
            f'.{self.list_domain} {lmtp}\n'
            f'{self.deferred}@{self.final_domain} '
            f'smtp:[127.0.0.1]:{self.sink.port}\n')
        # One Maildir (the trailing slash) for every address but the
        # refused one: a regexp table's "!" matches when the pattern does
        # not.
        (self.config_directory / 'mailboxes').write_text(
            f'!/^{re.escape(self.refused)}@/ final/\n')
        (self.config_directory / 'bounce.cf').write_text(BOUNCE_CF)
        for name in ('main.cf', 'master.cf', 'transport', 'mailboxes',
                     'bounce.cf'):
            (self.config_directory / name).chmod(0o644)

    def start(self) -> Self:
        """Start the sink and Postfix; return when its smtpd answers."""
        self.sink.start()
        self.port = self.port or free_port()
        try:
            self.configure()
            # postfix -c is allowed for root without the directory being
            # listed in /etc/postfix/main.cf's alternate_config_directories:
            # that list binds only the set-gid postdrop and postqueue, which
            # this instance does not use (mail comes in by SMTP).  So the
            # system's configuration is left alone (and may not exist: the
            # package's "No configuration" writes none).
            self._postfix('check')
            self._postfix('start')
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_until_ready(self, timeout: float = 20) -> None:
        """Wait until smtpd answers EHLO on `port`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with smtplib.SMTP('127.0.0.1', self.port, timeout=5) as smtp:
                    smtp.ehlo()
                return
            except (OSError, smtplib.SMTPException):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f'Postfix does not answer on 127.0.0.1:{self.port} '
                        f'after {timeout}s:\n{self.log()}') from None
                time.sleep(0.1)

    def log(self) -> str:
        """Its log so far (postlogd's file)."""
        try:
            return self.log_file.read_text(errors='replace')
        except OSError:
            return ''

    def wait_for_log(self, pattern: str, count: int = 1,
                     timeout: float = 20) -> list[re.Match]:
        """The first `count` matches of the regular expression `pattern`
        in its log, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        while True:
            found = list(re.finditer(pattern, self.log(), re.MULTILINE))
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f'{len(found)} of {count} log lines matching {pattern!r} '
                    f'in {timeout}s:\n{self.log()}')
            time.sleep(0.1)

    def delivered(self) -> list[Message]:
        """The messages delivered in `final_domain`, in the order of
        delivery; each names its recipient in ``Delivered-To``."""
        box = mailbox.Maildir(self.root / 'mail' / 'final', create=False)
        try:
            keys = box.keys()
        except FileNotFoundError:
            return []     # nothing delivered yet: no Maildir
        return [box.get_message(key) for key in sorted(keys, key=_when)]

    def queued(self) -> list[str]:
        """The queue IDs of the messages Postfix still holds (arriving,
        being delivered or deferred); [] once all are done."""
        queue = self.root / 'queue'
        return sorted(name for sub in ('incoming', 'active', 'deferred')
                      for _, _, names in os.walk(queue / sub)
                      for name in names)

    def _master_pid(self) -> int | None:
        try:
            return int((self.root / 'queue' / 'pid' / 'master.pid')
                       .read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop Postfix and the sinks and delete its directory."""
        pid = self._master_pid()
        if pid is not None:
            self._postfix('stop', check=False)
            # postfix stop signals master(8) and returns; master then stops
            # its daemons.  Wait, so that nothing writes into the directory
            # being deleted.
            if not _gone(pid, 10):
                self._postfix('abort', check=False)
                if not _gone(pid, 5):
                    os.kill(pid, 9)
        self.sink.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _when(key: str) -> tuple[int, int]:
    """When virtual(8) delivered the Maildir message `key`: its name is
    SECONDS.V<dev>I<inode>M<microseconds>.HOST."""
    found = re.match(r'(\d+)\.\S*?M(\d+)', key)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _gone(pid: int, seconds: float) -> bool:
    """Has process `pid` ended within `seconds`?"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            # A zombie has ended too: its parent (init, once master(8)
            # detached) may reap it late, or never in a bare container.
            status = Path(f'/proc/{pid}/stat').read_text()
        except OSError:
            return True
        if status.rpartition(')')[2].split()[0] in ('Z', 'X'):
            return True
        time.sleep(0.05)
    return False
