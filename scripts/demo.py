"""The main job: a real Mailman instance with mailman-bounces, under ./var.

``./run-demo`` (this script's ``run``) sets up and starts a local Mailman
3.3.10 instance on SQLite with the plugin enabled (LMTP, REST and bounce
runners, and a local mail sink instead of an MTA), creates a list with
members, and plays a month of bounces: real-looking bounce messages of
several mail servers arrive over LMTP day after day, the bounce runner
registers them, and a bounce pass applies the list's policy each day.  Then
it shows what happened through the REST API and the ``mailman bounces``
commands, tells the story from what the instance reports, checks it against
what should have happened (`demo_scenes`), and leaves the instance running.
It exits non-zero, naming the difference, when the story did not happen.

Time: the instance runs on a shifted clock (`mailman_bounces.testing.clock`,
a second plugin every Mailman process loads): Mailman's ``now()`` is the
real time plus an offset kept in ``var/demo/clock``.  Day 1 is a Monday
about a month ago; between days the demo moves the offset forward, and the
whole instance (runners, REST, commands) is a day later at once.  Nothing
stored is rewritten.

Passes: while the story plays, the periodic pass runner is not started and
the demo runs each day's pass itself (``mailman bounces process``, the same
pass), after everything of that day has arrived: a pass of the runner's own
in the middle of the Gmail outage's 40 bounces would score the first few
before the outage is recognised, and the story would depend on timing.
``./run-demo start`` starts the instance with the runner, like a site.

    ./run-demo            set up from scratch and play the scenario
    ./run-demo start      start the instance again (after stop)
    ./run-demo stop       stop it
    ./run-demo status     is it running?
    ./run-demo reset      stop it and delete ./var

The environment may move it: MAILMAN_BOUNCES_DEMO_VAR (the directory, ./var
by default) and MAILMAN_BOUNCES_DEMO_PORT_BASE (REST on base+1, LMTP on
base+24, the mail sink on base+25, Dovecot's IMAP on base+43, Postorius
on base+80; 18000 by default).

The bounce mailbox: when Dovecot is installed (Debian's dovecot-imapd), the
demo also runs a private Dovecot (`mailman_bounces.testing.dovecot`, its
files in a directory of its own that Dovecot's users can reach, linked from
``var/demo/dovecot``), configures it as ``[mailbox.demo]`` and puts one
scene's bounces into its INBOX; like the passes, the demo polls it itself
while the story plays (``mailman bounces mailboxes --poll demo``), and the
bouncemail runner polls it once live.  Without Dovecot it says it skipped
that part.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_binary_file
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import demo_scenes as story
from demo_scenes import LIST, LIST_ID, Check, Mail, Seen
from demo_web import ADMIN_LOGIN, OWNER_LOGIN

from mailman_bounces.testing import dovecot
from mailman_bounces.testing.clock import read_offset
from mailman_bounces.testing.running import (
    MASTER,
    RunningInstance,
    Server,
    greets,
    http_answers,
    listens,
    mailman_config,
    shown,
    wait_gone,
)

ROOT = Path(__file__).resolve().parent.parent
# What the command lines of the demo's two daemons contain.
SINK, WEB = 'demo_sink.py', 'demo_web.py'

# How often the periodic runner passes once the instance is live.
PASS_INTERVAL = '2s'


class DemoError(SystemExit):
    """The demo cannot go on; the message says why."""


@dataclass(frozen=True)
class Ports:
    rest: int
    lmtp: int
    smtp: int
    hooks: int
    imap: int
    web: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(rest=base + 1, lmtp=base + 24, smtp=base + 25,
                   hooks=base + 26, imap=base + 43, web=base + 80)


class Instance(RunningInstance):
    """The demo's Mailman instance: its directory, ports and processes."""

    error = DemoError

    def __init__(self, var: Path, ports: Ports) -> None:
        self.ports = ports
        self.etc = var / 'etc'
        self.demo = var / 'demo'
        super().__init__(var, self.etc / 'mailman.cfg', ports.rest,
                         ports.lmtp, self.demo / 'clock')
        self.outbox = self.demo / 'outbox'
        self.sink_pid = self.demo / 'sink.pid'
        self.web_pid = self.demo / 'web.pid'
        # The private Dovecot: its directory (a link), pid and password.
        self.dovecot_dir = self.demo / 'dovecot'
        self.dovecot_pid = self.demo / 'dovecot.pid'
        self.mailbox_password = self.demo / 'mailbox-password'
        self.has_dovecot = dovecot.available()
        self.web_url = f'http://127.0.0.1:{ports.web}'

    # ---- configuration

    def write_config(self, live: bool) -> None:
        """The instance's configuration; `live`: with the periodic pass
        runner (see the module documentation)."""
        self.etc.mkdir(parents=True, exist_ok=True)
        self.demo.mkdir(parents=True, exist_ok=True)
        (self.etc / 'bounces.cfg').write_text(f"""\
# The demo's plugin settings: passes more often than a site's every minute.
[bounces]
pass_interval: {PASS_INTERVAL}
# The members' re-enable page of the demo's Postorius (scripts/demo_web.py).
reenable_url: {self.web_url}/postorius/bounces/reenable/$token/

[list_defaults]
# The demo sends no posts, so nothing it bounces was signed: its bounces
# come to core's unsigned VERP address and are unverified evidence, which
# the demo counts as core does.  (A site keeps the default, probe: see
# docs/verp.rst.)  A forged signed address is never counted, whatever
# this says.
unverified_action: count

# The ESP webhook listener (the bouncehook runner), and the callback runner
# looking for callbacks to send every second.
[webhooks]
enabled: yes
host: 127.0.0.1
port: {self.ports.hooks}

[callbacks]
interval: 1s
{story.webhook_endpoints()}{self._mailbox_section(live)}""", encoding='utf-8')
        self.config_file.write_text(
            '# A demo Mailman instance with mailman-bounces (see '
            'scripts/demo.py).\n' + mailman_config(
                layout='demo', var=self.var, site_owner=story.SITE_ADMIN,
                smtp_port=self.ports.smtp, lmtp_port=self.ports.lmtp,
                rest_port=self.ports.rest,
                plugin_config=self.etc / 'bounces.cfg', clock=self.clock,
                pass_runner=live, pass_runner_note=(
                    'yes: passes every pass_interval, like a site.' if live
                    else 'no: the demo runs each pass itself while the '
                         'story plays.')), encoding='utf-8')

    def _mailbox_section(self, live: bool) -> str:
        if not self.has_dovecot:
            return ''
        return story.mailbox_section(self.ports.imap, self._dovecot().user,
                                     str(self.mailbox_password), live)

    # ---- the bounce mailbox (a private Dovecot)

    def _dovecot(self) -> dovecot.Dovecot:
        """The demo's Dovecot, in the directory `dovecot_dir` links to."""
        return dovecot.Dovecot(root=self.dovecot_dir.resolve(),
                               imap=self.ports.imap, imaps=0, pop3=0, pop3s=0)

    def mailbox(self) -> dovecot.Dovecot | None:
        """The demo's Dovecot, or None when Dovecot is not installed."""
        return self._dovecot() if self.has_dovecot else None

    def poll_mailbox(self, name: str) -> None:
        """Poll a bounce mailbox now (what the bouncemail runner does)."""
        self.mailman('bounces', 'mailboxes', '--poll', name)

    def _start_dovecot(self) -> None:
        if not self.has_dovecot or self._pid(self.dovecot_pid) is not None:
            return
        if not self.dovecot_dir.resolve().is_dir():
            # Dovecot's own users must reach its files: not under a home
            # directory only its owner may enter, as var/ may be.
            self.dovecot_dir.unlink(missing_ok=True)
            self.dovecot_dir.symlink_to(tempfile.mkdtemp(
                prefix='mailman-bounces-demo-dovecot-'))
        box = self._dovecot()
        box.configure()
        self.mailbox_password.write_text(box.password + '\n')
        self.mailbox_password.chmod(0o600)
        with open(self.demo / 'dovecot.log', 'w') as log:
            server = subprocess.Popen(
                box.command, start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=self.env)
        self.dovecot_pid.write_text(str(server.pid))

    def _dovecot_program(self) -> str:
        # Its command line names its configuration file, which is ours.
        return str(self._dovecot().config_file)

    # ---- processes

    def _pid(self, path: Path) -> int | None:
        """The process id in `path`, if that process is alive and is still
        the program that wrote it."""
        if path == self.dovecot_pid:
            program = self._dovecot_program()
        else:
            program = {self.sink_pid: SINK, self.web_pid: WEB}.get(
                path, MASTER)
        return self.pid(path, program)

    def servers(self) -> list[Server]:
        """The servers the demo talks to, and who runs them."""
        return [
            *super().servers(),
            Server(f'the ESP webhook listener (port {self.ports.hooks})',
                   self.master_pid, lambda: listens(self.ports.hooks)),
            Server(f'the mail sink (SMTP, port {self.ports.smtp})',
                   self.sink_pid,
                   lambda: greets(smtplib.SMTP, self.ports.smtp)),
            Server(f'Postorius (port {self.ports.web})', self.web_pid,
                   lambda: http_answers(self.web_url + '/postorius/lists/')),
        ] + ([Server(f'Dovecot (IMAP, port {self.ports.imap})',
                     self.dovecot_pid, lambda: listens(self.ports.imap))]
             if self.has_dovecot else [])

    def check_alive(self) -> None:
        """The sink or Dovecot exited while Mailman starts: say why."""
        if self.sink_pid.exists() and self._pid(self.sink_pid) is None:
            log = (self.demo / 'sink.log').read_text()
            raise DemoError(f'The mail sink exited:\n{log}')
        if (self.dovecot_pid.exists()
                and self._pid(self.dovecot_pid) is None):
            raise DemoError(
                'Dovecot exited:\n' + self._dovecot().log()
                + (self.demo / 'dovecot.log').read_text())

    def _refuse_foreign_servers(self) -> None:
        """A port answering while our process for it is not running belongs
        to another program: say so, rather than time out later."""
        foreign = [server.name for server in self.servers()
                   if self._pid(server.pid_file) is None and server.answers()]
        if foreign:
            raise DemoError(
                f'{", ".join(foreign)}: in use by another program; stop it '
                f'or set MAILMAN_BOUNCES_DEMO_PORT_BASE.')

    def start(self, live: bool = True) -> None:
        if not self.config_file.exists():
            raise DemoError(f'No demo instance in {shown(self.var)}: run '
                            f'./run-demo first.')
        self._refuse_foreign_servers()
        running = self._pid(self.master_pid) is not None
        if not running:
            self.write_config(live)
        self._start_sink()
        self._start_web()
        self._start_dovecot()
        if not running:
            self.start_master(self.demo / 'start.log')
        self.wait_for_servers()
        print(f'Mailman {"was already" if running else "is"} running: REST '
              f'at {self.rest_url}, LMTP at '
              f'127.0.0.1:{self.ports.lmtp}, outgoing mail in '
              f'{shown(self.outbox)}; Postorius at {self.web_url}/postorius/'
              + (f'; the bounce mailbox (Dovecot) at imap://127.0.0.1:'
                 f'{self.ports.imap}/' if self.has_dovecot else ''))

    def _start_web(self) -> None:
        """Postorius with the plugin's web app (scripts/demo_web.py)."""
        if self._pid(self.web_pid) is not None:
            return
        with open(self.demo / 'web.log', 'w') as log:
            web = subprocess.Popen(
                [sys.executable, str(ROOT / 'scripts' / 'demo_web.py'),
                 str(self.ports.web), f'http://127.0.0.1:{self.ports.rest}',
                 str(self.demo / 'web'), story.OWNER],
                start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=self.env)
        self.web_pid.write_text(str(web.pid))

    def _start_sink(self) -> None:
        if self._pid(self.sink_pid) is not None:
            return
        self.outbox.mkdir(parents=True, exist_ok=True)
        with open(self.demo / 'sink.log', 'w') as log:
            sink = subprocess.Popen(
                [sys.executable, str(ROOT / 'scripts' / 'demo_sink.py'),
                 str(self.ports.smtp), str(self.outbox), str(self.clock)],
                start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=self.env)
        self.sink_pid.write_text(str(sink.pid))

    def stop(self) -> None:
        master = self.stop_master()
        sink = self._pid(self.sink_pid)
        if sink is not None:
            os.kill(sink, signal.SIGTERM)
            wait_gone(sink, SINK, 'the mail sink', error=DemoError)
        self.sink_pid.unlink(missing_ok=True)
        web = self._pid(self.web_pid)
        if web is not None:
            os.kill(web, signal.SIGTERM)
            wait_gone(web, WEB, 'Postorius', error=DemoError)
        self.web_pid.unlink(missing_ok=True)
        box = self._pid(self.dovecot_pid)
        if box is not None:
            os.kill(box, signal.SIGTERM)
            wait_gone(box, self._dovecot_program(), 'Dovecot',
                      error=DemoError)
        self.dovecot_pid.unlink(missing_ok=True)
        print('Stopped.' if master or sink or web or box
              else 'Nothing was running.')

    def reset(self) -> None:
        self.stop()
        if self.dovecot_dir.is_symlink():
            # Dovecot's directory, outside var/ (see _start_dovecot).
            shutil.rmtree(self.dovecot_dir.resolve(), ignore_errors=True)
        shutil.rmtree(self.var, ignore_errors=True)
        print(f'Deleted {shown(self.var)}.')

    def status(self) -> bool:
        master = self._pid(self.master_pid)
        print('Mailman master: ' + (f'running (pid {master})'
                                    if master else 'not running'))
        for name, up in self.answering().items():
            print(f'{name}: {"answers" if up else "does not answer"}')
        if self.clock.exists():
            print(f"The instance's clock: {self.now():%a %Y-%m-%d %H:%M} UTC"
                  f' ({_days(read_offset(self.clock))} the real clock)')
        return master is not None

    # ---- talking to it

    def post_webhook(self, path: str, body: bytes,
                     headers: dict[str, str]) -> int:
        """POST to the ESP webhook listener; return the HTTP status."""
        request = Request(f'http://127.0.0.1:{self.ports.hooks}{path}',
                          data=body, method='POST', headers=headers)
        try:
            with urlopen(request, timeout=30) as response:
                return response.status
        except HTTPError as error:
            return error.code

    def events_total(self) -> int:
        return self.rest('GET', '/plugins/bounces/events?' + urlencode(
            {'list_id': LIST_ID, 'count': 1, 'page': 1}))['total_size']

    def mail(self) -> list[Mail]:
        """The mail the instance sent, oldest first."""
        return [_read_mail(path) for path in sorted(self.outbox.glob('*.eml'))]

    def sent_files(self) -> list:
        """The mail the instance sent, as parsed messages, oldest first."""
        messages = []
        for path in sorted(self.outbox.glob('*.eml')):
            with open(path, 'rb') as fp:
                messages.append(message_from_binary_file(fp))
        return messages


def _days(offset: timedelta) -> str:
    days = abs(offset) / timedelta(days=1)
    return f'{days:.1f} days ' + ('behind' if offset < timedelta(0)
                                  else 'ahead of')


def _read_mail(path: Path) -> Mail:
    with open(path, 'rb') as fp:
        message = message_from_binary_file(fp)
    subject = ' '.join(str(make_header(decode_header(
        message.get('subject', '')))).split())
    to = tuple(address for _, address in getaddresses(
        message.get_all('x-demo-envelope-to', [])))
    texts = [part.get_payload(decode=True).decode(
                 part.get_content_charset() or 'utf-8', errors='replace')
             for part in message.walk()
             if part.get_content_maintype() == 'text']
    return Mail(to=to, subject=subject,
                received=datetime.fromisoformat(message['x-demo-received']),
                text='\n'.join(texts))


# --------------------------------------------------------------------------
# The scenario.

def day_one(last_day: int) -> datetime:
    """Day 1 of the story, 09:00 UTC: a Monday (the owners' weekly
    summaries start on Mondays), early enough for the last day to be past."""
    start = (datetime.now(UTC) - timedelta(days=last_day)).date()
    monday = start - timedelta(days=start.weekday())
    return datetime(monday.year, monday.month, monday.day, 9)


def create_list(instance: Instance) -> int:
    instance.rest('POST', '/domains', {'mail_host': story.DOMAIN})
    instance.rest('POST', '/lists', {'fqdn_listname': LIST})
    instance.rest('PATCH', f'/lists/{LIST_ID}/config', {
        'send_welcome_message': False, 'send_goodbye_message': True,
        'bounce_notify_owner_on_bounce_increment': False})
    instance.rest('POST', '/members', {'list_id': LIST_ID,
                                       'subscriber': story.OWNER,
                                       'role': 'owner'})
    members = {email: name for scene in story.SCENES
               for email, name in scene.members().items()}
    for email, name in members.items():
        instance.rest('POST', '/members', {
            'list_id': LIST_ID, 'subscriber': email, 'display_name': name,
            'pre_verified': True, 'pre_confirmed': True,
            'pre_approved': True, 'send_welcome_message': False})
    for scene in story.SCENES:
        scene.setup(instance)
    return len(members)


def recipients(mails: list[Mail]) -> str:
    counts = Counter(to for mail in mails for to in mail.to)
    return ', '.join(f'{to}' + (f' x{n}' if n > 1 else '')
                     for to, n in sorted(counts.items())) or '-'


def play_day(instance: Instance, day: int, first: datetime) -> None:
    """Day `day`: its mail comes in and is registered, then the pass."""
    events, sent = instance.events_total(), len(instance.mail())
    arrived = sum(scene.act(day, instance) for scene in story.SCENES)
    instance.settle()
    instance.process()
    instance.settle()
    new_mail = instance.mail()[sent:]
    when = first + timedelta(days=day - 1)
    print(f'day {day:2d} {when:%a %Y-%m-%d}: {arrived:2d} in by mail, '
          f'{instance.events_total() - events:2d} bounce events registered;'
          f' mail out: {recipients(new_mail)}')


def play(instance: Instance) -> Seen:
    """Set up the list and play every day of the story."""
    missed = [day for day in range(1, story.PASS_DAYS[-1] + 1)
              if day not in story.PASS_DAYS
              and any(scene.mail_on(day) for scene in story.SCENES)]
    if missed:
        raise DemoError(f'Scenes have mail on days without a pass: {missed}; '
                        f'add them to PASS_DAYS.')
    count = create_list(instance)
    print(f'\nCreated {LIST} with {count} members.')
    if not instance.has_dovecot:
        print(f'Dovecot is not installed ({dovecot.DOVECOT}): skipping the '
              f'bounce mailbox part of the story.')
    first = day_one(story.PASS_DAYS[-1])
    instance.set_clock(first)
    print(f"The instance's clock now says {first:%A %Y-%m-%d %H:%M} UTC: "
          f'day 1.\nEach day the day\'s bounces arrive, then a bounce pass '
          f'runs; then the clock moves on\n(see {shown(instance.clock)}).\n')
    today = 1
    for day in story.PASS_DAYS:
        instance.advance_clock(day - today)
        today = day
        play_day(instance, day, first)
    return Seen(
        day_one=first.replace(hour=0),
        events=sorted(
            instance.collection('/plugins/bounces/events', list_id=LIST_ID),
            key=lambda event: (event['timestamp'], event['id'])),
        members={entry['email']: entry for entry in instance.collection(
            f'/plugins/bounces/lists/{LIST_ID}/members')},
        freezes=instance.collection('/plugins/bounces/freezes', all='true'),
        outbox=instance.mail(),
        stuck=instance.stuck(),
        extra={type(scene).__name__: scene.observe(instance)
               for scene in story.SCENES})


def show(title: str, lines) -> None:
    print(f'\n--- {title}')
    for line in lines:
        print('   ', line)


def address_lines(seen: Seen) -> list[str]:
    """Per address: what bounced, what it led to, where it stands now."""
    header = (f"{'address':<28} {'events':>6}  {'reasons':<24} "
              f"{'outcomes':<40} now")
    lines = [header]
    for email in [e for scene in story.SCENES for e in scene.featured()]:
        events = seen.events_of(email)
        reasons = story.reasons(events) if events else '-'
        outcomes = story.tally(seen.outcomes_of(email)) if events else '-'
        member = seen.members.get(email)
        now = ('removed' if member is None else
               f"{member['delivery_status']}, score {member['score']:g}, "
               f"{member['total_warnings_sent']} warning(s)")
        lines.append(f'{email:<28} {len(events):>6}  {reasons:<24} '
                     f'{outcomes:<40} {now}')
    return lines


def outbox_lines(seen: Seen) -> list[str]:
    subjects = Counter(
        'reenable <token> - ' + mail.subject.split(' - ', 1)[-1]
        if story.NOTICE_SUBJECTS['warning'].search(mail.subject)
        else mail.subject for mail in seen.outbox)
    return [f'{count:3d} x {subject}'
            for subject, count in sorted(subjects.items())]


def report(instance: Instance, seen: Seen) -> list[Check]:
    """Show what happened; return the checks of the story."""
    show('Who bounced, why, and what it led to (REST: events, '
         'lists/.../members)', address_lines(seen))
    stats = instance.rest('GET', '/plugins/bounces/stats?' + urlencode(
        {'list_id': LIST_ID}))
    show('Events by reason (REST: stats)', [
        f"{row['reason']:<16} {row['events']:3d} events from "
        f"{row['addresses']} address(es)" for row in stats.get('reasons', [])])
    show('mailman bounces report', instance.mailman(
        'bounces', 'report', '--list', LIST).stdout.splitlines())
    show('mailman bounces freezes --all', instance.mailman(
        'bounces', 'freezes', '--all').stdout.splitlines())
    show(f'Mail the instance sent ({shown(instance.outbox)})',
         outbox_lines(seen))
    told = story.tell(seen)
    print('\nWhat happened (from what REST and the outbox report):')
    for sentence in told.sentences:
        print(_wrapped(sentence))
    checks = [*told.checks, web_check(instance, seen)]
    show('Checked against what should have happened', checks)
    return checks


# The re-enable link of a warning (the plugin's reenable_url).
REENABLE_LINK = re.compile(r'http://127\.0\.0\.1:[0-9]+/postorius/bounces/'
                           r'reenable/[0-9A-Za-z]+/')


def web_check(instance: Instance, seen: Seen) -> Check:
    """The link of the last warning opens its page in the demo's
    Postorius, naming the member (a GET, which redeems nothing)."""
    warnings = [mail for mail in seen.outbox
                if story.NOTICE_SUBJECTS['warning'].search(mail.subject)]
    shows = None
    if warnings:
        link = REENABLE_LINK.search(warnings[-1].text)
        if link is not None:
            with urlopen(link.group(), timeout=30) as page:
                text = page.read().decode()
            shows = all(email in text for email in warnings[-1].to)
    return Check("the last warning's re-enable link shows the member's "
                 'page in Postorius', True, shows)


def _wrapped(sentence: str) -> str:
    return textwrap.fill(sentence, width=76, initial_indent='  * ',
                         subsequent_indent='    ')


def scenario(instance: Instance) -> None:
    started = time.monotonic()
    if instance.var.exists():
        instance.reset()
    instance.write_config(live=False)
    instance.start(live=False)
    checks = report(instance, play(instance))
    failed = [check for check in checks if not check.met]
    elapsed = time.monotonic() - started
    offset = read_offset(instance.clock)
    print(f"""
Done in {elapsed:.0f}s.  The instance is still running; its clock says
{instance.now():%a %Y-%m-%d %H:%M} UTC, {_days(offset)} the real clock \
({shown(instance.clock)}).
  REST      {instance.rest_url}/plugins/bounces/   (restadmin:restpass)
  commands  .venv/bin/mailman -C {shown(instance.config_file)} bounces status -l {LIST}
  mail      {shown(instance.outbox)}/
  Postorius {instance.web_url}/postorius/lists/   owner login: \
{OWNER_LOGIN[0]} / {OWNER_LOGIN[1]} (site admin: {ADMIN_LOGIN[0]} / \
{ADMIN_LOGIN[1]})
            the list's Bounces tab: \
{instance.web_url}/postorius/lists/{LIST_ID}/bounces/
  ./run-demo stop | start | status | reset
While the story played the demo ran each day's pass itself; after
./run-demo stop and start, the periodic runner runs one every \
{PASS_INTERVAL}.""")
    if failed:
        raise DemoError(
            f'\nThe demo\'s story did not happen: {len(failed)} of '
            f'{len(checks)} expectations not met:\n'
            + '\n'.join(f'  {check}' for check in failed))
    print(f'\nAll {len(checks)} expectations met.')


def main(argv: list[str]) -> None:
    var = Path(os.environ.get('MAILMAN_BOUNCES_DEMO_VAR', ROOT / 'var'))
    base = int(os.environ.get('MAILMAN_BOUNCES_DEMO_PORT_BASE', '18000'))
    instance = Instance(var.resolve(), Ports.from_base(base))
    command = argv[0] if argv else 'run'
    actions = {
        'run': lambda: scenario(instance),
        'start': instance.start,
        'stop': instance.stop,
        'reset': instance.reset,
        'status': lambda: instance.status() or sys.exit(3),
    }
    if command not in actions or len(argv) > 1:
        raise DemoError(f'usage: run-demo [{"|".join(actions)}]')
    try:
        actions[command]()
    except HTTPError as error:
        raise DemoError(f'REST error {error.code} for {error.url}: '
                        f'{error.read().decode(errors="replace")}') from None


if __name__ == '__main__':
    main(sys.argv[1:])
