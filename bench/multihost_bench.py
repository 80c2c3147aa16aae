"""Benchmark: two Mailman hosts on one PostgreSQL database against one.

Issue 14 ("More than one machine"): the same seeded stream of 5,000
bounces (10 lists of 150 members, ten days of bounces, then four quiet
days for the warnings and removals) is fed

1. to one real Mailman instance,
2. to two, split at random between their LMTP ports,
3. to two again, one of them killed (SIGKILL of its master and runners)
   halfway through the deliveries of day 4 and started again,

each on a fresh copy of one database holding the lists and members (see
`mailman_bounces.testing.multihost` for the harness: a stopped clock that
moves a day per phase, mail sinks, what is compared).  It prints whether
the outcomes of runs 2 and 3 equal run 1's, what they decided, and the
times; results go to bench/results/multihost.{txt,json}, and with
``--update-docs`` into docs/benchmarks.rst.

    python bench/multihost_bench.py                  # the full run
    python bench/multihost_bench.py --bounces 300 --lists 3 --members 40 \\
        --bounce-days 5 --quiet-days 2               # a quick trial
    python bench/multihost_bench.py --docs-only      # saved results -> docs

The databases (``multihost_tpl_*``, ``multihost_run_*``) are made on the
PostgreSQL server of MAILMAN_BOUNCES_PG_URL and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'src'))

from mailman_bounces.testing.multihost import (
    Kill,
    Run,
    Stream,
    differences,
    prepare_template,
    summary,
)

RESULTS = ROOT / 'bench' / 'results'
DOCS = ROOT / 'src' / 'mailman_bounces' / 'docs' / 'benchmarks.rst'
BEGIN, END = '.. multihost-bench-begin', '.. multihost-bench-end'
PG_SERVER = os.environ.get('MAILMAN_BOUNCES_PG_URL',
                           'postgresql://postgres@127.0.0.1:5432/postgres')


def measure(arguments) -> dict:
    stream = Stream.generate(arguments.seed, arguments.bounces,
                             lists=arguments.lists,
                             members=arguments.members,
                             bounce_days=arguments.bounce_days,
                             quiet_days=arguments.quiet_days)
    print(f'{len(stream.bounces)} bounces ({stream.expected_events} naming '
          f'an address) to {len(stream.lists)} lists of '
          f'{arguments.members} members over {arguments.bounce_days} days, '
          f'then {arguments.quiet_days} quiet days', flush=True)
    work = Path(tempfile.mkdtemp(prefix='multihost-bench-'))
    started = time.monotonic()
    template = prepare_template(stream, PG_SERVER, work)
    print(f'lists and members made in {time.monotonic() - started:.1f}s',
          flush=True)
    plans = [('1 host', 1, None),
             ('2 hosts', 2, None),
             ('2 hosts, one killed', 2,
              Kill(host=1, day=min(4, arguments.bounce_days - 1),
                   after=0.5))]
    runs = []
    try:
        reference = None
        for label, hosts, kill in plans:
            print(f'\n{label}:', flush=True)
            result = Run(stream, hosts, template, work, kill=kill,
                         split_seed=len(runs) + 1,
                         log=lambda line: print(line, flush=True))()
            if reference is None:
                reference = result.outcome
            found = differences(reference, result.outcome)
            runs.append({
                'run': label, 'hosts': hosts, 'seconds': result.seconds,
                'delivered': result.delivered,
                'killed processes': len(result.killed),
                'equal': not found, 'differences': found,
                'summary': summary(result.outcome),
                'stuck': {str(k): v for k, v in result.stuck.items()},
            })
            print(f'{label}: {result.seconds:.1f}s, delivered '
                  f'{result.delivered}, '
                  + ('equal to 1 host' if not found else
                     'DIFFERENT:\n' + '\n'.join(found)), flush=True)
    finally:
        template.drop()
    return {'stream': {'seed': arguments.seed,
                       'bounces': len(stream.bounces),
                       'events': stream.expected_events,
                       'lists': len(stream.lists),
                       'members': arguments.members * len(stream.lists),
                       'bounce days': arguments.bounce_days,
                       'quiet days': arguments.quiet_days},
            'load': os.getloadavg()[0], 'cpus': os.cpu_count(),
            'runs': runs}


def table(results: dict) -> str:
    runs = results['runs']
    keys = [key for key in runs[0]['summary']]
    header = ['', *[run['run'] for run in runs]]
    rows = [['equal to 1 host', *['yes' if run['equal'] else 'NO'
                                  for run in runs]],
            ['seconds', *[f'{run["seconds"]:.0f}' for run in runs]],
            ['bounces per host', *['/'.join(map(str, run['delivered']))
                                   for run in runs]],
            ['processes killed', *[str(run['killed processes'])
                                   for run in runs]]]
    rows += [[key, *[str(run['summary'].get(key, 0)) for run in runs]]
             for key in keys]
    widths = [max(len(row[i]) for row in [header, *rows])
              for i in range(len(header))]
    rule = '  '.join('=' * width for width in widths)
    lines = [rule, '  '.join(cell.ljust(width) for cell, width
                             in zip(header, widths, strict=True)).rstrip(),
             rule]
    lines += ['  '.join(cell.ljust(width) for cell, width
                        in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return '\n'.join([*lines, rule])


def text_report(results: dict) -> str:
    stream = results['stream']
    return (f"{stream['bounces']} bounces ({stream['events']} naming an "
            f"address), {stream['lists']} lists, {stream['members']} "
            f"members, {stream['bounce days']} days of bounces and "
            f"{stream['quiet days']} quiet days (seed {stream['seed']}); "
            f"load average {results['load']:.1f} on {results['cpus']} "
            f"cores\n\n{table(results)}\n")


def update_docs(results: dict) -> None:
    docs = DOCS.read_text(encoding='utf-8')
    start, end = docs.index(BEGIN), docs.index(END)
    block = f'{BEGIN}\n\n{text_report(results)}\n'
    DOCS.write_text(docs[:start] + block + docs[end:], encoding='utf-8')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--bounces', type=int, default=5000)
    parser.add_argument('--lists', type=int, default=10)
    parser.add_argument('--members', type=int, default=150)
    parser.add_argument('--bounce-days', type=int, default=10)
    parser.add_argument('--quiet-days', type=int, default=4)
    parser.add_argument('--seed', type=int, default=14)
    parser.add_argument('--label', default='',
                        help='results file suffix: multihost-LABEL')
    parser.add_argument('--update-docs', action='store_true')
    parser.add_argument('--docs-only', action='store_true',
                        help='the saved results into the docs')
    arguments = parser.parse_args()
    name = 'multihost' + (f'-{arguments.label}' if arguments.label else '')
    if arguments.docs_only:
        update_docs(json.loads((RESULTS / f'{name}.json').read_text()))
        return
    results = measure(arguments)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f'{name}.json').write_text(json.dumps(results, indent=1))
    report = text_report(results)
    (RESULTS / f'{name}.txt').write_text(report)
    print('\n' + report)
    if arguments.update_docs:
        update_docs(results)
    if not all(run['equal'] for run in results['runs']):
        sys.exit(1)


if __name__ == '__main__':
    main()
