"""Benchmark: the cost of verp_rate, against core's bulk delivery.

One list of 10,000 members (``--members``) on a fresh SQLite instance with
the plugin; one post delivered through ``[mta] outgoing`` to a local SMTP
sink (aiosmtpd on loopback, accepting everything) that counts SMTP
transactions (MAIL FROM ... DATA).  Configurations, in one run and one
process:

* core: Mailman's own ``mailman.mta.deliver.deliver`` (bulk delivery,
  ``[mta]max_recipients`` recipients per transaction), and the same with
  every copy VERPed (what core does for a post with
  ``verp_delivery_interval``);
* plugin at verp_rate 0, 10 and 100 %: the plugin's delivery (the rotating
  share goes as signed VERP copies, one transaction each; the rest through
  core's bulk delivery).

Each configuration delivers ``--posts`` posts (best of them is kept);
results are seconds per post and transactions per post, and the ratio to
core's bulk delivery.  Writes bench/results/verp.{txt,json} (``--name``).

    python bench/verp_bench.py                  # 10,000 members
    python bench/verp_bench.py --members 1000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from doc_blocks import replace_block

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'src'))
RESULTS = Path(os.environ.get('VERP_BENCH_RESULTS',
                              ROOT / 'bench' / 'results'))
DOCS = ROOT / 'src' / 'mailman_bounces' / 'docs' / 'benchmarks.rst'


class CountingSink:
    """aiosmtpd handler: accept everything, count transactions."""

    def __init__(self) -> None:
        self.transactions = 0
        self.recipients = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions += 1
            self.recipients += len(envelope.rcpt_tos)
        return '250 OK'


def write_config(root: Path, smtp_port: int) -> Path:
    path = root / 'mailman.cfg'
    path.write_text(f"""\
[mailman]
layout: instance
site_owner: postmaster@example.com

[paths.instance]
var_dir: {root / 'var'}

[mta]
incoming: mailman.mta.null.NullMTA
smtp_host: 127.0.0.1
smtp_port: {smtp_port}

[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes

[logging.smtp]
level: warning
every: no
success: no
""", encoding='utf-8')
    return path


def build_list(members: int):
    from mailman.app.lifecycle import create_list
    from mailman.config import config
    from mailman.interfaces.domain import IDomainManager
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    getUtility(IDomainManager).add('example.com')
    mlist = create_list('bench@example.com')
    mlist.send_welcome_message = False
    users = getUtility(IUserManager)
    for number in range(members):
        mlist.subscribe(users.create_address(
            f'member{number:05d}@example{number % 50}.org'))
        if number % 1000 == 999:
            config.db.commit()
    config.db.commit()
    return mlist


def post(number: int):
    from mailman.testing.helpers import specialized_message_from_string
    return specialized_message_from_string(
        'From: poster@example.net\nTo: bench@example.com\n'
        f'Subject: post {number}\nMessage-ID: <bench-{number}@example.net>\n'
        '\n' + 'A line of a post of ordinary length.\n' * 40)


def measure(name, deliver, mlist, recipients, sink, posts: int) -> dict:
    from mailman.config import config
    best = None
    for number in range(posts):
        mlist.post_id += 1
        before = (sink.transactions, sink.recipients)
        started = time.perf_counter()
        deliver(mlist, post(mlist.post_id),
                {'recipients': list(recipients), 'to_list': True})
        seconds = time.perf_counter() - started
        config.db.commit()
        result = {'seconds': seconds,
                  'transactions': sink.transactions - before[0],
                  'recipients': sink.recipients - before[1]}
        if best is None or seconds < best['seconds']:
            best = result
    print(f"{name:<22} {best['seconds']:9.2f} s/post "
          f"{best['transactions']:7d} transactions", flush=True)
    return {'name': name, **best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--members', type=int, default=10000)
    parser.add_argument('--posts', type=int, default=2)
    parser.add_argument('--without-core-verp', action='store_true',
                        help="leave out core's VERP of every copy (it "
                        'decorates each copy: the slowest row by far)')
    parser.add_argument('--name', default='verp',
                        help='results in bench/results/NAME.{txt,json}, '
                        'and the docs block NAME-benchmark')
    parser.add_argument('--docs', action='store_true',
                        help='also write the table into docs/benchmarks.rst')
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    from mailman_bounces.testing.smtp_sink import free_port
    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname='127.0.0.1', port=port)
    controller.start()
    root = Path(tempfile.mkdtemp(prefix='verp-bench-'))
    os.environ.pop('MAILMAN_CONFIG_FILE', None)
    from mailman.core.initialize import initialize
    initialize(str(write_config(root, port)))
    from mailman.config import config
    from mailman.mta.deliver import deliver as core_deliver
    from mailman.utilities.modules import find_name

    from mailman_bounces.app.settings import change_settings
    started = time.perf_counter()
    mlist = build_list(args.members)
    print(f'{args.members} members subscribed in '
          f'{time.perf_counter() - started:.0f} s', flush=True)
    recipients = sorted(m.address.email for m in mlist.members.members)
    plugin_deliver = find_name(config.mta.outgoing)
    assert plugin_deliver is not core_deliver
    rows = [measure('core bulk delivery', core_deliver, mlist, recipients,
                    sink, args.posts)]
    if not args.without_core_verp:
        # What core does for a post with verp_delivery_interval: every
        # copy VERPed (unsigned).
        rows.append(measure(
            'core VERP, every copy',
            lambda m, p, d: core_deliver(m, p, {**d, 'verp': True}),
            mlist, recipients, sink, args.posts))
    for rate in (0, 10, 100):
        change_settings(mlist, {'verp_rate': str(rate)})
        config.db.commit()
        rows.append(measure(f'plugin verp_rate {rate}%', plugin_deliver,
                            mlist, recipients, sink, args.posts))
    controller.stop()
    base = rows[0]['seconds']
    for row in rows:
        row['ratio'] = round(row['seconds'] / base, 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f'{args.name}.json').write_text(json.dumps(
        {'members': args.members, 'rows': rows}, indent=2) + '\n')
    title = (f'One post to {args.members} members, local SMTP sink '
             f'(best of {args.posts} posts)')
    header = (f"{'delivery':<22} {'s/post':>9} {'ratio':>7} "
              f"{'SMTP transactions':>18}")
    lines = [title, header]
    lines += [f"{row['name']:<22} {row['seconds']:9.2f} {row['ratio']:7.2f} "
              f"{row['transactions']:18d}" for row in rows]
    table = '\n'.join(lines)
    (RESULTS / f'{args.name}.txt').write_text(table + '\n')
    print(table)
    if args.docs:
        DOCS.write_text(replace_block(DOCS.read_text(),
                                      f'{args.name}-benchmark', table))


if __name__ == '__main__':
    main()
