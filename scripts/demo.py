"""The main job: a real Mailman instance with mailman-bounces, under ./var.

``./run-demo`` (this script's ``run``) sets up and starts a local Mailman
3.3.10 instance on SQLite with the plugin enabled (LMTP, REST, bounce and
periodic runners, and a local mail sink instead of an MTA), creates a list
with members, and then plays a month of bounces: real bounce messages of
several mail servers are delivered to the list over LMTP day after day, the
runners register and process them, and time moves forward between days.
At the end it shows what happened through the REST API and the ``mailman
bounces`` commands, and leaves the instance running.

Time: the runners use the real clock, so "a day passes" is simulated by
moving everything the instance remembers (bounce times, warning times,
freezes, leases, token expiry) one day into the past while it is idle.

    ./run-demo            set up from scratch and play the scenario
    ./run-demo start      start the instance again (after stop)
    ./run-demo stop       stop it
    ./run-demo status     is it running?
    ./run-demo reset      stop it and delete ./var
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
from base64 import b64encode
from datetime import datetime, timedelta
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / 'var'
ETC = VAR / 'etc'
OUTBOX = VAR / 'demo' / 'outbox'
SINK_PID = VAR / 'demo' / 'sink.pid'
BASE = int(os.environ.get('MAILMAN_BOUNCES_DEMO_PORT_BASE', '18000'))
LMTP_PORT, SMTP_PORT, REST_PORT = BASE + 24, BASE + 25, BASE + 1
REST = f'http://127.0.0.1:{REST_PORT}/3.1'
AUTH = 'Basic ' + b64encode(b'restadmin:restpass').decode()
DOMAIN = 'lists.demo.example'
LIST = f'members@{DOMAIN}'
LIST_ID = f'members.{DOMAIN}'
BIN = Path(sys.executable).parent

PEOPLE = {
    'anne@dead-mailbox.example': 'Anne (her mailbox was closed)',
    'bart@strict-dmarc.example': 'Bart (his provider enforces DMARC)',
    'cris@full-mailbox.example': 'Cris (her mailbox is often full)',
    'dave@complainer.example': 'Dave (reports the list as spam)',
    'erin@away.example': 'Erin (on holiday, auto-replies)',
    'fred@fine.example': 'Fred (never bounces)',
}
GMAIL = [f'reader{n}@gmail.com' for n in range(40)]
DEAD_GMAIL = GMAIL[0]


# --------------------------------------------------------------------------
# The instance.

def mailman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(BIN / 'mailman'), '-C', str(ETC / 'mailman.cfg')]
    if os.geteuid() == 0:
        command.append('--run-as-root')
    result = subprocess.run(command + list(args), capture_output=True,
                            text=True, cwd=ROOT, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f'mailman {" ".join(args)} failed:\n'
                         f'{result.stdout}{result.stderr}')
    return result


def write_config() -> None:
    ETC.mkdir(parents=True, exist_ok=True)
    (ETC / 'bounces.cfg').write_text("""\
# The demo's plugin settings: a pass every 2 seconds instead of a minute.
[bounces]
pass_interval: 2s
""", encoding='utf-8')
    (ETC / 'mailman.cfg').write_text(f"""\
# A demo Mailman instance with mailman-bounces (see scripts/demo.py).
[mailman]
layout: demo
site_owner: postmaster@{DOMAIN}

[paths.demo]
var_dir: {VAR}

[mta]
incoming: mailman.mta.null.NullMTA
smtp_host: 127.0.0.1
smtp_port: {SMTP_PORT}
lmtp_host: 127.0.0.1
lmtp_port: {LMTP_PORT}

[webservice]
hostname: 127.0.0.1
port: {REST_PORT}

[runner.bounces]
# Pick bounces up at once (the plugin's default is every 10 seconds).
sleep_time: 1s

[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
configuration: {ETC / 'bounces.cfg'}
""", encoding='utf-8')


def running() -> bool:
    try:
        rest('GET', '/system/versions')
        return True
    except (URLError, ConnectionError, OSError):
        return False


def start() -> None:
    if not (ETC / 'mailman.cfg').exists():
        raise SystemExit('No demo instance here: run ./run-demo first.')
    OUTBOX.mkdir(parents=True, exist_ok=True)
    if not SINK_PID.exists():
        sink = subprocess.Popen(
            [sys.executable, str(ROOT / 'scripts' / 'demo_sink.py'),
             str(SMTP_PORT), str(OUTBOX)], start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        SINK_PID.write_text(str(sink.pid))
    if not running():
        # The master keeps running: it must not hold our output pipes.
        command = [str(BIN / 'mailman'), '-C', str(ETC / 'mailman.cfg')]
        if os.geteuid() == 0:
            command.append('--run-as-root')
        with open(VAR / 'demo' / 'start.log', 'w') as log:
            subprocess.run(command + ['start'], stdout=log, stderr=log,
                           stdin=subprocess.DEVNULL, cwd=ROOT, check=True)
        deadline = time.monotonic() + 90
        while not running():
            if time.monotonic() > deadline:
                raise SystemExit('Mailman did not start; see var/logs/.')
            time.sleep(0.5)
    print(f'Mailman is running: REST at {REST}, LMTP at 127.0.0.1:'
          f'{LMTP_PORT}, outgoing mail in {OUTBOX.relative_to(ROOT)}')


def stop() -> None:
    if (ETC / 'mailman.cfg').exists():
        mailman('stop', check=False)
        deadline = time.monotonic() + 30
        while running() and time.monotonic() < deadline:
            time.sleep(0.5)
    if SINK_PID.exists():
        try:
            os.kill(int(SINK_PID.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
        SINK_PID.unlink()
    print('Stopped.')


def reset() -> None:
    stop()
    shutil.rmtree(VAR, ignore_errors=True)
    print('Deleted ./var.')


# --------------------------------------------------------------------------
# REST.

def rest(method: str, path: str, data: dict | None = None):
    body = None
    headers = {'Authorization': AUTH}
    if data is not None:
        body = json.dumps(data).encode()
        headers['Content-Type'] = 'application/json'
    request = Request(REST + path, data=body, method=method, headers=headers)
    with urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else None


def create_list() -> None:
    rest('POST', '/domains', {'mail_host': DOMAIN})
    rest('POST', '/lists', {'fqdn_listname': LIST})
    rest('PATCH', f'/lists/{LIST_ID}/config', {
        'send_welcome_message': False, 'send_goodbye_message': True,
        'bounce_notify_owner_on_bounce_increment': False})
    rest('POST', '/members', {'list_id': LIST_ID,
                              'subscriber': f'owner@{DOMAIN}',
                              'role': 'owner'})
    for email, name in [*PEOPLE.items(), *((g, '') for g in GMAIL)]:
        rest('POST', '/members', {
            'list_id': LIST_ID, 'subscriber': email, 'display_name': name,
            'pre_verified': True, 'pre_confirmed': True,
            'pre_approved': True, 'send_welcome_message': False})


# --------------------------------------------------------------------------
# Real-looking bounces from several mail servers.

def verp(email: str) -> str:
    local, domain = email.split('@')
    return f'members-bounces+{local}={domain}@{DOMAIN}'


def postfix_dsn(email: str, number: int) -> str:
    return f"""\
From: MAILER-DAEMON@mx.dead-mailbox.example (Mail Delivery System)
To: {verp(email)}
Subject: Undelivered Mail Returned to Sender
Message-ID: <demo-{number}@mx.dead-mailbox.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="postfix-{number}"

--postfix-{number}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.dead-mailbox.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{email}>: host mx.dead-mailbox.example[192.0.2.25] said: 550 5.1.1
    <{email}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--postfix-{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.dead-mailbox.example

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.dead-mailbox.example
Diagnostic-Code: smtp; 550 5.1.1 <{email}>: Recipient address rejected:
    User unknown in virtual mailbox table

--postfix-{number}--
"""


def dmarc_dsn(email: str, number: int) -> str:
    return f"""\
From: postmaster@strict-dmarc.example
To: members-bounces@{DOMAIN}
Subject: Delivery Status Notification (Failure)
Message-ID: <demo-{number}@strict-dmarc.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="dmarc-{number}"

--dmarc-{number}
Content-Type: text/plain

Delivery to the following recipient failed permanently:
     {email}

--dmarc-{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.strict-dmarc.example

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.7.26
Remote-MTA: dns; mx.strict-dmarc.example
Diagnostic-Code: smtp; 550 5.7.26 Unauthenticated email from
    {DOMAIN} is not accepted due to domain's DMARC policy.

--dmarc-{number}--
"""


def exim_full(email: str, number: int) -> str:
    # Exim's plain-text bounce: no DSN part at all.
    return f"""\
From: Mail Delivery System <Mailer-Daemon@mail.full-mailbox.example>
To: {verp(email)}
Subject: Mail delivery failed: returning message to sender
Message-ID: <demo-{number}@mail.full-mailbox.example>
X-Failed-Recipients: {email}
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {email}
    mailbox is full: retry timeout exceeded

------ This is a copy of the message, including all the headers. ------

From: {LIST}
To: {LIST}
Subject: Daily digest
"""


def gmail_dsn(email: str, number: int) -> str:
    return f"""\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {verp(email)}
Subject: Delivery Status Notification (Failure)
Message-ID: <demo-{number}@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="gmail-{number}"

--gmail-{number}
Content-Type: text/plain; charset=UTF-8

** Address not found **

Your message wasn't delivered to {email} because the address couldn't be
found, or is unable to receive mail.

--gmail-{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to
    reach does not exist. Please try double-checking the recipient's
    email address for typos or unnecessary spaces. 550 5.1.1
    https://support.google.com/mail/?p=NoSuchUser

--gmail-{number}--
"""


def complaint(email: str, number: int) -> str:
    return f"""\
From: feedback@complainer.example
To: members-bounces@{DOMAIN}
Subject: Abuse report
Message-ID: <demo-{number}@fbl.complainer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="arf-{number}"

--arf-{number}
Content-Type: text/plain

This is an email abuse report for a message from {DOMAIN}.

--arf-{number}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: DemoFBL/1.0
Version: 1
Original-Rcpt-To: <{email}>
Source-IP: 192.0.2.10

--arf-{number}
Content-Type: text/rfc822-headers

From: {LIST}
To: {LIST}
Subject: This week's news

--arf-{number}--
"""


def vacation(email: str, number: int) -> str:
    return f"""\
From: Erin <{email}>
To: members-bounces@{DOMAIN}
Subject: Out of office: This week's news
Message-ID: <demo-{number}@away.example>
Auto-Submitted: auto-replied
X-Autoreply: yes

I am on holiday until the end of the month and will read your message
when I am back.
"""


def deliver(messages: list[tuple[str, str]]) -> None:
    """Deliver (recipient, text) pairs over LMTP, as an MTA would."""
    client = smtplib.LMTP('127.0.0.1', LMTP_PORT)
    try:
        for recipient, text in messages:
            # SMTP wants CRLF line ends; smtplib adds them only to str.
            refused = client.sendmail('', [recipient], text)
            if refused:
                raise SystemExit(f'LMTP refused {recipient}: {refused}')
    finally:
        client.quit()


def day_of_bounces(day: int, counter: list[int]) -> list[tuple[str, str]]:
    def number() -> int:
        counter[0] += 1
        return counter[0]
    bounces = []
    if day <= 6:
        email = 'anne@dead-mailbox.example'
        bounces.append((verp(email), postfix_dsn(email, number())))
    if day <= 10:
        email = 'bart@strict-dmarc.example'
        bounces.append((f'members-bounces@{DOMAIN}',
                        dmarc_dsn(email, number())))
    if day <= 6:
        email = 'cris@full-mailbox.example'
        bounces.append((verp(email), exim_full(email, number())))
    if day == 2:
        # Gmail fails for everybody for a couple of hours.
        bounces += [(verp(email), gmail_dsn(email, number()))
                    for email in GMAIL]
        email = 'dave@complainer.example'
        bounces.append((f'members-bounces@{DOMAIN}',
                        complaint(email, number())))
        email = 'erin@away.example'
        bounces.append((f'members-bounces@{DOMAIN}',
                        vacation(email, number())))
    elif 3 <= day <= 7:
        # One of those Gmail addresses really is gone.
        bounces.append((verp(DEAD_GMAIL), gmail_dsn(DEAD_GMAIL, number())))
    return bounces


# --------------------------------------------------------------------------
# Time.

def _shift(connection, table: str, columns: list[str], days: int) -> None:
    for column in columns:
        rows = connection.execute(
            f'SELECT rowid, {column} FROM {table} '
            f'WHERE {column} IS NOT NULL').fetchall()
        for rowid, value in rows:
            when = datetime.fromisoformat(value)
            if when.year < 1900:
                continue          # core's "never warned" marker
            moved = when - timedelta(days=days)
            text = (moved.strftime('%Y-%m-%d') if len(value) == 10 else
                    moved.strftime('%Y-%m-%d %H:%M:%S.%f'))
            connection.execute(
                f'UPDATE {table} SET {column} = ? WHERE rowid = ?',
                (text, rowid))


SHIFTED = {
    'bounces_event': ['timestamp', 'processed_at'],
    'bounces_message': ['received'],
    'bounces_member': ['disabled_at', 'probe_sent', 'run_started',
                       'scored_day'],
    'bounces_freeze': ['started', 'expires', 'lifted'],
    'bounces_notice': ['created', 'sent'],
    'bounces_lease': ['until'],
    'member': ['last_bounce_received', 'last_warning_sent'],
    'pended': ['expiration_date'],
}


def pass_days(days: int) -> None:
    """Move the instance's memory `days` days into the past."""
    connection = sqlite3.connect(VAR / 'data' / 'mailman.db', timeout=60,
                                 isolation_level=None)
    try:
        connection.execute('BEGIN IMMEDIATE')
        for table, columns in SHIFTED.items():
            _shift(connection, table, columns, days)
        connection.execute('DELETE FROM bounces_list_traffic')
        connection.execute('COMMIT')
    finally:
        connection.close()


def wait_until_idle(registered: int) -> None:
    """Until the bounce runner has registered every delivered bounce."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        queue = rest('GET', '/queues/bounces')
        events = rest('GET', f'/plugins/bounces/events?list_id={LIST_ID}'
                             '&count=1&page=1')
        if queue['count'] == 0 and events['total_size'] >= registered:
            return
        time.sleep(0.5)
    raise SystemExit('The runners did not finish in time; see var/logs/.')


def process_now() -> str:
    """Run a periodic pass now (the runner would within 2 seconds)."""
    return mailman('bounces', 'process').stdout.strip()


# --------------------------------------------------------------------------
# The scenario.

def show(title: str, lines) -> None:
    print(f'\n--- {title}')
    for line in lines:
        print('   ', line)


def _standing() -> dict[str, dict]:
    """Current members' bounce standing, by address (REST)."""
    members = rest('GET', f'/plugins/bounces/lists/{LIST_ID}/members'
                          '?count=200&page=1')
    return {entry['email']: entry for entry in members.get('entries', [])}


def address_lines() -> list[str]:
    """Per address: what bounced, what it led to, where it stands now."""
    events = rest('GET', f'/plugins/bounces/events?list_id={LIST_ID}'
                         '&count=500&page=1').get('entries', [])
    standing = _standing()
    history: dict[str, list[dict]] = {}
    for event in events:
        history.setdefault(event['email'], []).append(event)
    header = (f"{'address':<28} {'events':>6}  {'reasons':<24} "
              f"{'outcomes':<40} now")
    lines = [header]
    outage_only = [email for email in GMAIL if email != DEAD_GMAIL]
    for email in [*PEOPLE, DEAD_GMAIL, outage_only[0]]:
        entries = history.get(email, [])
        reasons = sorted({e['reason'] for e in entries})
        outcomes: dict[str, int] = {}
        for entry in entries:
            key = entry['outcome'] or 'pending'
            outcomes[key] = outcomes.get(key, 0) + 1
        member = standing.get(email)
        now = ('removed' if member is None else
               f"{member['delivery_status']}, score {member['score']:g}, "
               f"{member['total_warnings_sent']} warning(s)")
        lines.append(
            f"{email:<28} {len(entries):>6}  {', '.join(reasons) or '-':<24} "
            f"{', '.join(f'{k} {v}' for k, v in sorted(outcomes.items())) or '-':<40} "
            f'{now}')
    lines.append(f'(and {len(outage_only) - 1} more Gmail readers like '
                 f'{outage_only[0]})')
    return lines


def outbox_lines() -> list[str]:
    from email import message_from_binary_file
    from email.header import decode_header, make_header
    subjects: dict[str, int] = {}
    for path in sorted(OUTBOX.glob('*.eml')):
        with open(path, 'rb') as fp:
            message = message_from_binary_file(fp)
        subject = ' '.join(str(make_header(decode_header(
            message.get('subject', '')))).split())
        if subject.startswith('reenable '):
            subject = 'reenable <token> - ' + subject.split(' - ', 1)[-1]
        subjects[subject] = subjects.get(subject, 0) + 1
    return [f'{count:3d} x {subject}' for subject, count in
            sorted(subjects.items())]


def scenario() -> None:
    started = time.monotonic()
    reset()
    write_config()
    start()
    create_list()
    print(f'\nCreated {LIST} with {len(PEOPLE) + len(GMAIL)} members.')
    counter = [0]
    registered = 0
    for day in range(1, 12):
        bounces = day_of_bounces(day, counter)
        deliver(bounces)
        # Erin's auto-reply (day 2) is not a bounce: not registered.
        registered += len(bounces) - (1 if day == 2 else 0)
        wait_until_idle(registered)
        process_now()
        print(f'day {day:2d}: {len(bounces):2d} messages delivered over '
              f'LMTP; {registered} bounce events so far')
        pass_days(1)
    for week in (1, 2, 3):
        # Nothing bounces any more; the disabled get their warnings.
        pass_days(7 if week > 1 else 1)
        process_now()
        time.sleep(1)
        print(f'week {week} later: warnings and removals done')
    process_now()
    time.sleep(2)
    show('Who bounced, why, and what it led to (REST: events, '
         'lists/.../members)', address_lines())
    stats = rest('GET', f'/plugins/bounces/stats?list_id={LIST_ID}')
    show('Events by reason (REST: stats)', [
        f"{row['reason']:<16} {row['events']:3d} events from "
        f"{row['addresses']} address(es)"
        for row in stats.get('reasons', [])])
    show('mailman bounces report', mailman(
        'bounces', 'report', '--list', LIST).stdout.splitlines())
    show('mailman bounces freezes --all', mailman(
        'bounces', 'freezes', '--all').stdout.splitlines())
    show(f'Mail the instance sent ({OUTBOX.relative_to(ROOT)})',
         outbox_lines())
    print(f"""
What happened:
  * anne's mailbox was closed: 5 daily hard bounces disabled her; she got
    three warnings a week apart (each with a re-enable token) and was then
    removed, with a notice to the owners at each step;
  * bart's provider rejected the list's mail for DMARC: recorded and
    summarised to the owners, never held against him;
  * cris's mailbox was full for six days (an Exim text bounce): half a
    point a day, still subscribed;
  * on day 2 Gmail failed for all {len(GMAIL)} Gmail readers within minutes:
    scoring for gmail.com was frozen and the owners and site admin were
    told; only {DEAD_GMAIL}, which kept bouncing afterwards, was
    counted; the others' bounces were recorded as the outage's;
  * dave's abuse complaint was reported to the owners; erin's holiday
    auto-reply was not a bounce.

Done in {time.monotonic() - started:.0f}s.  The instance is still running:
  REST      {REST}/plugins/bounces/   (restadmin:restpass)
  commands  .venv/bin/mailman -C var/etc/mailman.cfg bounces status {LIST}
  mail      {OUTBOX.relative_to(ROOT)}/
  ./run-demo stop | start | status | reset
""")


def status() -> None:
    if running():
        print(f'Running: REST at {REST}')
    else:
        print('Not running.')


def main(argv: list[str]) -> None:
    command = argv[0] if argv else 'run'
    actions = {'run': scenario, 'start': start, 'stop': stop,
               'reset': reset, 'status': status}
    if command not in actions:
        raise SystemExit(f'unknown command {command!r}: expected one of '
                         + ', '.join(actions))
    try:
        actions[command]()
    except HTTPError as error:
        raise SystemExit(f'REST error {error.code} for {error.url}: '
                         f'{error.read().decode(errors="replace")}') from None


if __name__ == '__main__':
    main(sys.argv[1:])
