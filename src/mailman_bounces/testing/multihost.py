"""Several real Mailman hosts on one PostgreSQL database, fed one stream.

A site that outgrows one machine runs several Mailman instances against
one database.  This harness shows what that does to the plugin's
decisions: it starts N real instances (``mailman start``: separate var
directories, LMTP ports and outgoing SMTP sinks, the same database URL and
one shared clock file), feeds them a seeded stream of bounces split at
random between their LMTP ports, and collects a canonical outcome (no row
ids, nothing that depends on which host did what) to compare with the
outcome of one instance fed the same stream.

Time: the stream is a number of days; each day is one phase at 09:00 UTC
on a stopped clock (`mailman_bounces.testing.clock.freeze`) that every
process of every host reads, so an event's timestamp and every pass's
``now`` are the phase's time whichever host did the work.  The passes
first send the day's warnings and make its removals, then the day's
bounces come.  A member bounces
at most once a day (a bounce may come twice, in messages alike but for
their Message-ID), so the order in which the hosts register a member's
bounces cannot change their scoring nor the text of a notice.  A phase ends when every bounce of
the day is registered and processed, no notice is pending, every host's
queues are empty and every host finished `Run.passes` more passes (so the
day's warnings and removals were decided); only then does the clock move
to the next day.

Killing: `Kill` SIGKILLs one host's master and runners in the middle of a
day's deliveries.  Like an MTA with two MX records, the feeder then hands
that host's share of the rest of the day to another host; the killed host
is started again (``mailman start --force``) before the day ends, finds
the queue files it had not finished and registers them (idempotently).

The outcome: each event (list, address, day, reason, outcome, score
delta), each membership (score, delivery status, warnings sent, the
plugin's score and disable reason; removed members are absent), the
notices of the plugin's outbox, the mail the sinks received (recipient,
subject with tokens masked, day) with the ones received twice, and the
once-per-period steps taken (from each host's ``bounce.log``) with the
ones taken twice.
"""

from __future__ import annotations

import hashlib
import random
import re
import smtplib
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mailman_bounces.testing.clock import freeze
from mailman_bounces.testing.running import (
    RunningInstance,
    Server,
    mailman_config,
)
from mailman_bounces.testing.smtp_sink import Sink, free_port

DAY_ONE = datetime(2025, 3, 3, 9, 0)       # a Monday, 09:00 UTC
DOMAIN = 'lists.example.com'
OWNER = 'owner@example.com'
SITE_OWNER = 'postmaster@example.com'
PHASE_TIMEOUT = 300

# What a bounce of the stream says: (status, action, diagnostic).
KINDS = {
    'hard': ('5.1.1', 'failed', '550 5.1.1 <{email}>: User unknown'),
    'full': ('4.2.2', 'delayed', '452 4.2.2 <{email}>: Mailbox full'),
    'dmarc': ('5.7.26', 'failed', ('550 5.7.26 Unauthenticated email is '
                                   'not accepted due to DMARC policy')),
}


# ---- the stream


@dataclass(frozen=True)
class Bounce:
    day: int
    list_name: str            # local part: NAME@DOMAIN
    email: str | None         # None: a message naming nobody (unrecognised)
    kind: str                 # a key of KINDS, or 'junk'
    number: int
    copy: int = 0             # a second message of the same bounce: 1

    @property
    def list_address(self) -> str:
        return f'{self.list_name}@{DOMAIN}'

    @property
    def bounces_address(self) -> str:
        return f'{self.list_name}-bounces@{DOMAIN}'

    @property
    def list_id(self) -> str:
        return f'{self.list_name}.{DOMAIN}'

    def message(self) -> str:
        # Only the Message-ID tells a copy from its original: whichever
        # of the two is scored first, the notices quoting it read alike.
        message_id = (f'<b{self.number}.{self.copy}.d{self.day}'
                      f'@mx.stream.example>')
        to = self.bounces_address
        if self.email is None:
            return (f'From: postmaster@nowhere.example\nTo: {to}\n'
                    f'Subject: Your message {self.number}\n'
                    f'Message-ID: {message_id}\n\n'
                    f'Something happened to message {self.number}.\n')
        status, action, diagnostic = KINDS[self.kind]
        domain = self.email.partition('@')[2]
        return f"""\
From: MAILER-DAEMON@mx.{domain} (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="B{self.number}"

--B{self.number}
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--B{self.number}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.{domain}

Final-Recipient: rfc822; {self.email}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.{domain}
Diagnostic-Code: smtp; {diagnostic.format(email=self.email)}

--B{self.number}
Content-Type: text/rfc822-headers

From: {self.list_address}
To: {self.list_address}
Subject: Post {self.number}
Message-ID: <post-{self.number}@{DOMAIN}>

--B{self.number}--
"""


@dataclass
class Stream:
    """A seeded stream: lists, their members, the bounces of each day."""

    seed: int
    lists: dict[str, list[str]]            # list name -> member addresses
    bounces: list[Bounce]
    days: int                              # phases (bounce days + quiet ones)

    @classmethod
    def generate(cls, seed: int, bounces: int, lists: int = 3,
                 members: int = 60, bounce_days: int = 6,
                 quiet_days: int = 3) -> Stream:
        """`bounces` bounces over `bounce_days` days to `lists` lists of
        `members` members, then `quiet_days` days without any (for the
        warnings and removals).  A third of each list's members bounce
        every day ("dead" addresses), the rest now and then; one bounce in
        twenty names an address that is not a member, one in twenty names
        nobody.  Members share a domain three by three, each domain with
        its own mail server, so no outage freeze is ever right."""
        rng = random.Random(seed)
        names = [f'list{n}' for n in range(lists)]
        roster = {name: [f'm{n}.{name}@d{n // 3}.{name}.example'
                         for n in range(members)] for name in names}
        dead = {name: emails[:members // 3]
                for name, emails in roster.items()}
        # Every (list, member, day) at most once.
        slots = [(day, name, email) for day in range(bounce_days)
                 for name in names for email in roster[name]]
        weights = [6.0 if email in dead[name] else 1.0
                   for _, name, email in slots]
        chosen: set = set()
        wanted = min(bounces, len(slots))
        stream: list[Bounce] = []
        while len(stream) < wanted * 9 // 10:
            slot = rng.choices(slots, weights)[0]
            if slot in chosen:
                continue
            chosen.add(slot)
            day, name, email = slot
            kind = rng.choices(['hard', 'full', 'dmarc'], [6, 3, 1])[0]
            stream.append(Bounce(day, name, email, kind, len(stream)))
            if rng.random() < 0.25:
                # The same bounce again in another message, likely to go
                # to the other host: the two hosts' passes may claim the
                # member's events at once.  (Alike but for the Message-ID,
                # so the order in which they are scored cannot change the
                # outcome.)
                stream.append(replace(stream[-1], copy=1))
        extra = len(stream)
        while len(stream) < wanted:
            day, name = rng.randrange(bounce_days), rng.choice(names)
            if rng.random() < 0.5:
                email = f'stranger{len(stream)}@x{len(stream)}.example'
                stream.append(Bounce(day, name, email, 'hard', extra))
            else:
                stream.append(Bounce(day, name, None, 'junk', extra))
            extra += 1
        rng.shuffle(stream)
        stream.sort(key=lambda bounce: bounce.day)
        return cls(seed, roster, stream, bounce_days + quiet_days)

    def of_day(self, day: int) -> list[Bounce]:
        return [bounce for bounce in self.bounces if bounce.day == day]

    @property
    def expected_events(self) -> int:
        """One event per bounce naming an address."""
        return sum(1 for bounce in self.bounces if bounce.email is not None)


# ---- the mail the hosts sent


def _masked(text_: str) -> str:
    """`text_` without what differs between two sendings of one notice
    (tokens, message ids, dates)."""
    text_ = re.sub(r'[0-9a-f]{16,}', '<token>', text_)
    text_ = re.sub(r'<[^<>@\s]+@[^<>\s]+>', '<id>', text_)
    return re.sub(r'\d\d:\d\d(:\d\d)?', '<time>', text_)


@dataclass
class Mail:
    """What the hosts' sinks received, made comparable between runs: a
    (recipient, masked subject, day, body digest) per recipient, and the
    masked text of each digest (to show what differs)."""

    received: list[tuple[str, str, str, str]] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)

    def add(self, message: Message, recipients: list[str], day: str) -> None:
        # Tokens (re-enable links, confirmation cookies) differ per run.
        subject = _masked(str(make_header(decode_header(
            message['subject'] or ''))))
        text_ = '\n'.join(
            _masked(part.get_payload(decode=True).decode('utf-8', 'replace'))
            for part in message.walk()
            if not part.is_multipart()
            and part.get_payload(decode=True) is not None)
        body = hashlib.sha256(text_.encode()).hexdigest()[:12]
        self.bodies[body] = text_
        self.received += [(recipient.lower(), subject, day, body)
                          for recipient in recipients]


# ---- the hosts


class Host(RunningInstance):
    """One Mailman instance of the site: a `RunningInstance` on the shared
    database and clock, sending to a sink (`smtp_sink.Sink`) of its own,
    with only the runners the stream needs."""

    def __init__(self, number: int, root: Path, database_url: str,
                 clock: Path, pass_interval: str = '1s') -> None:
        # A REST port is configured but not used: the harness reads the
        # database, and the REST runner is not started.
        super().__init__(root / 'var', root / 'mailman.cfg', free_port(),
                         free_port(), clock)
        self.number = number
        self.root = root
        self.database_url = database_url
        self.pass_interval = pass_interval
        # Started (and stopped) by the run; the port is known at once for
        # the configuration.
        self.sink = Sink(port=free_port())
        self.bounce_log = self.var / 'logs' / 'bounce.log'

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        plugin_config = self.root / 'bounces.cfg'
        plugin_config.write_text(f"""\
[bounces]
pass_interval: {self.pass_interval}

[list_defaults]
# The stream's bounces come to the plain -bounces address (unverified):
# counted as core counts them, so members are disabled and warned.
unverified_action: count
""", encoding='utf-8')
        self.config_file.write_text(mailman_config(
            layout='here', var=self.var, site_owner=SITE_OWNER,
            smtp_port=self.sink.port, lmtp_port=self.lmtp_port,
            rest_port=self.rest_port, plugin_config=plugin_config,
            clock=self.clock, pass_runner=True,
            sections=self._sections()), encoding='utf-8')

    def _sections(self) -> str:
        runners_off = ''.join(
            f'[runner.{name}]\nstart: no\n\n'
            # Only what the stream needs runs: lmtp, bounces, the pass,
            # virgin and out (fewer processes to start on a busy machine).
            for name in ('archive', 'command', 'digest', 'in', 'nntp',
                         'pipeline', 'rest', 'retry', 'task',
                         'bouncecallbacks'))
        return f"""
[database]
class: mailman.database.postgresql.PostgreSQLDatabase
url: {self.database_url}

[logging.bounce]
level: debug

[runner.virgin]
sleep_time: 1s

[runner.out]
sleep_time: 1s

{runners_off}"""

    def servers(self) -> list[Server]:
        """LMTP only (REST does not run)."""
        return [self.lmtp_server()]

    def start(self) -> None:
        """``mailman start``; `wait_for_servers` waits until it answers."""
        self.start_master(self.root / 'start.log')

    def stop(self) -> None:
        """``mailman stop``; what did not stop within a minute is killed
        (a run's clean-up must stop every host, whatever happened)."""
        with suppress(self.error):
            self.stop_master()
        self.kill()

    def log_text(self) -> str:
        try:
            return self.bounce_log.read_text(encoding='utf-8',
                                              errors='replace')
        except FileNotFoundError:
            return ''

    def passes_since(self, offset: int, when: datetime) -> int:
        done = f'Bounce pass at {when.isoformat()} done'
        return self.log_text()[offset:].count(done)


# ---- the database


@dataclass
class Database:
    """A database on the PostgreSQL server `server_url`."""

    server_url: str
    name: str

    @property
    def url(self) -> str:
        return make_url(self.server_url).set(database=self.name)\
            .render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        url = make_url(self.server_url).set(database='postgres')
        engine = create_engine(url, isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def create(self, template: str | None = None) -> None:
        self._admin(f'CREATE DATABASE {self.name}'
                    + (f' TEMPLATE {template}' if template else ''))

    def drop(self) -> None:
        self._admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    f"WHERE datname = '{self.name}' "
                    'AND pid <> pg_backend_pid()')
        self._admin(f'DROP DATABASE IF EXISTS {self.name}')


def prepare_template(stream: Stream, server_url: str, workdir: Path,
                     prefix: str = 'multihost') -> Database:
    """A database with the stream's lists and members (and Mailman's and
    the plugin's schema), made by a host of its own, to copy for each run.
    """
    template = Database(server_url, f'{prefix}_tpl_{uuid.uuid4().hex[:10]}')
    template.create()
    root = workdir / 'template'
    clock = root / 'clock'
    root.mkdir(parents=True, exist_ok=True)
    freeze(clock, DAY_ONE - timedelta(days=1))
    # Its sink is never started: making the lists sends no mail.
    host = Host(0, root, template.url, clock)
    host.write_config()
    # Creating lists needs no running instance: `mailman shell` does it
    # with core's API, in one transaction (and creates the schemas).
    script = _setup_script(stream)
    (root / 'setup.py').write_text(script, encoding='utf-8')
    _run_setup(host, root / 'setup.py')
    return template


def _setup_script(stream: Stream) -> str:
    return f"""\
from mailman.app.lifecycle import create_list
from mailman.config import config
from mailman.interfaces.domain import IDomainManager
from mailman.interfaces.member import MemberRole
from mailman.interfaces.usermanager import IUserManager
from zope.component import getUtility

LISTS = {stream.lists!r}

getUtility(IDomainManager).add({DOMAIN!r})
users = getUtility(IUserManager)
owner = users.create_address({OWNER!r})
for name, emails in LISTS.items():
    mlist = create_list(name + '@' + {DOMAIN!r})
    mlist.send_welcome_message = False
    mlist.send_goodbye_message = True
    mlist.bounce_score_threshold = 3
    mlist.bounce_you_are_disabled_warnings = 3
    mlist.bounce_you_are_disabled_warnings_interval = __import__(
        'datetime').timedelta(days=1)
    mlist.bounce_notify_owner_on_disable = True
    mlist.bounce_notify_owner_on_removal = True
    mlist.subscribe(owner, MemberRole.owner)
    for email in emails:
        address = users.create_address(email)
        address.verified_on = __import__('datetime').datetime(2025, 1, 1)
        mlist.subscribe(address, MemberRole.member)
config.db.commit()
print('lists', len(LISTS), 'members', sum(map(len, LISTS.values())))
"""


def _run_setup(host: Host, script: Path) -> None:
    result = host.mailman('shell', check=False, timeout=600,
                          stdin=f'exec(open({str(script)!r}).read())\n')
    if 'lists' not in result.stdout or 'Traceback' in (result.stdout
                                                       + result.stderr):
        raise RuntimeError(f'setting up the lists failed:\n{result.stdout}'
                           f'\n{result.stderr}')


# ---- a run


@dataclass(frozen=True)
class Kill:
    """Kill host `host` on day `day` after `after` of that day's
    deliveries, and start it again `down` seconds later."""

    host: int = 1
    day: int = 2
    after: float = 0.5
    down: float = 2.0


@dataclass
class RunResult:
    hosts: int
    seconds: float
    outcome: dict
    delivered: list[int]          # bounces each host accepted over LMTP
    killed: list[int] = field(default_factory=list)
    stuck: dict = field(default_factory=dict)


class Run:
    """One run of `stream` on `hosts` hosts and a copy of `template`."""

    def __init__(self, stream: Stream, hosts: int, template: Database,
                 workdir: Path, kill: Kill | None = None,
                 split_seed: int = 1, prefix: str = 'multihost',
                 log=print, passes: int = 2) -> None:
        self.stream = stream
        # Passes each host finishes at a day's time once all is quiet.  One
        # is enough: the pass that processed the last event decided the
        # warnings after it; the benchmark waits for two, to be sure.
        self.passes = passes
        self.kill_plan = kill
        self.split = random.Random(split_seed)
        self.template = template
        self.log = log
        self.database = Database(template.server_url,
                                 f'{prefix}_run_{uuid.uuid4().hex[:10]}')
        self.root = workdir / f'run-{hosts}-{uuid.uuid4().hex[:6]}'
        self.clock = self.root / 'clock'
        self.hosts = [Host(n, self.root / f'host{n}', self.database.url,
                           self.clock) for n in range(hosts)]
        self.down: set[int] = set()
        self.delivered = [0] * hosts
        self.killed: list[int] = []
        self.registered = 0
        self.mail = Mail()
        self._engine = None

    # -- the whole run

    def __call__(self) -> RunResult:
        self.database.create(template=self.template.name)
        self.root.mkdir(parents=True)
        freeze(self.clock, DAY_ONE)
        started = time.monotonic()
        try:
            for host in self.hosts:
                host.sink.start()
                host.write_config()
            # Together: the schema is the template's, up to date, so no
            # start upgrades it.
            for host in self.hosts:
                host.start()
            for host in self.hosts:
                host.wait_for_servers()
            self.log(f'  {len(self.hosts)} hosts started in '
                     f'{time.monotonic() - started:.1f}s')
            for day in range(self.stream.days):
                begun = time.monotonic()
                self.day(day)
                self.log(f'  day {day}: {len(self.stream.of_day(day))} '
                         f'bounces, {time.monotonic() - begun:.1f}s')
            seconds = time.monotonic() - started
            outcome = self.outcome()
            stuck = {host.number: host.stuck() for host in self.hosts}
        finally:
            for host in self.hosts:
                host.stop()
                host.sink.stop()
            if self._engine is not None:
                self._engine.dispose()
            self.database.drop()
        return RunResult(len(self.hosts), seconds, outcome, self.delivered,
                         self.killed, stuck)

    def engine(self):
        if self._engine is None:
            self._engine = create_engine(self.database.url)
        return self._engine

    def scalar(self, query: str):
        with self.engine().connect() as connection:
            return connection.execute(text(query)).scalar()

    # -- one day

    def now(self, day: int) -> datetime:
        return DAY_ONE + timedelta(days=day)

    def day(self, day: int) -> None:
        when = self.now(day)
        freeze(self.clock, when)
        # The warnings and removals due today first, then today's bounces:
        # otherwise whether a bounce comes before a removal ('not-member')
        # or a warning (which quotes the last bounce) would depend on how
        # fast the deliveries go, on one host as on two.
        self.settle(when)
        bounces = self.stream.of_day(day)
        kill = self.kill_plan if (self.kill_plan is not None
                                  and self.kill_plan.day == day) else None
        cut = int(len(bounces) * kill.after) if kill else None
        clients: dict[int, smtplib.LMTP] = {}
        try:
            for index, bounce in enumerate(bounces):
                if index == cut:
                    self._kill(kill, clients)
                target = self.split.randrange(len(self.hosts))
                self._deliver(bounce, target, clients)
        finally:
            for client in clients.values():
                try:
                    client.quit()
                except (OSError, smtplib.SMTPException):
                    pass
        if kill is not None:
            time.sleep(kill.down)
            victim = self.hosts[kill.host]
            victim.start()
            victim.wait_for_servers()
            self.down.discard(kill.host)
            self.log(f'  day {day}: host {kill.host} started again')
        self.registered += sum(1 for b in bounces if b.email is not None)
        self.settle(when)
        self._take_mail(when)

    def _take_mail(self, when: datetime) -> None:
        """The mail the sinks received today: all of it, as the day ends
        with every notice sent and every queue (out's too) empty."""
        day = when.date().isoformat()
        for host in self.hosts:
            for received in host.sink.take():
                self.mail.add(received.message, received.rcpt_tos, day)

    def _kill(self, kill: Kill, clients: dict) -> None:
        client = clients.pop(kill.host, None)
        if client is not None:
            try:
                client.close()
            except OSError:
                pass
        pids = self.hosts[kill.host].kill()
        self.killed += pids
        self.down.add(kill.host)
        self.log(f'  day {kill.day}: killed host {kill.host} '
                 f'({len(pids)} processes)')

    def _deliver(self, bounce: Bounce, target: int, clients: dict) -> None:
        """Deliver `bounce` to host `target`; to the next host that is up
        when it does not take it (an MTA's next MX)."""
        order = [target] + [n for n in range(len(self.hosts)) if n != target]
        for attempt in range(60):
            for number in order:
                if number in self.down:
                    continue
                try:
                    client = clients.get(number)
                    if client is None:
                        client = smtplib.LMTP('127.0.0.1',
                                              self.hosts[number].lmtp_port,
                                              timeout=60)
                        clients[number] = client
                    client.sendmail('', [bounce.bounces_address],
                                    bounce.message())
                    self.delivered[number] += 1
                    return
                except (OSError, smtplib.SMTPException):
                    clients.pop(number, None)
            time.sleep(1)
        raise RuntimeError(f'no host took bounce {bounce.number}')

    def settle(self, when: datetime) -> None:
        """Until the day is done (see the module documentation)."""
        deadline = time.monotonic() + PHASE_TIMEOUT
        self._wait_quiet(deadline)
        offsets = [len(host.log_text()) for host in self.hosts]
        while not all(host.passes_since(offset, when) >= self.passes
                      for host, offset in zip(self.hosts, offsets,
                                              strict=True)):
            self._check(deadline, f'{self.passes} passes on every host')
            time.sleep(0.2)
        self._wait_quiet(deadline)

    def _quiet(self) -> bool:
        if any(host.busy_queues() for host in self.hosts):
            return False
        with self.engine().connect() as connection:
            events, unprocessed, unsent = connection.execute(text(
                'SELECT (SELECT count(*) FROM bounces_event), '
                '(SELECT count(*) FROM bounces_event WHERE NOT processed), '
                '(SELECT count(*) FROM bounces_notice WHERE sent IS NULL '
                'AND attempts < 5)')).one()
        return (events == self.registered and unprocessed == 0
                and unsent == 0)

    def _wait_quiet(self, deadline: float) -> None:
        while not self._quiet():
            self._check(deadline, 'every bounce registered and processed, '
                                  'every notice sent, the queues empty')
            time.sleep(0.2)

    def _check(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise RuntimeError(f'timed out waiting for {what}; see '
                               f'{self.root}/host*/var/logs')

    # -- the outcome

    def outcome(self) -> dict:
        with self.engine().connect() as connection:
            def rows(query: str) -> list:
                return connection.execute(text(query)).all()
            events = Counter(
                (row.list_id, row.email, row.timestamp.isoformat(),
                 row.reason, row.outcome, row.score_delta)
                for row in rows(
                    'SELECT list_id, email, timestamp, reason, outcome, '
                    'score_delta FROM bounces_event'))
            members = {
                (row.list_id, row.email): (
                    row.bounce_score,
                    # None: the member's own preference is not set.
                    'enabled' if row.delivery_status is None
                    else str(row.delivery_status),
                    row.total_warnings_sent,
                    None if row.score is None else round(row.score, 3),
                    row.disabled_reason)
                for row in rows(
                    'SELECT m.list_id, a.email, m.bounce_score, '
                    'p.delivery_status, m.total_warnings_sent, s.score, '
                    's.disabled_reason FROM member m '
                    'JOIN address a ON a.id = m.address_id '
                    'JOIN preferences p ON p.id = m.preferences_id '
                    'LEFT JOIN bounces_member s ON s.member_id = m.id '
                    "WHERE m.role = 1")}
            notices = Counter(
                (row.kind, row.list_id, row.email, row.sent is not None)
                for row in rows('SELECT kind, list_id, email, sent '
                                'FROM bounces_notice'))
        mail = Counter(self.mail.received)
        turns = Counter()
        passes = 0
        for host in self.hosts:
            log_text = host.log_text()
            turns.update(re.findall(r'Turn of (\S+) taken at \S+ until (\S+)',
                                    log_text))
            passes += log_text.count('Bounce pass at ')
        return {
            'events': events,
            'members': members,
            'notices': notices,
            'mail': mail,
            'mail twice': sorted(key for key, n in mail.items() if n > 1),
            'turns': sorted(set(turns)),
            'turns twice': sorted(key for key, n in turns.items() if n > 1),
            'passes': passes,
            'bodies': self.mail.bodies,
        }


# What must be equal between runs (the number of passes is not).
COMPARED = ('events', 'members', 'notices', 'mail', 'mail twice', 'turns',
            'turns twice')


def differences(reference: dict, other: dict) -> list[str]:
    """What `other` decided differently from `reference` (empty: equal)."""
    found = []
    for key in COMPARED:
        a, b = reference[key], other[key]
        if a == b:
            continue
        if isinstance(a, Counter):
            found.append(f'{key}: only in the reference '
                         f'{sorted((a - b).items())[:10]}, only in the other '
                         f'{sorted((b - a).items())[:10]}')
            if key == 'mail':
                for outcome, extra in ((reference, a - b), (other, b - a)):
                    for item in sorted(extra)[:2]:
                        found.append(f'mail {item[3]}:\n'
                                     f'{outcome["bodies"].get(item[3])}')
        elif isinstance(a, dict):
            keys = sorted(set(a) | set(b))
            changed = [(k, a.get(k), b.get(k)) for k in keys
                       if a.get(k) != b.get(k)]
            found.append(f'{key}: {len(changed)} differ, e.g. {changed[:10]}')
        else:
            found.append(f'{key}: {a!r:.600} != {b!r:.600}')
    return found


def summary(outcome: dict) -> dict[str, int]:
    """Counts of what a run decided, for reports."""
    outcomes = Counter()
    for (_, _, _, _, outcome_, _), n in outcome['events'].items():
        outcomes[outcome_] += n
    statuses = Counter(status for _, status, *_ in
                       outcome['members'].values())
    return {
        'events': sum(outcome['events'].values()),
        **{f'outcome {key}': value for key, value in sorted(outcomes.items())},
        'members': len(outcome['members']),
        **{f'delivery {key}': value for key, value in sorted(
            statuses.items())},
        'warnings sent': sum(warned for _, _, warned, *_ in
                             outcome['members'].values()),
        'notices': sum(outcome['notices'].values()),
        **{f'notices {kind}': sum(n for key, n in outcome['notices'].items()
                                  if key[0] == kind)
           for kind in sorted({key[0] for key in outcome['notices']})},
        'mails': sum(outcome['mail'].values()),
        'mails twice': len(outcome['mail twice']),
        'turns': len(outcome['turns']),
        'turns twice': len(outcome['turns twice']),
        'passes': outcome['passes'],
    }
