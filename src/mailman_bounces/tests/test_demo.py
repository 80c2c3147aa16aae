"""The demo (``./run-demo``) tells only what happened.

The end-to-end test plays the demo's whole story, through the same code as
``./run-demo``, on an instance of its own (directory and ports), so the
suite fails when the story breaks.  The other tests show that the demo's
checks would notice a story that did not happen, that it names the servers
that do not answer, and that the shifted clock it runs on moves Mailman's
time in a process.
"""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailman_bounces.testing import dovecot
from mailman_bounces.tests.databases import selected_backend

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / 'scripts'
DEMO = SCRIPTS / 'demo.py'

pytestmark = pytest.mark.skipif(
    not DEMO.exists(), reason='the demo scripts are not installed with the '
                              'package; run the tests from a checkout')


@pytest.fixture
def scripts(monkeypatch):
    """The demo's modules, importable."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import demo
    import demo_scenes
    return demo, demo_scenes


def _free_port_base() -> int:
    """A base whose demo ports (base+1, +24, +25, +26, +43, +80) nobody
    listens on, away from the test layers' ports (9001, 9024, 9025 and
    99xx)."""
    for base in range(28000, 40000, 100):
        try:
            for offset in (1, 24, 25, 26, 43, 80):
                with socket.socket() as probe:
                    probe.bind(('127.0.0.1', base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError('no free ports for the demo')


@pytest.mark.skipif(selected_backend() != 'sqlite',
                    reason='the demo runs its own instance on SQLite: once '
                           'per suite, with the SQLite run')
def test_the_demo_story_happens(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith('MAILMAN_')}
    env.update(MAILMAN_BOUNCES_DEMO_VAR=str(tmp_path / 'var'),
               MAILMAN_BOUNCES_DEMO_PORT_BASE=str(_free_port_base()))

    def demo(command: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(DEMO), command],
                              cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=900, check=False)

    try:
        played = demo('run')
        output = played.stdout + played.stderr
        assert played.returncode == 0, output[-6000:]
        assert 'FAILED' not in output
        met = re.search(r'All (\d+) expectations met', played.stdout)
        assert met and int(met.group(1)) >= 30, output[-3000:]
        # The closing sentence about anne, as the issue saw it broken.
        assert 'warned 3 times (days 5, 12, 19)' in played.stdout
        assert 'removed on day 26' in played.stdout
        # Postorius with the web app, its URL and the owner's login.
        assert re.search(r'Postorius http://127\.0\.0\.1:\d+/postorius/'
                         r'lists/ +owner login: owner / demo-owner',
                         played.stdout), played.stdout[-3000:]
        assert "the last warning's re-enable link shows" in played.stdout
        # The bounce mailbox: polled in a private Dovecot, or skipped.
        if dovecot.available():
            assert re.search(r"ivan's bounces landed in an IMAP mailbox .*"
                             r'registered 3 and left 1 unparsed',
                             played.stdout, re.DOTALL), played.stdout[-3000:]
            assert 'ok      mailbox demo: messages per folder' in (
                played.stdout)
        else:
            assert 'dovecot' not in os.environ.get(
                'MAILMAN_BOUNCES_REQUIRE', ''), 'Dovecot is required'
            assert 'the mailbox strand was skipped' in played.stdout
            assert 'mailbox demo:' not in played.stdout
        status = demo('status')
        assert status.returncode == 0, status.stdout + status.stderr
        assert 'does not answer' not in status.stdout
    finally:
        stopped = demo('stop')
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    # Stopped means status says so (exit 3); a daemon's parent may reap it
    # a moment late, so status is asked a few times before failing.
    for _ in range(30):
        after = demo('status')
        if after.returncode == 3:
            break
        time.sleep(1)
    assert after.returncode == 3, (stopped.stdout + stopped.stderr
                                   + after.stdout + after.stderr)
    # Dovecot's directory lives outside var/ (its users must reach it):
    # reset deletes it too.
    outside = (tmp_path / 'var' / 'demo' / 'dovecot').resolve()
    reset = demo('reset')
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not outside.exists()
    # Every daemon stopped with the instance, Dovecot too.
    for pid_file in (tmp_path / 'var' / 'demo').glob('*.pid'):
        assert not pid_file.exists(), pid_file


def _seen(demo_scenes, **changes):
    """What the instance would report after the story went as it should
    for anne: disabled on day 5, warned on days 5, 12 and 19, removed on
    day 26 (as the issue expects)."""
    day_one = datetime(2025, 3, 3)
    anne = demo_scenes.ClosedMailbox.email
    owner = demo_scenes.OWNER

    def at(day: int) -> datetime:
        return day_one + timedelta(days=day - 1, hours=9)

    def mail(day: int, to: str, subject: str):
        return demo_scenes.Mail(to=(to,), subject=subject,
                                received=at(day), text='')
    events = [{'id': day, 'email': anne, 'reason': 'userunknown',
               'timestamp': at(day).isoformat(),
               'outcome': {5: 'disabled', 6: 'already-disabled'}.get(
                   day, 'scored')}
              for day in range(1, 7)]
    outbox = [mail(5, owner, f"{anne}'s subscription disabled on Members"),
              *(mail(day, anne, f'reenable {day:040x} - your Members '
                                'subscription is disabled')
                for day in (5, 12, 19)),
              mail(26, owner, f'{anne} unsubscribed from Members mailing '
                              'list due to bounces')]
    values = {'day_one': day_one, 'events': events, 'members': {},
              'freezes': [], 'outbox': outbox, 'stuck': {}}
    return demo_scenes.Seen(**{**values, **changes})


def _failures(demo_scenes, seen) -> list[str]:
    return [str(check) for check in demo_scenes.ClosedMailbox().tell(
        seen).checks if not check.met]


def test_the_story_as_expected_passes_its_checks(scripts):
    _, demo_scenes = scripts
    assert _failures(demo_scenes, _seen(demo_scenes)) == []


def test_a_story_that_did_not_happen_is_named(scripts):
    # What the issue saw: one warning, anne still a member, no removal.
    _, demo_scenes = scripts
    seen = _seen(demo_scenes)
    anne = demo_scenes.ClosedMailbox.email
    broken = _seen(demo_scenes, outbox=seen.outbox[:2],
                   members={anne: {'delivery_status': 'by_bounces'}})
    failures = _failures(demo_scenes, broken)
    assert failures == [
        ('FAILED  anne: days of her warnings (3, a week apart): expected '
         '[5, 12, 19], observed [5]'),
        'FAILED  anne: still a member: expected False, observed True',
        ("FAILED  anne: days of the owners' removal notices (a week after "
         'the last warning): expected [26], observed []'),
    ]
    [sentence] = demo_scenes.ClosedMailbox().tell(broken).sentences
    assert 'warned 1 time (day 5)' in sentence
    assert 'still a member (by_bounces)' in sentence


def test_servers_that_do_not_answer_are_named(scripts, tmp_path):
    demo, _ = scripts
    base = _free_port_base()
    instance = demo.Instance(tmp_path, demo.Ports.from_base(base))
    with pytest.raises(SystemExit) as raised:
        instance.wait_for_servers(timeout=0)
    message = str(raised.value)
    for name in (f'REST (port {base + 1})', f'LMTP (port {base + 24})',
                 f'the mail sink (SMTP, port {base + 25})'):
        assert name in message


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_the_shifted_clock_moves_mailmans_time(tmp_path, monkeypatch):
    from mailman.testing import layers
    from mailman.utilities.datetime import now, today

    from mailman_bounces.testing.clock import install, set_offset, uninstall
    # Outside testing mode, where Mailman's now() reads the real clock.
    monkeypatch.setattr(layers, 'is_testing', lambda: False)
    clock = tmp_path / 'clock'
    minute = timedelta(minutes=1)
    install(clock)
    try:
        # No file: no offset.
        assert abs(now() - _utc_now()) < minute
        set_offset(clock, timedelta(days=-30))
        assert abs(now() - (_utc_now() - timedelta(days=30))) < minute
        before = (datetime.now() - timedelta(days=30)).date()
        shifted = today()
        after = (datetime.now() - timedelta(days=30)).date()
        assert shifted in {before, after}
        # Whoever rewrites the file moves this process's time too.
        set_offset(clock, timedelta(days=5))
        assert abs(now() - (_utc_now() + timedelta(days=5))) < minute
        assert type(now()) is datetime
    finally:
        uninstall()
    assert abs(now() - _utc_now()) < minute


def test_a_stopped_clock_reads_the_same_time_everywhere(tmp_path,
                                                       monkeypatch):
    # The multi-host harness stops the clock of every process of every
    # host at one time: each reads it to the microsecond, however long
    # apart, and the offset written afterwards starts it again.
    from mailman.testing import layers
    from mailman.utilities.datetime import now, today

    from mailman_bounces.testing.clock import (
        freeze,
        install,
        read_frozen,
        set_offset,
        uninstall,
    )
    monkeypatch.setattr(layers, 'is_testing', lambda: False)
    clock = tmp_path / 'clock'
    when = datetime(2025, 3, 3, 9, 0)
    install(clock)
    try:
        freeze(clock, when)
        assert read_frozen(clock) == when
        first = now()
        time.sleep(0.01)
        assert first == now() == when
        assert today() == when.date()
        set_offset(clock, timedelta(0))
        assert read_frozen(clock) is None
        assert abs(now() - _utc_now()) < timedelta(minutes=1)
    finally:
        uninstall()


def test_a_bad_clock_file_is_named(tmp_path):
    from mailman_bounces.testing.clock import read_offset
    clock = tmp_path / 'clock'
    clock.write_text('yesterday\n')
    with pytest.raises(ValueError, match=f'clock file {clock}: expected a '
                                         f"number of seconds, found "
                                         f"'yesterday'"):
        read_offset(clock)


# Calls reading a clock other than Mailman's: (object, attribute).
FOREIGN_CLOCKS = {
    ('datetime', 'now'), ('datetime', 'utcnow'), ('datetime', 'today'),
    ('date', 'today'), ('time', 'time'), ('time', 'time_ns'),
    ('func', 'now'), ('func', 'current_timestamp'), ('func', 'current_date'),
    ('func', 'localtimestamp'), ('func', 'sysdate'),
}


def _foreign_clock_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding='utf-8'))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute)
                and isinstance(node.value, (ast.Name, ast.Attribute))):
            continue
        owner = (node.value.id if isinstance(node.value, ast.Name)
                 else node.value.attr)
        if (owner, node.attr) in FOREIGN_CLOCKS:
            found.append(f'{path.name}:{node.lineno}: {owner}.{node.attr}')
    return found


def test_the_plugin_reads_the_time_only_from_mailmans_clock():
    # The demo moves time by shifting Mailman's clock (and core's tests by
    # its predictable one): a time read elsewhere (the stdlib, or the
    # database server's now()) would not move, and a story or a test would
    # silently depend on the real date.
    package = Path(__file__).resolve().parents[1]
    found = [call for path in sorted(package.rglob('*.py'))
             if not {'tests', 'testing'} & set(path.relative_to(package).parts)
             for call in _foreign_clock_calls(path)]
    assert found == []


def test_the_forged_bounce_scene_notices_a_scored_forgery(scripts):
    _, demo_scenes = scripts
    scene = demo_scenes.ForgedBounce()
    gina = scene.email
    day_one = datetime(2025, 3, 3)

    def events(outcome: str, evidence: str) -> list[dict]:
        return [{'id': day, 'email': gina, 'reason': 'userunknown',
                 'timestamp': (day_one + timedelta(days=day - 1)).isoformat(),
                 'outcome': outcome, 'evidence': evidence}
                for day in scene.days]

    def failures(seen) -> list[str]:
        return [check.what for check in scene.tell(seen).checks
                if not check.met]
    ignored = _seen(demo_scenes, events=events('forged', 'forged'),
                    outbox=[], members={gina: {'delivery_status': 'enabled',
                                               'score': 0}})
    assert failures(ignored) == []
    # What a forged bounce did before signing: counted, and disabled.
    counted = _seen(demo_scenes, events=events('scored', 'unverified'),
                    outbox=[], members={gina: {
                        'delivery_status': 'by_bounces', 'score': 0}})
    assert failures(counted) == ['gina: evidence of her events',
                                 'gina: outcomes', 'gina: delivery']


def test_without_dovecot_the_mailbox_part_is_skipped(scripts, tmp_path):
    demo, demo_scenes = scripts
    instance = demo.Instance(tmp_path, demo.Ports.from_base(_free_port_base()))
    instance.has_dovecot = False        # as on a machine without Dovecot
    instance.write_config(live=False)
    assert '[mailbox.' not in (instance.etc / 'bounces.cfg').read_text()
    assert instance.mailbox() is None
    assert not any('Dovecot' in server.name
                   for server in instance.servers())
    scene = demo_scenes.MailboxBounces()
    assert [scene.act(day, instance) for day in scene.days] == [0, 0, 0]
    assert scene.observe(instance) is None
    told = scene.tell(_seen(demo_scenes, extra={'MailboxBounces': None}))
    assert told.checks == []
    assert told.sentences == [(
        'the mailbox strand was skipped: Dovecot is not installed '
        '(/usr/sbin/dovecot), so no bounce mailbox was polled; its checks '
        'are not counted.')]


def test_a_mailbox_that_was_not_polled_is_named(scripts):
    # What an instance whose poll failed would report: nothing read, the
    # mail still in the INBOX, the login error.
    _, demo_scenes = scripts
    scene = demo_scenes.MailboxBounces()
    status = {'seen': 0, 'registered': 0, 'unparsed': 0,
              'last_error': 'login failed'}
    seen = _seen(demo_scenes, members={scene.email: {
        'delivery_status': 'enabled'}}, extra={'MailboxBounces': {
            'status': status, 'unparsed': [],
            'folders': {'INBOX': 4, 'Processed': 0, 'Unparsed': 0}}})
    failed = [check.what for check in scene.tell(seen).checks
              if not check.met]
    assert failed == [
        'ivan: events registered from the mailbox', 'ivan: reasons',
        'mailbox demo: seen, registered, unparsed (REST)',
        'mailbox demo: last error (REST)',
        'mailbox demo: messages per folder',
        'mailbox demo: what is in Unparsed']
