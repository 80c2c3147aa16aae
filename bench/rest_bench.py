"""Benchmark: latency of the plugin's REST API on a big PostgreSQL site.

A site of 100 lists and 100,000 members with 1,000,000 bounce events (over
the last 180 days, 10 % of the members with a bounce standing) is loaded in
bulk: lists through Mailman, members with multi-row INSERTs, events and
standings with PostgreSQL's COPY (not through the bounce runner, which
would take hours).  Then Mailman's real REST server (the ``rest`` runner:
gunicorn, one sync worker, as a site runs it) is started on the site and
every request below is timed from a client over real HTTP, sequentially,
after one untimed warm-up call:

* ``events`` with each documented filter: the first page and a deep page
  (the middle page of the filtered listing, the most expensive one to
  reach), at the default page size;
* ``events/<id>``;
* ``lists/<list>/members``, first and middle page;
* ``stats`` for one list over 7 and over 90 days.

Results (p50, p95, p99 in ms) go to bench/results/rest-LABEL.{txt,json};

    python bench/rest_bench.py --label after        # builds the site once
    python bench/rest_bench.py --events 2000 --members 1000 --repeat 3
                                                    # a tiny trial run
    python bench/rest_bench.py --explain --label after  # the plans
    python bench/rest_bench.py table before after   # an RST table
    python bench/rest_bench.py --database mine --only members,stats
                        # only some rows, on a copy of the site

The rows are grouped: ``events`` (every filter of the events listing and
``events/<id>``), ``members`` and ``stats``; core's own ``system/versions``
is always timed, as the baseline of the run.

The site is built in a database of its own (``mbbench_rest_<events>``) on
the PostgreSQL server of MAILMAN_BOUNCES_PG_URL and kept: later runs with
the same sizes reuse it (``--rebuild`` to start again).  ``--database``
names another one instead, e.g. a copy of it (``CREATE DATABASE ... TEMPLATE
mbbench_rest_<events>``), so that a change can be tried without touching
the site others measure.  The plugin's
migrations run when the REST server starts, so a site built before a
migration gets it then.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from doc_blocks import replace_block

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'bench' / 'results'
DOCS = ROOT / 'src' / 'mailman_bounces' / 'docs' / 'benchmarks.rst'
WORK = Path(os.environ.get('TMPDIR', '/tmp')) / 'mailman-bounces-rest-bench'
PG_SERVER = os.environ.get('MAILMAN_BOUNCES_PG_URL',
                           'postgresql://postgres@127.0.0.1:5432/postgres')
LISTS = 100
DAYS = 180
# The REST server's port (--port).
PORT = 8011
AUTH = ('restadmin', 'restpass')
DOMAINS = 997
REASONS = (('userunknown', 'hard', 'bounce', 30),
           ('mailboxfull', 'soft', 'delay', 20),
           ('authfailure', 'hard', 'bounce', 10),
           ('spamdetected', 'soft', 'bounce', 10),
           ('hostunknown', 'hard', 'bounce', 8),
           ('expired', 'soft', 'delay', 7),
           ('blocked', 'soft', 'bounce', 6),
           ('rejected', 'hard', 'bounce', 5),
           ('feedback', 'none', 'complaint', 2),
           ('undefined', 'none', 'unknown', 2))
OUTCOMES = (('scored', 70), ('same-day', 15), ('ignored', 10),
            ('disabled', 4), ('outage', 1))


def list_id(index: int) -> str:
    return f'list{index}.lists.example.com'


def email_of(member: int) -> str:
    return f'member{member}@d{member % DOMAINS}.example.org'


# The groups of timed requests (--only).
GROUPS = ('events', 'members', 'stats')


def database_url(name: str) -> str:
    base, _, query = PG_SERVER.partition('?')
    url = base.rsplit('/', 1)[0] + f'/{name}'
    return url + (f'?{query}' if query else '')


def _admin_sql(statement: str) -> list:
    """Run `statement` on the server's admin database; its rows."""
    from sqlalchemy import create_engine, text
    engine = create_engine(PG_SERVER, isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        result = connection.execute(text(statement))
        rows = result.all() if result.returns_rows else []
    engine.dispose()
    return rows


def write_config(var: Path, url: str) -> Path:
    var.mkdir(parents=True, exist_ok=True)
    path = var.parent / 'mailman.cfg'
    path.write_text(f"""\
[mailman]
layout: bench
site_owner: postmaster@example.com

[paths.bench]
var_dir: {var}

[mta]
incoming: mailman.mta.null.NullMTA

[webservice]
hostname: 127.0.0.1
port: {PORT}

[logging.root]
level: warning

[database]
class: mailman.database.postgresql.PostgreSQLDatabase
url: {url}

[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
""", encoding='utf-8')
    return path


# --------------------------------------------------------------------------
# Building the site (in a worker process: Mailman's configuration is
# process-wide).

def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY `rows` (tuples, None for NULL) into `table`, 100k at a time."""
    def flush(buffer: io.StringIO) -> None:
        buffer.seek(0)
        cursor.copy_expert(f'COPY {table} ({", ".join(columns)}) '
                           'FROM STDIN', buffer)
    buffer = io.StringIO()
    for number, row in enumerate(rows, 1):
        buffer.write('\t'.join(r'\N' if value is None else str(value)
                               for value in row) + '\n')
        if number % 100_000 == 0:
            flush(buffer)
            buffer = io.StringIO()
    flush(buffer)


EVENT_COLUMNS = ('list_id', 'email', 'domain', 'timestamp', 'message_id',
                 'context', 'processed', 'kind', 'severity', 'reason',
                 'status', 'diagnostic', 'remote_mta', 'detector',
                 'fingerprint', 'outcome', 'score_delta', 'processed_at',
                 'evidence')


def _events(count: int, members: int, now: datetime, seed: int = 11):
    """`count` events, oldest first, spread over the last DAYS days."""
    rng = random.Random(seed)
    reasons = [r[:3] for r in REASONS]
    reason_weights = [r[3] for r in REASONS]
    outcomes = [o[0] for o in OUTCOMES]
    outcome_weights = [o[1] for o in OUTCOMES]
    per_list = members // LISTS
    span = DAYS * 86400
    for number in range(count):
        member = rng.randrange(members)
        reason, severity, kind = rng.choices(reasons, reason_weights)[0]
        when = now - timedelta(seconds=span * (1 - number / count))
        # The last 0.2 % are still waiting for the pass.
        processed = number < count * 0.998
        email = email_of(member)
        yield (list_id(member // per_list), email,
               email.rpartition('@')[2], when.isoformat(sep=' '),
               f'<b{number}@mx.example.net>',
               2 if rng.random() < 0.01 else 1,
               't' if processed else 'f', kind, severity, reason, '5.1.1',
               f'550 5.1.1 <{email}>: {reason}',
               f'mx{member % 50}.d{member % DOMAINS}.example.org', 'dsn',
               f'{number:016x}',
               rng.choices(outcomes, outcome_weights)[0]
               if processed else None,
               1.0 if processed else None,
               (when + timedelta(minutes=5)).isoformat(sep=' ')
               if processed else None,
               'verified')


def build(config_path: str, events: int, members: int) -> dict:
    sys.path.insert(0, str(ROOT / 'bench'))
    from mailman.config import config
    from mailman.core.initialize import initialize
    initialize(config_path)
    import policy_bench
    from mailman.utilities.datetime import now
    started = time.monotonic()
    policy_bench.LISTS = LISTS
    policy_bench.email_of = email_of
    policy_bench.build_site(members)
    site = time.monotonic() - started
    connection = config.db.engine.raw_connection()
    cursor = connection.cursor()
    moment = now().replace(tzinfo=None, microsecond=0)
    _copy(cursor, 'bounces_event', EVENT_COLUMNS,
          _events(events, members, moment))
    # A bounce standing for 10 % of the members.
    cursor.execute(
        "SELECT m.id, m.list_id, a.email FROM member m JOIN address a "
        "ON a.id = m.address_id WHERE m.id % 10 = 0")
    states = [(member_id, list_, email, 1.5, 0, 'userunknown', 1.0, 0)
              for member_id, list_, email in cursor.fetchall()]
    _copy(cursor, 'bounces_member',
          ('member_id', 'list_id', 'email', 'score', 'core_score',
           'last_reason', 'day_weight', 'sympa_level'), states)
    connection.commit()
    connection.close()
    # What the pass does with events it has processed: count them in the
    # per-day summary (COPY left them out of it).
    from mailman_bounces.app.event_summary import summarize
    summarize()
    loaded = time.monotonic() - started - site
    return {'site_seconds': round(site, 1), 'load_seconds': round(loaded, 1)}


def vacuum(url: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url, isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        connection.execute(text('VACUUM ANALYZE'))
    engine.dispose()


# --------------------------------------------------------------------------
# Measuring.

def _start_server(config_path: Path) -> subprocess.Popen:
    import requests
    runner = Path(sys.executable).parent / 'runner'
    server = subprocess.Popen(
        [str(runner), '-C', str(config_path), '-r', 'rest'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f'http://127.0.0.1:{PORT}/3.1/system/versions',
                         auth=AUTH, timeout=5)
            return server
        except requests.ConnectionError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit('the REST server did not start')


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)

    def at(share: float) -> float:
        # Nearest rank.
        index = max(0, min(len(ordered) - 1,
                           round(share * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000, 1)
    return {'p50': round(statistics.median(ordered) * 1000, 1),
            'p95': at(0.95), 'p99': at(0.99)}


def _filters(members: int, today: datetime) -> list[tuple[str, dict]]:
    """A value of each documented filter of ``events`` that matches."""
    member = 4242 % members
    week = (today - timedelta(days=7)).date().isoformat()
    quarter = (today - timedelta(days=90)).date().isoformat()
    return [
        ('none', {}),
        ('list_id', {'list_id': list_id(42 * LISTS // 100)}),
        ('address', {'address': email_of(member)}),
        ('domain', {'domain': f'd{member % DOMAINS}.example.org'}),
        ('reason', {'reason': 'mailboxfull'}),
        ('severity', {'severity': 'soft'}),
        ('kind', {'kind': 'delay'}),
        ('context', {'context': 'probe'}),
        ('processed', {'processed': 'false'}),
        ('outcome', {'outcome': 'disabled'}),
        ('evidence', {'evidence': 'verified'}),
        ('since', {'since': week}),
        ('until', {'until': quarter}),
        ('reason+severity', {'reason': 'userunknown', 'severity': 'hard'}),
        ('list_id+since', {'list_id': list_id(7), 'since': quarter}),
    ]


def measure(repeat: int, members: int,
            groups: tuple[str, ...] = GROUPS) -> list[dict]:
    import requests
    session = requests.Session()
    session.auth = AUTH
    base = f'http://127.0.0.1:{PORT}/3.1/plugins/bounces/'

    def timed(name: str, path: str, base: str = base) -> dict:
        response = session.get(base + path, timeout=300)
        assert response.status_code == 200, (path, response.text[:300])
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = session.get(base + path, timeout=300)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        row = {'request': name, 'path': path, **_percentiles(times)}
        print(f"{name:40} {row['p50']:8} {row['p95']:8} {row['p99']:8}",
              flush=True)
        return row

    # What any request costs on this server: core's smallest resource.
    rows = [timed('core: system/versions', 'system/versions',
                  base.split('plugins/')[0])]
    if 'events' in groups:
        rows += _measure_events(session, timed, base, members)
    if 'members' in groups:
        rows += _measure_members(session, timed, base)
    if 'stats' in groups:
        for days in (7, 90):
            rows.append(timed(f'stats list_id, {days} days',
                              'stats?' + urlencode(
                                  {'list_id': list_id(42 * LISTS // 100),
                                   'days': days})))
    return rows


def _measure_events(session, timed, base: str, members: int) -> list[dict]:
    rows = []
    today = datetime.now()
    for name, query in _filters(members, today):
        first = session.get(base + 'events?' + urlencode(query),
                            timeout=300).json()
        pages = max(1, -(-first['total_size'] // len(first['entries'] or
                                                     [None])))
        rows.append(timed(f'events {name} (first page)',
                          'events?' + urlencode(query)))
        rows.append(timed(f'events {name} (page {pages // 2 + 1}/{pages})',
                          'events?' + urlencode(
                              {**query, 'page': pages // 2 + 1})))
    event_id = first['entries'][0]['id'] if first['entries'] else 1
    rows.append(timed('events/<id>', f'events/{event_id}'))
    return rows


def _measure_members(session, timed, base: str) -> list[dict]:
    rows = []
    members_path = f'lists/{list_id(42 * LISTS // 100)}/members'
    first = session.get(base + members_path, timeout=300).json()
    pages = max(1, -(-first['total_size'] // max(1, len(first['entries']))))
    rows.append(timed('lists/<list>/members (first page)', members_path))
    rows.append(timed(f'lists/<list>/members (page {pages // 2 + 1}/'
                      f'{pages})', f'{members_path}?page={pages // 2 + 1}'))
    return rows


# --------------------------------------------------------------------------
# The plans the measured requests rely on.

def explain(config_path: str, members: int,
            groups: tuple[str, ...] = GROUPS) -> str:
    """EXPLAIN ANALYZE of every SELECT the events, members and stats
    queries send, as the plugin sends them (run in a worker process)."""
    from mailman.config import config
    from mailman.core.initialize import initialize
    initialize(config_path)
    from sqlalchemy import event as sa_event

    from mailman_bounces.app.queries.events import find_events
    from mailman_bounces.app.queries.members import find_members
    from mailman_bounces.app.queries.paging import DEFAULT_COUNT
    from mailman_bounces.app.queries.stats import event_stats
    from mailman_bounces.rest.events import event_filter
    from mailman_bounces.rest.stats import stats_filter
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, many):
        if statement.lstrip().startswith('SELECT'):
            sent.append((statement, parameters))
    engine = config.db.engine
    sa_event.listen(engine, 'before_cursor_execute', record)
    today = datetime.now()
    calls = []
    for name, query in (_filters(members, today)
                        if 'events' in groups else ()):
        values = {key: _converted(key, value)
                  for key, value in query.items()}
        total = find_events(event_filter(values), 1, 1).total_size
        middle = max(1, -(-total // DEFAULT_COUNT)) // 2 + 1
        for page in (1, middle):
            calls.append((f'events {name} page {page}',
                          lambda v=values, p=page: find_events(
                              event_filter(v), DEFAULT_COUNT, p)))
    if 'members' in groups:
        the_list = list_id(42 * LISTS // 100)
        total = find_members(the_list, count=1, page=1).total_size
        middle = max(1, -(-total // DEFAULT_COUNT)) // 2 + 1
        for page in (1, middle):
            calls.append((f'members page {page}',
                          lambda p=page: find_members(
                              the_list, count=DEFAULT_COUNT, page=p)))
    for days in ((7, 90) if 'stats' in groups else ()):
        calls.append((f'stats {days} days', lambda d=days: event_stats(
            stats_filter({'list_id': list_id(42 * LISTS // 100),
                          'days': d}, today))))
    out = []
    for title, call in calls:
        sent.clear()
        call()
        statements = list(sent)
        connection = engine.raw_connection()
        cursor = connection.cursor()
        for statement, parameters in statements:
            cursor.execute('EXPLAIN (ANALYZE, COSTS OFF) ' + statement,
                           parameters)
            plan = '\n'.join(row[0] for row in cursor.fetchall())
            out.append(f'-- {title}\n{cursor.mogrify(statement, parameters).decode()}'
                       f'\n{plan}\n')
        connection.rollback()
        connection.close()
        config.db.abort()
    return '\n'.join(out)


def _converted(name: str, value: str):
    from mailman_bounces.rest.events import EVENT_PARAMETERS
    [parameter] = [p for p in EVENT_PARAMETERS if p.name == name]
    return parameter.converter(value)


# --------------------------------------------------------------------------

def comparison(labels: list[str]) -> str:
    """An RST table of the results of runs `labels`, side by side."""
    runs = [json.loads((RESULTS / f'rest-{label}.json').read_text())
            for label in labels]
    header = ('request', *(f'{label} p50/p95/p99 ms' for label in labels))
    names = [row['request'] for row in runs[-1]['rows']]
    rows = [header]
    for name in names:
        cells = []
        for run in runs:
            found = [r for r in run['rows']
                     if r['request'].split(' (page')[0] == name.split(
                         ' (page')[0] and ('(page' in r['request'])
                     == ('(page' in name)]
            cells.append(' / '.join(str(found[0][p]) for p in
                                    ('p50', 'p95', 'p99')) if found else '-')
        rows.append((name, *cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    rule = '  '.join('=' * width for width in widths)
    lines = [rule, '  '.join(c.ljust(w) for c, w in zip(header, widths)),
             rule]
    lines += ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
              for row in rows[1:]]
    return '\n'.join([*lines, rule])


def _groups(value: str) -> tuple[str, ...]:
    groups = tuple(group.strip() for group in value.split(','))
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f'unknown groups {", ".join(sorted(unknown))}; '
            f'choose from {", ".join(GROUPS)}')
    return groups


def worker(args) -> None:
    if args.explain:
        print(explain(args.config, args.members, args.only))
        return
    result = build(args.config, args.events, args.members)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mode', nargs='?', default='run',
                        choices=('run', 'worker', 'table'))
    parser.add_argument('labels', nargs='*',
                        help='table: the runs to compare')
    parser.add_argument('--config')
    parser.add_argument('--events', type=int, default=1_000_000)
    parser.add_argument('--members', type=int, default=100_000)
    parser.add_argument('--repeat', type=int, default=40)
    parser.add_argument('--label', default='current')
    parser.add_argument('--rebuild', action='store_true')
    parser.add_argument('--port', type=int, default=8011)
    parser.add_argument('--database',
                        help='the site\'s database (default: '
                        'mbbench_rest_EVENTS)')
    parser.add_argument('--only', type=_groups, default=GROUPS,
                        help='time only these groups of requests, '
                        f'comma-separated ({", ".join(GROUPS)})')
    parser.add_argument('--docs', action='store_true',
                        help='table: save it as bench/results/rest.txt and '
                        'write it into docs/benchmarks.rst')
    parser.add_argument('--explain', action='store_true',
                        help='write the query plans instead (to the output)')
    parser.add_argument('--output', type=Path,
                        help='where to write the results (JSON)')
    args = parser.parse_args()
    # Mailman's initialize() also reads this configuration, which the test
    # suite sets: inherited, it put the site into the tests' database.
    os.environ.pop('MAILMAN_EXTRA_TESTING_CFG', None)
    if args.mode == 'worker':
        worker(args)
        return
    if args.mode == 'table':
        table = comparison(args.labels)
        print(table)
        if args.docs:
            (RESULTS / 'rest.txt').write_text(table + '\n')
            DOCS.write_text(replace_block(DOCS.read_text(), 'rest-benchmark',
                                          table))
        return
    name = args.database or f'mbbench_rest_{args.events}'
    url = database_url(name)
    var = WORK / name / 'var'
    global PORT
    PORT = args.port
    config_path = write_config(var, url)
    exists = _admin_sql(f"SELECT 1 FROM pg_database WHERE datname='{name}'")
    if args.rebuild or not exists:
        _admin_sql(f'DROP DATABASE IF EXISTS {name}')
        _admin_sql(f'CREATE DATABASE {name}')
        result = subprocess.run(
            [sys.executable, __file__, 'worker', '--config',
             str(config_path), '--events', str(args.events), '--members',
             str(args.members)], capture_output=True, text=True,
            check=False, cwd=ROOT)
        if result.returncode != 0:
            raise SystemExit(f'build failed:\n{result.stdout}\n'
                             f'{result.stderr}')
        print('built:', result.stdout.strip().splitlines()[-1], flush=True)
    if args.explain:
        result = subprocess.run(
            [sys.executable, __file__, 'worker', '--explain', '--config',
             str(config_path), '--members', str(args.members),
             '--only', ','.join(args.only)],
            capture_output=True, text=True, check=False, cwd=ROOT)
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
        output = args.output or RESULTS / f'rest-plans-{args.label}.txt'
        output.write_text(result.stdout, encoding='utf-8')
        return
    server = _start_server(config_path)
    try:
        # The migrations ran at start-up; statistics for the planner.
        vacuum(url)
        print(f"{'request':40} {'p50':>8} {'p95':>8} {'p99':>8}  (ms)")
        rows = measure(args.repeat, args.members, args.only)
    finally:
        server.terminate()
        server.wait(30)
    RESULTS.mkdir(exist_ok=True)
    report = {'events': args.events, 'members': args.members,
              'lists': LISTS, 'repeat': args.repeat, 'rows': rows}
    output = args.output or RESULTS / f'rest-{args.label}.json'
    output.write_text(json.dumps(report, indent=1) + '\n', encoding='utf-8')


if __name__ == '__main__':
    main()
