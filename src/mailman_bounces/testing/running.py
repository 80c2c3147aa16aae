"""A real Mailman instance with the plugin, running in a directory.

``mailman start``: the master and every runner (LMTP, REST, bounces, the
periodic pass, virgin, out ...) as processes of their own, on a shifted
clock (`mailman_bounces.testing.clock`), with outgoing mail going to an
SMTP server of the caller's (a sink).  It is talked to as a site's mail
server and front end would: bounces over its LMTP port, questions over
REST.  The demo (``scripts/demo.py``) and the acceptance run on a real
instance (``tests/test_verp_acceptance.py``) are built on it.

`RunningInstance` starts and stops the master, moves the clock, talks
REST and LMTP and waits for the runners to empty their queues; what runs
beside Mailman (the demo's sink, Postorius and Dovecot) is its caller's.
The multi-host harness (`mailman_bounces.testing.multihost`) runs several
of them on one database.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from base64 import b64encode
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from mailman_bounces.testing.clock import read_offset, set_offset

BIN = Path(sys.executable).parent
AUTH = 'Basic ' + b64encode(b'restadmin:restpass').decode()

# Generous: a loaded machine with two cores starts Mailman's dozen runner
# processes in well under a minute.
START_TIMEOUT = 180
SETTLE_TIMEOUT = 120

# What the master's command line contains.
MASTER = 'master'

# Queues where a message stays for good (or for a long retry period): no
# one waits for them to empty, one checks that they are empty.
TERMINAL_QUEUES = ('bad', 'retry', 'shunt')

# A queue file a runner has yet to handle (.pck) or is handling (.bak, put
# back as .pck if the runner dies).  Not .tmp: the switchboard writes a
# message as .pck.tmp and renames it before `enqueue` returns, while the
# writer still holds the message it came from (its .bak) or has not yet
# answered the LMTP client, so a .tmp never hides work from a waiter; and a
# writer killed halfway leaves its .tmp for good (no runner reads one), which
# would keep a waiter waiting for ever.
QUEUED = ('.pck', '.bak')


def _foreign(name: str) -> bool:
    """Whether the environment variable `name` is a Mailman setting that
    must not leak in from the caller's environment (the test suite sets
    MAILMAN_EXTRA_TESTING_CFG for its own Mailman; a runner has
    MAILMAN_UNDER_MASTER_CONTROL); the plugin's own (MAILMAN_BOUNCES_*)
    pass."""
    return name.startswith('MAILMAN_') and not name.startswith(
        'MAILMAN_BOUNCES_')


def shown(path: Path) -> str:
    """`path` as the user would type it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def mailman_config(*, layout: str, var: Path, site_owner: str,
                   smtp_port: int, lmtp_port: int, rest_port: int,
                   plugin_config: Path, clock: Path, pass_runner: bool,
                   pass_runner_note: str = '', sections: str = '') -> str:
    """A mailman.cfg for an instance under `var` on 127.0.0.1: outgoing
    mail to `smtp_port`, the plugin configured by `plugin_config`, the
    clock shifted by the offset in `clock`; `pass_runner`: whether the
    periodic pass runner starts; `sections`: more of the caller's (not
    those written here: a section may be written once)."""
    note = f'# {pass_runner_note}\n' if pass_runner_note else ''
    return f"""\
[mailman]
layout: {layout}
site_owner: {site_owner}

[paths.{layout}]
var_dir: {var}

[mta]
incoming: mailman.mta.null.NullMTA
smtp_host: 127.0.0.1
smtp_port: {smtp_port}
lmtp_host: 127.0.0.1
lmtp_port: {lmtp_port}

[webservice]
hostname: 127.0.0.1
port: {rest_port}

[runner.bounces]
# Pick bounces up at once (the plugin's default is every 10 seconds).
sleep_time: 1s

[runner.bouncepass]
{note}start: {'yes' if pass_runner else 'no'}

[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
configuration: {plugin_config}

[plugin.clock]
# Mailman's now() is shifted by the offset in this file.
class: mailman_bounces.testing.clock.ShiftedClock
component_package: mailman_bounces.testing
enabled: yes
configuration: {clock}
{sections}"""


@dataclass(frozen=True)
class Server:
    """A server one talks to: its name, the file naming the process that
    runs it, and how to tell that it answers."""

    name: str
    pid_file: Path
    answers: Callable[[], bool]


class RunningInstance:
    """A Mailman instance: its configuration file and var directory, its
    REST and LMTP ports, its clock file (see the module's docstring)."""

    # What a failure raises (the demo's stops it with a message).
    error: type[Exception] = RuntimeError

    def __init__(self, var: Path, config_file: Path, rest_port: int,
                 lmtp_port: int, clock: Path) -> None:
        self.var = var
        self.config_file = config_file
        self.clock = clock
        self.lmtp_port = lmtp_port
        self.rest_port = rest_port
        self.master_pid = var / 'master.pid'
        self.rest_url = f'http://127.0.0.1:{rest_port}/3.1'
        # Where `start_master` put the output of ``mailman start``.
        self.start_log: Path | None = None
        self.env = {name: value for name, value in os.environ.items()
                    if not _foreign(name)}

    # ---- processes

    def mailman(self, *args: str, check: bool = True,
                stdin: str | None = None, timeout: float | None = None
                ) -> subprocess.CompletedProcess:
        """Run a `mailman` command on the instance (`stdin`: its input)."""
        result = subprocess.run(self.mailman_command(*args),
                                capture_output=True, text=True, input=stdin,
                                env=self.env, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise self.error(f'mailman {" ".join(args)} failed:\n'
                             f'{result.stdout}{result.stderr}')
        return result

    def mailman_command(self, *args: str) -> list[str]:
        command = [str(BIN / 'mailman'), '-C', str(self.config_file)]
        if os.geteuid() == 0:
            command.append('--run-as-root')
        return command + list(args)

    def pid(self, path: Path, program: str = MASTER) -> int | None:
        """The process id in `path`, if that process is alive and is still
        `program` (a file left behind names a process id that the system
        may since have given to another program)."""
        try:
            pid = int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if runs(pid, program) else None

    def master(self) -> int | None:
        """The running master's process id, if it runs."""
        return self.pid(self.master_pid)

    def start_master(self, log: Path) -> None:
        """``mailman start``, its output in `log`.  The master keeps
        running: it must not hold our output pipes.  --force: a master
        that was killed leaves its lock behind."""
        self.start_log = log
        with open(log, 'w') as output:
            started = subprocess.run(
                self.mailman_command('start', '--force'), stdout=output,
                stderr=output, stdin=subprocess.DEVNULL, env=self.env,
                check=False)
        if started.returncode != 0:
            raise self.error(f'mailman start failed:\n{log.read_text()}')

    def stop_master(self) -> int | None:
        """``mailman stop``, and wait until the master (which stops its
        runners first) is gone; the pid it had, if it ran."""
        master = self.master()
        if master is not None:
            self.mailman('stop', check=False)
            wait_gone(master, MASTER, 'the Mailman master', error=self.error)
        # The master removes its pid file as it exits; one killed outright
        # leaves it behind, naming a process id that may be reused.
        self.master_pid.unlink(missing_ok=True)
        return master

    def processes(self) -> list[int]:
        """The processes running on this instance's configuration (the
        master and its runners are started with ``-C`` naming it)."""
        named = b'\0' + str(self.config_file).encode() + b'\0'
        found = []
        for proc in Path('/proc').glob('[0-9]*'):
            try:
                command = (proc / 'cmdline').read_bytes()
            except OSError:
                continue
            if named in b'\0' + command and runs(int(proc.name),
                                                 str(self.config_file)):
                found.append(int(proc.name))
        return found

    def kill(self) -> list[int]:
        """SIGKILL the master and every runner at once, as a crash of the
        machine would stop them (their queue files stay as they were); the
        processes there were."""
        pids = self._signal(signal.SIGKILL)
        for pid in pids:
            wait_gone(pid, str(self.config_file), f'process {pid}',
                      timeout=30, error=self.error)
        return pids

    def kill_leftovers(self, timeout: float = 30) -> list[int]:
        """Terminate, one by one, the processes still running on this
        instance's configuration (runners a master that did not stop
        cleanly left behind); those there were."""
        leftovers = self._signal(signal.SIGTERM)
        for pid in leftovers:
            try:
                wait_gone(pid, str(self.config_file), f'process {pid}',
                          timeout=timeout, error=self.error)
            except self.error:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        return leftovers

    def _signal(self, number: signal.Signals) -> list[int]:
        """Send signal `number` to the processes running on this instance's
        configuration (not to this one); those there were."""
        pids = [pid for pid in self.processes() if pid != os.getpid()]
        for pid in pids:
            with suppress(ProcessLookupError):    # it exited meanwhile
                os.kill(pid, number)
        return pids

    def servers(self) -> list[Server]:
        """The servers of the instance: REST and LMTP."""
        return [self.rest_server(), self.lmtp_server()]

    def rest_server(self) -> Server:
        return Server(f'REST (port {self.rest_port})', self.master_pid,
                      self.rest_answers)

    def lmtp_server(self) -> Server:
        return Server(f'LMTP (port {self.lmtp_port})', self.master_pid,
                      lambda: greets(smtplib.LMTP, self.lmtp_port))

    def rest_answers(self) -> bool:
        try:
            self.rest('GET', '/system/versions', timeout=5)
            return True
        except OSError:           # URLError, HTTPError, timeouts
            return False

    def answering(self) -> dict[str, bool]:
        return {server.name: server.answers() for server in self.servers()}

    def check_alive(self) -> None:
        """While waiting for the servers: raise if something that should
        answer has exited (nothing to check here)."""

    def wait_for_servers(self, timeout: float = START_TIMEOUT) -> None:
        """Until every server answers; or name those that do not."""
        deadline = time.monotonic() + timeout
        while True:
            silent = [name for name, up in self.answering().items() if not up]
            if not silent:
                return
            self.check_alive()
            if time.monotonic() > deadline:
                raise self.error(
                    f'Mailman did not start within {timeout:.0f}s: '
                    f'{", ".join(silent)} did not answer; see '
                    f'{shown(self.var / "logs")}/mailman.log'
                    + (f' and {shown(self.start_log)}.' if self.start_log
                       else '.'))
            time.sleep(0.5)

    # ---- the clock

    def now(self) -> datetime:
        """The time on the instance's clock (UTC, naive like Mailman's)."""
        real = datetime.now(UTC).replace(tzinfo=None)
        return real + read_offset(self.clock)

    def set_clock(self, when: datetime) -> None:
        set_offset(self.clock, when - datetime.now(UTC).replace(tzinfo=None))

    def advance_clock(self, days: int) -> None:
        set_offset(self.clock, read_offset(self.clock) + timedelta(days=days))

    # ---- talking to it

    def rest(self, method: str, path: str, data: dict | None = None,
             timeout: float = 30):
        body = None
        headers = {'Authorization': AUTH}
        if data is not None:
            body = json.dumps(data).encode()
            headers['Content-Type'] = 'application/json'
        request = Request(self.rest_url + path, data=body, method=method,
                          headers=headers)
        with urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def collection(self, path: str, **query: str) -> list[dict]:
        """Every entry of a REST collection, page after page."""
        entries: list[dict] = []
        page = 1
        while True:
            result = self.rest('GET', f'{path}?' + urlencode(
                {**query, 'count': 200, 'page': page}))
            entries += result.get('entries', [])
            if len(entries) >= result['total_size'] or not result.get(
                    'entries'):
                return entries
            page += 1

    def total(self, path: str, **query: str) -> int:
        """The size of a REST collection."""
        return self.rest('GET', f'{path}?' + urlencode(
            {**query, 'count': 1, 'page': 1}))['total_size']

    def deliver(self, deliveries: Iterable) -> None:
        """Deliver messages (each with a `recipient` and a `text`) over
        LMTP, from the null sender, as an MTA would."""
        deliveries = list(deliveries)
        if not deliveries:
            return
        client = smtplib.LMTP('127.0.0.1', self.lmtp_port)
        try:
            for delivery in deliveries:
                try:
                    client.sendmail('', [delivery.recipient], delivery.text)
                except smtplib.SMTPException as error:
                    raise self.error(
                        f'LMTP refused a message to {delivery.recipient}: '
                        f'{error}') from None
        finally:
            client.quit()

    def busy_queues(self) -> dict[str, int]:
        """Messages waiting in or being handled by each queue's runner (a
        runner keeps a message it works on as .bak until it is done; see
        QUEUED).  Every queue but the terminal ones counts, those of runners
        an instance does not start too: a message there is never handled,
        and a wait must not end as if all were done (`settle` names the
        queue when it gives up)."""
        busy = {}
        for queue in sorted((self.var / 'queue').iterdir()):
            if queue.name in TERMINAL_QUEUES:
                continue
            count = sum(1 for entry in queue.iterdir()
                        if entry.suffix in QUEUED)
            if count:
                busy[queue.name] = count
        return busy

    def stuck(self) -> dict[str, int]:
        """Messages in the queues nothing takes them out of (the bad
        queue keeps them as .psv)."""
        return {queue: len(list((self.var / 'queue' / queue).glob('*.*')))
                for queue in TERMINAL_QUEUES}

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Until the runners handled every message in their queues: the
        bounces are registered, the notices are sent."""
        deadline = time.monotonic() + timeout
        while busy := self.busy_queues():
            if time.monotonic() > deadline:
                waiting = ', '.join(f'{queue} {count}'
                                    for queue, count in busy.items())
                raise self.error(
                    f'The runners did not finish within {timeout:.0f}s '
                    f'(still queued: {waiting}); see '
                    f'{shown(self.var / "logs")}/mailman.log.')
            time.sleep(0.2)

    def process(self) -> None:
        """A bounce pass now (what the periodic runner does)."""
        self.mailman('bounces', 'process')


def listens(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=5):
            return True
    except OSError:
        return False


def greets(client_class, port: int) -> bool:
    """Does an (L)SMTP server on `port` greet a client?"""
    try:
        client = client_class('127.0.0.1', port, timeout=5)
    except (OSError, smtplib.SMTPException):
        return False
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        pass
    return True


def runs(pid: int, program: str) -> bool:
    """Whether process `pid` is alive (not a zombie) and runs `program`."""
    proc = Path('/proc') / str(pid)
    if not Path('/proc/self').exists():       # no procfs: trust the pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        # The state follows the parenthesised command name in `stat`.
        state = (proc / 'stat').read_text().rpartition(')')[2].split()[0]
        command = (proc / 'cmdline').read_bytes()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    # A daemon's parent may be an init that reaps late: a zombie is gone.
    return state != 'Z' and program.encode() in command


def http_answers(url: str) -> bool:
    """Whether a web server answers `url` (with any page)."""
    try:
        with urlopen(url, timeout=5):
            return True
    except HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def wait_gone(pid: int, program: str, what: str, timeout: float = 60,
              error: type[Exception] = RuntimeError) -> None:
    """Until process `pid` no longer runs `program`; raise `error` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our own child (the demo's sink, say).
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not runs(pid, program):
            return
        time.sleep(0.2)
    raise error(f'{what} (pid {pid}) did not stop within {timeout}s.')
