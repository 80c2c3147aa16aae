"""Two real Mailman hosts on one PostgreSQL database decide as one.

The stream (a few hundred seeded bounces to three lists over five days, then
two quiet days) is fed to one instance, then split at random between the
LMTP ports of two, then again with one of the two killed (SIGKILL of its
master and runners) in the middle of a day's deliveries and started
again.  The events, scores, delivery statuses, warnings, the plugin's
notices, the mail the hosts sent and the once-per-period steps they took
must be those of the single instance, with no mail sent twice and no step
taken twice in a period (`mailman_bounces.testing.multihost`).  The full
5,000-bounce run is ``bench/multihost_bench.py``.
"""

from __future__ import annotations

from collections import Counter

import pytest

from mailman_bounces.tests.databases import (
    backend_url,
    reachable,
    selected_backend,
)

pytestmark = pytest.mark.skipif(
    selected_backend() != 'postgresql' or not reachable('postgresql'),
    reason='several Mailman hosts share one PostgreSQL database (Mailman '
           'scales out that way; SQLite is one machine\'s file, and the '
           'MariaDB lane would repeat the same minutes): the PostgreSQL '
           'lane runs it')

SEED = 14
BOUNCES = 250


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from mailman_bounces.testing.multihost import (
        Run,
        Stream,
        prepare_template,
    )
    workdir = tmp_path_factory.mktemp('multihost')
    stream = Stream.generate(SEED, BOUNCES, lists=3, members=40,
                             bounce_days=5, quiet_days=2)
    template = prepare_template(stream, backend_url('postgresql'), workdir)
    try:
        reference = Run(stream, 1, template, workdir, log=_quiet,
                        passes=1)()
        yield stream, template, workdir, reference
    finally:
        template.drop()


def _quiet(*args) -> None:
    pass


def test_one_host_decides_what_the_stream_says(world):
    stream, _, _, reference = world
    outcome = reference.outcome
    events = outcome['events']
    # One event per bounce naming an address, each processed.
    assert sum(events.values()) == stream.expected_events
    named = Counter((b.list_id, b.email) for b in stream.bounces
                    if b.email is not None)
    registered = Counter()
    for (list_id, email, *_), count in events.items():
        registered[(list_id, email)] += count
    assert registered == named
    assert not [key for key in events if key[4] is None]
    # The addresses that are not members are recorded as such (and so
    # are the bounces of members removed before they came).
    strangers = sum(1 for b in stream.bounces
                    if b.email and b.email.startswith('stranger'))
    assert sum(n for key, n in events.items()
               if key[4] == 'not-member') >= strangers > 0
    # Dead addresses bounced every day: some members were disabled,
    # warned and removed, and their owners were told.
    removed = sum(len(emails) for emails in stream.lists.values()) - len(
        outcome['members'])
    disabled = [key for key, member in outcome['members'].items()
                if member[1] != 'enabled']
    assert removed > 0 and disabled
    kinds = Counter(kind for kind, *_ in outcome['notices'])
    assert kinds['remove'] == removed and kinds['warning'], kinds
    assert outcome['mail'] and not outcome['mail twice']
    assert outcome['turns'] and not outcome['turns twice']
    assert reference.stuck == {0: {'bad': 0, 'shunt': 0, 'retry': 0}}


def test_two_hosts_decide_as_one(world):
    from mailman_bounces.testing.multihost import Run, differences
    stream, template, workdir, reference = world
    run = Run(stream, 2, template, workdir, split_seed=2, log=_quiet,
              passes=1)()
    # Both hosts took a share of the stream.
    assert min(run.delivered) > len(stream.bounces) // 4, run.delivered
    assert differences(reference.outcome, run.outcome) == []
    assert run.outcome['mail twice'] == run.outcome['turns twice'] == []
    assert all(not any(stuck.values()) for stuck in run.stuck.values())


def test_a_host_killed_mid_run_changes_nothing(world):
    from mailman_bounces.testing.multihost import Kill, Run, differences
    stream, template, workdir, reference = world
    run = Run(stream, 2, template, workdir, split_seed=3,
              kill=Kill(host=1, day=2, after=0.5), log=_quiet, passes=1)()
    assert len(run.killed) >= 3       # a master and its runners
    assert differences(reference.outcome, run.outcome) == []
    assert run.outcome['mail twice'] == run.outcome['turns twice'] == []
    assert all(not any(stuck.values()) for stuck in run.stuck.values())
