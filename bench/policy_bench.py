"""Benchmark: bounce registration, processing and warnings, core vs plugin.

A site of 100 lists with 10,000 or 100,000 members is fed 10k, 100k or 1M
bounce events over 30 simulated days (1% of members are dead addresses that
bounce every day; the rest bounce now and then: user unknown, mailbox full,
DMARC).  The same events go through:

* Mailman core (plugin disabled), at 10k events: its real cadence (the
  bounce runner registers one bounce per transaction, then processes every
  pending event with ``process_event`` and runs ``send_warnings_and_remove``
  after every queue file) and in batches of 100 bounces; at its real
  cadence also at 100,000 members (3,000 events: its cost per bounce is
  dominated by the warnings scan over every member, which does not depend
  on the number of events), so that every plugin run is compared with core
  at the same number of members;
* the plugin, at every size: registration as its bounce runner does it
  (100 bounces at a time, with a few statements and one transaction) and
  the periodic pass (every 1,000 bounces
  and at the end of each day), which includes warnings and removals.

Each configuration runs in its own process on a fresh copy of the site, on
SQLite and on PostgreSQL, in one run of this script.  On PostgreSQL, each
simulated day ends with an untimed ``VACUUM ANALYZE``: the work autovacuum
does on a production server, done by hand because some servers (this
machine's) run with autovacuum off.  Times are wall-clock
per bounce; peak memory is the process's maximum resident set.  Results go
to bench/results/policy.{txt,json}; ``--docs`` also rewrites the table in
src/mailman_bounces/docs/benchmarks.rst.

    python bench/policy_bench.py                 # everything (about an hour)
    python bench/policy_bench.py --quick         # 10k events only
    python bench/policy_bench.py --events 3000,10000 --merge --docs
        # re-run some sizes, keep the other results of the last run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doc_blocks import replace_block

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'bench' / 'results'
DOCS = ROOT / 'src' / 'mailman_bounces' / 'docs' / 'benchmarks.rst'
LISTS = 100
DAYS = 30
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PG_SERVER = os.environ.get('MAILMAN_BOUNCES_PG_URL',
                           'postgresql://postgres@127.0.0.1:5432/postgres')
# The benchmark's PostgreSQL databases are named PREFIX_...
PREFIX = os.environ.get('MAILMAN_BOUNCES_BENCH_PREFIX', 'mbbench')


# --------------------------------------------------------------------------
# Bounce messages: three kinds, classified once (detection is not what this
# benchmark measures: both core's and the plugin's runners detect before
# registering).

TEMPLATES = {
    'hard': ('5.1.1', 'failed', ('550 5.1.1 <{email}>: Recipient address '
                                 'rejected: User unknown in virtual mailbox '
                                 'table')),
    'soft': ('4.2.2', 'delayed', '452 4.2.2 <{email}>: Mailbox full'),
    'dmarc': ('5.7.26', 'failed', ('550 5.7.26 Unauthenticated email from '
                                   'example.com is not accepted due to '
                                   "domain's DMARC policy")),
}


def dsn_text(email: str, kind: str, number: int) -> str:
    status, action, diagnostic = TEMPLATES[kind]
    return f"""\
From: MAILER-DAEMON@mx.remote.example (Mail Delivery System)
To: list-bounces@lists.example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bench-{number}@mx.remote.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="B{number}"

--B{number}
Content-Type: text/plain

Your message could not be delivered.

--B{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.example

Final-Recipient: rfc822; {email}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic.format(email=email)}

--B{number}--
"""


@dataclass(frozen=True)
class Bounce:
    number: int
    day: int
    list_index: int
    member_index: int
    kind: str


def members_of(list_index: int, members: int) -> range:
    """Members are spread evenly over the lists."""
    per_list = members // LISTS
    return range(list_index * per_list, (list_index + 1) * per_list)


def email_of(member_index: int) -> str:
    # Many domains, so that no outage freeze distorts the measurement.
    return f'member{member_index}@d{member_index % 997}.example.org'


def workload(events: int, members: int, seed: int = 7) -> Iterator[Bounce]:
    """`events` bounces over DAYS days (generated as they are consumed, so
    the workload itself takes no memory): dead addresses bounce daily."""
    rng = random.Random(seed)
    dead = rng.sample(range(members), max(1, members // 100))
    per_day = events // DAYS
    number = 0
    for day in range(DAYS):
        for n in range(per_day):
            if n < len(dead) and n < per_day // 10:
                member = dead[n]
                kind = 'hard'
            else:
                member = rng.randrange(members)
                kind = rng.choices(('hard', 'soft', 'dmarc'), (2, 1, 1))[0]
            yield Bounce(number, day, member // (members // LISTS), member,
                         kind)
            number += 1


# --------------------------------------------------------------------------
# The Mailman instance of one configuration.

def write_config(var: Path, url: str | None, plugin: bool) -> Path:
    database = ''
    if url is not None:
        database = ('[database]\nclass: '
                    'mailman.database.postgresql.PostgreSQLDatabase\n'
                    f'url: {url}\n')
    plugin_section = """
[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
""" if plugin else ''
    path = var.parent / 'mailman.cfg'
    path.write_text(f"""\
[mailman]
layout: bench
site_owner: postmaster@example.com

[paths.bench]
var_dir: {var}

[mta]
incoming: mailman.mta.null.NullMTA

[logging.bounce]
level: warning

[logging.root]
level: warning

{database}
{plugin_section}
""", encoding='utf-8')
    return path


def use_simulated_clock() -> None:
    """Make Mailman's now() a clock the benchmark moves (and nothing else
    of Mailman's testing mode)."""
    import mailman.utilities.datetime as clock

    class Simulated:
        @staticmethod
        def is_testing():
            return True
    clock.layers = Simulated
    clock.factory.predictable_now = START
    clock.factory.predictable_today = START.date()


def advance(seconds: float) -> None:
    import mailman.utilities.datetime as clock
    clock.factory.predictable_now += timedelta(seconds=seconds)
    clock.factory.predictable_today = clock.factory.predictable_now.date()


def build_site(members: int) -> None:
    """100 lists and `members` members, inserted in bulk."""
    from mailman.app.lifecycle import create_list
    from mailman.config import config
    from mailman.interfaces.domain import IDomainManager
    from mailman.interfaces.member import MemberRole
    from mailman.model.address import Address
    from mailman.model.member import Member
    from mailman.model.preferences import Preferences
    from sqlalchemy import func, insert, select
    from zope.component import getUtility
    getUtility(IDomainManager).add('lists.example.com')
    list_ids = []
    for index in range(LISTS):
        mlist = create_list(f'list{index}@lists.example.com')
        mlist.send_welcome_message = False
        mlist.send_goodbye_message = False
        list_ids.append(mlist.list_id)
    config.db.commit()
    store = config.db.store
    now = START.replace(tzinfo=None)
    chunk = 5000
    for start in range(0, members, chunk):
        numbers = range(start, min(members, start + chunk))
        first = (store.execute(select(func.max(Preferences.id))).scalar()
                 or 0) + 1
        store.execute(insert(Preferences), [{'delivery_status': None}
                                            for _ in range(2 * len(numbers))])
        address_first = (store.execute(select(func.max(Address.id)))
                         .scalar() or 0) + 1
        store.execute(insert(Address), [
            {'email': email_of(n), '_original': email_of(n),
             'registered_on': now, 'preferences_id': first + 2 * i}
            for i, n in enumerate(numbers)])
        store.execute(insert(Member), [
            {'_member_id': uuid.uuid4(), 'role': MemberRole.member,
             'list_id': list_ids[n // (members // LISTS)],
             'address_id': address_first + i,
             'preferences_id': first + 2 * i + 1, 'bounce_score': 0,
             'last_warning_sent': datetime.min, 'total_warnings_sent': 0}
            for i, n in enumerate(numbers)])
        config.db.commit()


# --------------------------------------------------------------------------
# Running one configuration (in its own process).

@dataclass
class Timings:
    register: float = 0.0
    process: float = 0.0
    warnings: float = 0.0
    # The plugin's sending of notices (core's is inside process/warnings).
    notices: float = 0.0
    # The total without notices at the end of each tenth of the events, to
    # see whether the cost per event changes as the tables grow.
    marks: list[float] = field(default_factory=list)

    def add(self, name: str, started: float) -> None:
        setattr(self, name, getattr(self, name) + time.perf_counter()
                - started)

    def mark(self) -> None:
        self.marks.append(self.register + self.process + self.warnings)


def _lists():
    from mailman.interfaces.listmanager import IListManager
    from zope.component import getUtility
    manager = getUtility(IListManager)
    return [manager.get(f'list{i}@lists.example.com') for i in range(LISTS)]


def end_of_day() -> None:
    """What PostgreSQL's autovacuum daemon does for a production site: its
    dead rows are reclaimed and its statistics kept current.  Some servers
    (this benchmark's among them) run with autovacuum off, so the benchmark
    does it once a simulated day, outside the timed work, for both core and
    the plugin.  SQLite needs nothing of the kind."""
    from mailman.config import config
    from sqlalchemy import text
    engine = config.db.engine
    if engine.dialect.name != 'postgresql':
        return
    with engine.connect().execution_options(
            isolation_level='AUTOCOMMIT') as connection:
        connection.execute(text('VACUUM ANALYZE'))


def run_core(bounces: Iterator[Bounce], count: int, cadence: str) -> dict:
    from mailman.config import config
    from mailman.interfaces.bounce import IBounceProcessor, InvalidBounceEvent
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility
    processor = getUtility(IBounceProcessor)
    lists = _lists()
    timings = Timings()
    per_day = max(1, count // DAYS)

    def process_pending():
        started = time.perf_counter()
        for event in list(processor.unprocessed):
            try:
                processor.process_event(event)
            except InvalidBounceEvent:
                pass
        timings.add('process', started)
        started = time.perf_counter()
        processor.send_warnings_and_remove()
        timings.add('warnings', started)

    for bounce in bounces:
        email = email_of(bounce.member_index)
        msg = specialized_message_from_string(
            dsn_text(email, bounce.kind, bounce.number))
        started = time.perf_counter()
        processor.register(lists[bounce.list_index], email, msg)
        config.db.commit()
        timings.add('register', started)
        if cadence == 'real' or (bounce.number + 1) % 100 == 0:
            process_pending()
        if (bounce.number + 1) % per_day == 0:
            end_of_day()
        advance(86400 / per_day)
    process_pending()
    return timings.__dict__


# Seconds spent in each kind of notice's handler (plugin runs).
NOTICE_SECONDS: dict[str, float] = {}


def _timed(totals: dict[str, float], name: str, function):
    """`function`, adding the seconds each call takes to totals[name]."""
    def wrapper(*args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            totals[name] = (totals.get(name, 0.0)
                            + time.perf_counter() - started)
    return wrapper


def run_plugin(bounces: Iterator[Bounce], count: int) -> dict:
    from mailman.config import config
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility

    from mailman_bounces.app import bounce_pass
    from mailman_bounces.detect import detect
    processor = getUtility(IBounceProcessor)
    lists = _lists()
    reports = {kind: detect(dsn_text('x@example.org', kind, 0))
               for kind in TEMPLATES}
    timings = Timings()
    per_day = max(1, count // DAYS)

    # The pass does it all; its warnings step and its sending of notices
    # are timed apart (notices grow with the actions taken, not with the
    # events).
    inner = {'warnings': 0.0, 'notices': 0.0}
    bounce_pass.queue_warnings_and_removals = _timed(
        inner, 'warnings', bounce_pass.queue_warnings_and_removals)
    bounce_pass.deliver_notices = _timed(inner, 'notices',
                                         bounce_pass.deliver_notices)
    # Within the notices: the time of each kind's handler.
    from mailman_bounces.app.notice_handlers import HANDLERS
    for kind, handler in HANDLERS.items():
        handler.carry_out = _timed(NOTICE_SECONDS, str(kind),
                                   handler.carry_out)

    def run_pass():
        started = time.perf_counter()
        report = bounce_pass.run_pass()
        elapsed = time.perf_counter() - started
        timings.warnings += inner['warnings']
        timings.notices += inner['notices']
        timings.process += elapsed - inner['warnings'] - inner['notices']
        inner.update(warnings=0.0, notices=0.0)
        return report

    from dataclasses import replace

    from mailman_bounces.app.processor import Registration
    pending: list[Registration] = []

    def register_pending():
        # What the plugin's bounce runner does with each batch of queue
        # files: register them together, then commit.
        started = time.perf_counter()
        processor.record_all(pending)
        config.db.commit()
        pending.clear()
        timings.add('register', started)

    list_ids = [mlist.list_id for mlist in lists]
    tenth = max(1, count // 10)
    for bounce in bounces:
        email = email_of(bounce.member_index)
        text = dsn_text(email, bounce.kind, bounce.number)
        msg = specialized_message_from_string(text)
        report = reports[bounce.kind]
        recipient = replace(report.recipients[0], address=email)
        # What the plugin's LMTP runner hands its bounce runner.
        raw = text.encode()
        msgdata = {'bounces_raw': raw, 'original_size': len(raw),
                   'bounces_fingerprint': hashlib.sha256(raw).hexdigest()}
        pending.append(Registration(list_ids[bounce.list_index], email, msg,
                                    None, report, recipient, msgdata))
        if len(pending) == 100:
            register_pending()
        if (bounce.number + 1) % 1000 == 0 or (
                (bounce.number + 1) % per_day == 0):
            register_pending()
            run_pass()
        if (bounce.number + 1) % per_day == 0:
            end_of_day()
        if (bounce.number + 1) % tenth == 0:
            timings.mark()
        advance(86400 / per_day)
    register_pending()
    run_pass()
    return timings.__dict__


def idle_warnings_pass(impl: str) -> float:
    """Seconds for a warnings pass with nothing due (its fixed cost)."""
    from mailman.config import config
    from mailman.interfaces.bounce import IBounceProcessor
    from zope.component import getUtility
    started = time.perf_counter()
    for _ in range(5):
        if impl == 'core':
            getUtility(IBounceProcessor).send_warnings_and_remove()
        else:
            from mailman.utilities.datetime import now

            from mailman_bounces.app.warnings import (
                queue_warnings_and_removals,
            )
            queue_warnings_and_removals(now())
            config.db.commit()
    return (time.perf_counter() - started) / 5


def member_count() -> int:
    from mailman.config import config
    from mailman.interfaces.member import MemberRole
    from mailman.model.member import Member
    from sqlalchemy import func, select
    return config.db.store.execute(
        select(func.count()).select_from(Member)
        .where(Member.role == MemberRole.member)).scalar()


def outcome_summary() -> dict:
    from mailman.config import config
    from mailman.interfaces.member import DeliveryStatus
    from mailman.model.preferences import Preferences
    from sqlalchemy import func, select
    disabled = config.db.store.execute(
        select(func.count()).select_from(Preferences).where(
            Preferences.delivery_status == DeliveryStatus.by_bounces)
    ).scalar()
    return {'disabled': disabled}


def worker(args) -> None:
    from mailman.core.initialize import initialize
    initialize(args.config)
    use_simulated_clock()
    if args.build:
        build_site(args.members)
        print(json.dumps({'built': args.members}))
        return
    count = args.events // DAYS * DAYS
    bounces = workload(args.events, args.members)
    members_before = member_count()
    started = time.perf_counter()
    if args.impl == 'core':
        timings = run_core(bounces, count, args.cadence)
    else:
        timings = run_plugin(bounces, count)
    wall = time.perf_counter() - started
    marks = timings.pop('marks')
    tenth = max(1, count // 10)
    result = {
        'impl': args.impl, 'cadence': args.cadence, 'members': args.members,
        'events': count, 'wall_s': round(wall, 2),
        'removed': members_before - member_count(),
        **{f'{k}_ms': round(1000 * v / count, 4)
           for k, v in timings.items()},
        # ms per event in each tenth of the run (plugin runs).
        'tenths_ms': [round(1000 * (b - a) / tenth, 4)
                      for a, b in zip([0.0, *marks], marks)],
        'idle_warnings_ms': round(1000 * idle_warnings_pass(args.impl), 2),
        'peak_rss_mb': round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **outcome_summary(),
    }
    if NOTICE_SECONDS:
        result['notices_by_kind_ms'] = {
            kind: round(1000 * seconds / count, 4)
            for kind, seconds in sorted(NOTICE_SECONDS.items())}
    result['total_ms'] = round(result['register_ms'] + result['process_ms']
                               + result['warnings_ms']
                               + result['notices_ms'], 4)
    print(json.dumps(result))


# --------------------------------------------------------------------------
# The orchestrator.

def _pg_url(database: str) -> str:
    """The URL of `database` on the benchmark's server (also when the
    server is reached through a socket named in the URL's query)."""
    from sqlalchemy.engine import make_url
    return make_url(PG_SERVER).set(database=database).render_as_string(
        hide_password=False)


class Backend:
    """Fresh copies of a built site, on SQLite or PostgreSQL."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir

    def _admin(self):
        from sqlalchemy import create_engine
        return create_engine(PG_SERVER, isolation_level='AUTOCOMMIT')

    def _sql(self, statement: str) -> None:
        from sqlalchemy import text
        engine = self._admin()
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def site_url(self, members: int) -> str | None:
        if self.name == 'sqlite':
            return None
        return _pg_url(f'{PREFIX}_site_{members}')

    def template_var(self, members: int) -> Path:
        return self.workdir / f'site-{members}' / 'var'

    def build(self, members: int, plugin: bool) -> None:
        var = self.template_var(members)
        shutil.rmtree(var.parent, ignore_errors=True)
        var.mkdir(parents=True)
        if self.name == 'postgresql':
            self._sql(f'DROP DATABASE IF EXISTS {PREFIX}_site_{members}')
            self._sql(f'CREATE DATABASE {PREFIX}_site_{members}')
        config = write_config(var, self.site_url(members), plugin)
        run_worker(['--config', str(config), '--members', str(members),
                    '--build'])

    def copy(self, members: int, name: str, plugin: bool) -> Path:
        """A fresh instance from the site template; returns its config."""
        var = self.workdir / name / 'var'
        shutil.rmtree(var.parent, ignore_errors=True)
        shutil.copytree(self.template_var(members), var)
        url = None
        if self.name == 'postgresql':
            database = f'{PREFIX}_{name}'.replace('-', '_')
            self._sql(f'DROP DATABASE IF EXISTS {database}')
            self._sql(f'CREATE DATABASE {database} TEMPLATE '
                      f'{PREFIX}_site_{members}')
            url = _pg_url(database)
        return write_config(var, url, plugin)

    def drop(self, name: str) -> None:
        shutil.rmtree(self.workdir / name, ignore_errors=True)
        if self.name == 'postgresql':
            self._sql('DROP DATABASE IF EXISTS '
                      + f'{PREFIX}_{name}'.replace('-', '_'))


def run_worker(arguments: list[str]) -> dict:
    command = [sys.executable, __file__, 'worker', *arguments]
    result = subprocess.run(command, capture_output=True, text=True,
                            check=False, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f'worker failed: {" ".join(arguments)}\n'
                         f'{result.stdout}\n{result.stderr}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def plan(quick: bool, scale: float = 1.0,
         core_events: int = 3_000) -> list[tuple]:
    """(impl, cadence, members, events) in run order."""
    runs = [('core', 'real', 10_000, 10_000),
            ('core', 'batch', 10_000, 10_000),
            ('core', 'real', 100_000, core_events),
            ('plugin', '-', 10_000, 10_000),
            ('plugin', '-', 100_000, 10_000)]
    if not quick:
        runs += [('plugin', '-', 10_000, 100_000),
                 ('plugin', '-', 100_000, 100_000),
                 ('plugin', '-', 100_000, 1_000_000)]
    if scale != 1.0:
        # For trying the benchmark itself out quickly.
        runs = [(i, c, max(LISTS, int(m * scale)) // LISTS * LISTS,
                 max(DAYS, int(e * scale))) for i, c, m, e in runs]
    return runs


def _caps(option: str) -> dict[str, int]:
    """--max-events 'postgresql:100000,...' as {backend: events}."""
    caps = {}
    for item in filter(None, option.split(',')):
        backend, _, events = item.partition(':')
        caps[backend.strip()] = int(events)
    return caps


def orchestrate(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix='mailman-bounces-bench-'))
    results: list[dict] = []

    def merge(results: list[dict]) -> list[dict]:
        # Read again at each write: the SQLite and PostgreSQL runs may go
        # side by side in two processes, each adding its own results.
        return merged(results, last_run()) if args.merge else results
    try:
        for backend_name in args.backends.split(','):
            backend = Backend(backend_name, workdir)
            cap = _caps(args.max_events).get(backend_name)
            sizes = {int(n) for n in args.events.split(',') if n}
            runs = [run for run in plan(args.quick, args.scale,
                                        args.core_events)
                    if args.only in ('all', run[0])
                    and (cap is None or run[3] <= cap)
                    and (not sizes or run[3] in sizes)
                    and (not args.members or run[2] == args.members)]
            for members in sorted({r[2] for r in runs}):
                print(f'[{backend_name}] building a site of {members} '
                      'members', flush=True)
                backend.build(members, plugin=True)
            for impl, cadence, members, events in runs:
                name = f'{impl}-{cadence}-{members}-{events}'.replace(
                    '-' + '-', '-')
                config = backend.copy(members, name, impl == 'plugin')
                print(f'[{backend_name}] {impl} {cadence} {members} '
                      f'members {events} events ...', flush=True)
                result = run_worker([
                    '--config', str(config), '--impl', impl,
                    '--cadence', cadence, '--members', str(members),
                    '--events', str(events)])
                result['backend'] = backend_name
                result['date'] = time.strftime('%Y-%m-%d')
                print('    ', json.dumps(result), flush=True)
                results.append(result)
                backend.drop(name)
                # Keep what is measured so far if a long run is cut off.
                report(merge(results), docs=False, quiet=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(merge(results), args.docs)


def _key(result: dict) -> tuple:
    return (result['backend'], result['impl'], result['cadence'],
            result['members'], result['events'])


def last_run() -> dict:
    """The results of the last run (bench/results/policy.json)."""
    path = RESULTS / 'policy.json'
    if not path.exists():
        return {'results': []}
    return json.loads(path.read_text())


def merged(results: list[dict], earlier: dict) -> list[dict]:
    """`results`, plus those of `earlier` (see `last_run`) for the
    configurations not run now, each with its date."""
    fresh = {_key(result) for result in results}
    kept = [dict(result, date=result.get('date', earlier.get('date')))
            for result in earlier['results'] if _key(result) not in fresh]
    order = {backend: n for n, backend in enumerate(
        dict.fromkeys(r['backend'] for r in results + kept))}
    return sorted(results + kept, key=lambda r: (
        order[r['backend']], r['impl'] != 'core', r['events'],
        r['members'], r['cadence']))


def _rst_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(c.ljust(w) for c, w in zip(rows[0], widths)),
             rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(row, widths))
              for row in rows[1:]]
    lines.append(rule)
    return '\n'.join(lines)


def _core_at(results: list[dict], result: dict) -> dict | None:
    """Core at its real cadence, same backend and number of members, from
    the same run (a run on a busier machine would skew the ratio)."""
    return next((r for r in results if r['backend'] == result['backend']
                 and r['impl'] == 'core' and r['cadence'] == 'real'
                 and r['members'] == result['members']
                 and r.get('date') == result.get('date')), None)


def _without_notices(result: dict) -> float:
    return result['register_ms'] + result['process_ms'] + (
        result['warnings_ms'])


def _table(results: list[dict]) -> str:
    header = ('backend', 'impl', 'members', 'events', 'register ms',
              'process ms', 'warnings ms', 'notices ms', 'total ms/bounce',
              'vs core', 'idle warnings ms', 'peak MB', 'disabled', 'removed',
              'run')
    rows = [header]
    for result in results:
        core = _core_at(results, result)
        ratio = (f"{core['total_ms'] / result['total_ms']:.1f}x"
                 if core else '-')
        impl = result['impl'] if result['impl'] == 'plugin' else (
            f"core ({result['cadence']})")
        rows.append((result['backend'], impl, f"{result['members']:,}",
                     f"{result['events']:,}", f"{result['register_ms']:.3f}",
                     f"{result['process_ms']:.3f}",
                     f"{result['warnings_ms']:.3f}",
                     (f"{result['notices_ms']:.3f}"
                      if result['impl'] == 'plugin' else 'in process'),
                     f"{result['total_ms']:.3f}", ratio,
                     f"{result['idle_warnings_ms']:.1f}",
                     f"{result['peak_rss_mb']:.0f}",
                     str(result['disabled']), str(result['removed']),
                     result.get('date', '-')))
    return _rst_table(rows)


def _growth_table(results: list[dict]) -> str:
    """The plugin's cost per bounce at each size against its cost at the
    smallest size, same backend and members: total, and without notices
    (their number follows the members disabled, not the bounces)."""
    header = ('backend', 'members', 'events', 'total ms', 'x smallest',
              'w/o notices ms', 'x smallest ')
    rows = [header]
    plugin = [r for r in results if r['impl'] == 'plugin']
    for result in plugin:
        base = min((r for r in plugin if r['backend'] == result['backend']
                    and r['members'] == result['members']
                    and r.get('date') == result.get('date')),
                   key=lambda r: r['events'])
        rows.append((result['backend'], f"{result['members']:,}",
                     f"{result['events']:,}", f"{result['total_ms']:.3f}",
                     f"{result['total_ms'] / base['total_ms']:.2f}x",
                     f"{_without_notices(result):.3f}",
                     f"{_without_notices(result) / _without_notices(base):.2f}x"))
    return _rst_table(rows)


def _tenths_table(results: list[dict]) -> str:
    """ms per event (without notices) in each tenth of each plugin run."""
    header = ('backend', 'members', 'events',
              *(f'{n}0%' for n in range(1, 11)))
    rows = [header] + [
        (result['backend'], f"{result['members']:,}",
         f"{result['events']:,}",
         *(f'{value:.2f}' for value in result['tenths_ms']))
        for result in results
        if result['impl'] == 'plugin' and len(result['tenths_ms']) == 10]
    return _rst_table(rows)


def report(results: list[dict], docs: bool, quiet: bool = False) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = _table(results)
    tenths = _tenths_table(results)
    growth = _growth_table(results)
    stamp = time.strftime('%Y-%m-%d')
    (RESULTS / 'policy.json').write_text(json.dumps(
        {'date': stamp, 'results': results}, indent=2) + '\n')
    (RESULTS / 'policy.txt').write_text(f'{table}\n\n{tenths}\n\n'
                                        f'{growth}\n')
    if not quiet:
        print(table)
        print(tenths)
        print(growth)
    if docs and DOCS.exists():
        text = DOCS.read_text(encoding='utf-8')
        text = replace_block(text, 'policy-benchmark', table)
        text = replace_block(text, 'policy-tenths', tenths)
        text = replace_block(text, 'policy-growth', growth)
        DOCS.write_text(text, encoding='utf-8')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command')
    run = sub.add_parser('run', help='run the benchmark (default)')
    run.add_argument('--quick', action='store_true')
    run.add_argument('--backends', default='sqlite,postgresql')
    run.add_argument('--docs', action='store_true')
    run.add_argument('--max-events', default='', metavar='BACKEND:N,...',
                     help='skip runs of more than N events on BACKEND')
    run.add_argument('--events', default='', metavar='N,...',
                     help='run only the configurations of these sizes')
    run.add_argument('--only', choices=('all', 'core', 'plugin'),
                     default='all', help='run only these configurations')
    run.add_argument('--core-events', type=int, default=3_000,
                     help="core's events at 100,000 members (its cost per "
                          'bounce hardly depends on them)')
    run.add_argument('--members', type=int, default=0,
                     help='run only the configurations of this many members')
    run.add_argument('--merge', action='store_true',
                     help='keep the last results of the configurations '
                          'not run now')
    run.add_argument('--scale', type=float, default=1.0,
                     help='shrink every size (e.g. 0.01 to try it out)')
    work = sub.add_parser('worker')
    work.add_argument('--config', required=True)
    work.add_argument('--impl', default='plugin')
    work.add_argument('--cadence', default='-')
    work.add_argument('--members', type=int, default=10_000)
    work.add_argument('--events', type=int, default=10_000)
    work.add_argument('--build', action='store_true')
    argv = sys.argv[1:] or ['run']
    if argv[0] not in ('run', 'worker'):
        argv = ['run', *argv]
    args = parser.parse_args(argv)
    if args.command == 'worker':
        worker(args)
    else:
        orchestrate(args)


if __name__ == '__main__':
    main()
