"""Issue 15's acceptance run: forged bounces disable no one, each member
named gets one signed probe (captured at the SMTP server with its envelope
sender), a bounce of that probe disables, and the same bounce with one
character of the MAC changed is recorded as forged.

It runs twice.  On the real layers: bounces go over a real LMTP socket
into the plugin's LMTP runner process; the bounce runner, the pass, and
core's virgin and outgoing runners run in this process; outgoing mail
reaches the test layer's SMTP server; days pass by fast_forward.  And on a
real running instance, as the issue asks: ``mailman start`` with the
plugin (every runner a process of its own, the periodic pass runner
included) on SQLite, its outgoing mail going to an SMTP sink that keeps
the envelope sender, bounces sent to its LMTP port, what happened read
over its REST API, days passed on its shifted clock
(`mailman_bounces.testing.running`, which the demo runs on too)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

import pytest

from mailman_bounces.tests.databases import selected_backend
from mailman_bounces.tests.helpers import (
    events,
    fast_forward,
    make_list,
    member,
    run_pass,
)
from mailman_bounces.tests.samples import dsn

ANNE = 'anne@example.org'
BOB = 'bob@example.org'
# The signed probe return path the spec describes: list-bounces+<version>
# <key id>.<p><member id>.<expiry>.<mac>, lowercase base32, MAC of at
# least 80 bits (16 base32 characters).
SIGNED_PROBE = re.compile(
    r'^test-bounces\+a[a-z2-7]+\.p[a-z2-7]+\.[a-z2-7]+\.[a-z2-7]{16,}'
    r'@example\.com$')
PROBE_SUBJECT = 'Test mailing list probe message'


@pytest.fixture
def mlist(mailman):
    from mailman.testing.layers import SMTPLayer
    SMTPLayer.smtpd.clear()
    return make_list(members=[ANNE, BOB], bounce_score_threshold=1)


def _lmtp(recipient: str, text: str) -> None:
    from mailman.testing.helpers import get_lmtp_client
    client = get_lmtp_client(quiet=True)
    try:
        client.lhlo('remote.example.org')
        assert client.sendmail('MAILER-DAEMON@remote.example.org',
                               [recipient], text) == {}
    finally:
        client.quit()


def _process() -> None:
    """What the instance's runners do: register, pass, send."""
    from mailman.config import config
    from mailman.runners.outgoing import OutgoingRunner
    from mailman.runners.virgin import VirginRunner
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    config.db.abort()
    make_testable_runner(BounceRunner, 'bounces').run()
    run_pass()
    make_testable_runner(VirginRunner, 'virgin').run()
    make_testable_runner(OutgoingRunner, 'out').run()


def _sent() -> list:
    from mailman.testing.layers import SMTPLayer
    return list(SMTPLayer.smtpd.messages)


def _disabled(mlist, email: str) -> bool:
    from mailman.config import config
    from mailman.interfaces.member import DeliveryStatus
    config.db.abort()
    return (member(mlist, email).preferences.delivery_status
            == DeliveryStatus.by_bounces)


@dataclass(frozen=True)
class Bounce:
    """A bounce message and the envelope recipient it is sent to."""

    recipient: str
    text: str


def _forgeries(day: int, number: int) -> list[Bounce]:
    """One round of forgeries: a plain DSN and a DSN to core's unsigned
    VERP address (its body naming a stranger) for each member."""
    forged = []
    for email in (ANNE, BOB):
        local, _, domain = email.partition('@')
        tag = f'{local}-{day}-{number}'
        verp = f'test-bounces+{local}={domain}@example.com'
        forged += [
            Bounce('test-bounces@example.com', dsn(
                email, message_id=f'<plain-{tag}@forger.example.net>')),
            Bounce(verp, dsn('zed@nowhere.test', to=verp, message_id=(
                f'<verp-{tag}@forger.example.net>'))),
        ]
    return forged


def _forge(mlist, day: int, number: int) -> None:
    for bounce in _forgeries(day, number):
        _lmtp(bounce.recipient, bounce.text)


def _change_one_mac_character(address: str) -> str:
    local, _, domain = address.partition('@')
    changed = 'b' if local[-1] != 'b' else 'c'
    return f'{local[:-1]}{changed}@{domain}'


@pytest.mark.usefixtures('lmtp')
def test_forged_bounces_disable_no_one_and_a_signed_probe_decides(mlist):
    # 20 rounds over 4 days: 80 forged DSNs, 40 naming each member.
    for day in range(4):
        for number in range(5):
            _forge(mlist, day, number)
        _process()
        fast_forward(days=1)
    assert not _disabled(mlist, ANNE) and not _disabled(mlist, BOB)
    registered = events()
    assert len(registered) == 80
    assert {e.evidence for e in registered} == {'unverified'}
    assert {e.email for e in registered} == {ANNE, BOB}
    # Exactly one probe each, from a signed return path.
    probes = [m for m in _sent() if m['subject'] == PROBE_SUBJECT]
    assert sorted(m['x-rcptto'] for m in probes) == [ANNE, BOB]
    senders = {m['x-rcptto']: m['x-mailfrom'] for m in probes}
    for sender in senders.values():
        assert SIGNED_PROBE.match(sender), sender
        assert len(sender.partition('@')[0]) < 64
    assert senders[ANNE] != senders[BOB]
    # One MAC character changed: recorded as forged, nothing changes.
    forged = _change_one_mac_character(senders[ANNE])
    _lmtp(forged, dsn(ANNE, to=forged,
                      message_id='<forged-probe@forger.example.net>'))
    _process()
    [event] = events(message_id='<forged-probe@forger.example.net>')
    assert (event.email, event.evidence, event.outcome) == (
        ANNE, 'forged', 'forged')
    assert not _disabled(mlist, ANNE)
    assert [m for m in _sent() if m['subject'] == PROBE_SUBJECT] == []
    # The real probe bounces: Anne is disabled at the next pass.
    _lmtp(senders[ANNE], dsn(ANNE, to=senders[ANNE],
                             message_id='<probe-bounce@mx.example.org>'))
    _process()
    [event] = events(message_id='<probe-bounce@mx.example.org>')
    assert (event.email, event.evidence, event.context.name,
            event.outcome) == (ANNE, 'verified', 'probe', 'probe-bounced')
    assert _disabled(mlist, ANNE)
    assert not _disabled(mlist, BOB)


# ---------------------------------------------------------------------------
# On a real running instance.

LIST_ID = 'test.example.com'
# Generous for two loaded cores; every wait ends as soon as its condition
# holds.
WAIT = 90

T = TypeVar('T')


def _wait_for(what: str, probe: Callable[[], T], timeout: float = WAIT) -> T:
    """The first true value `probe` returns, asked until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'{what}: not within {timeout}s')
        time.sleep(0.25)


@pytest.fixture
def running(_layers, tmp_path):
    """A Mailman instance with the plugin at its defaults, started with
    ``mailman start`` on SQLite, sending to an SMTP sink; stopped (the
    master and every runner) whatever happens."""
    from mailman_bounces.testing.running import (
        RunningInstance,
        mailman_config,
    )
    from mailman_bounces.testing.smtp_sink import Sink, free_port
    # A test layer's LMTP or REST master reaps any child process of this
    # one: `mailman start` and `stop` would report a made-up status.
    _layers.without_masters()
    var, clock = tmp_path / 'var', tmp_path / 'clock'
    config_file = tmp_path / 'mailman.cfg'
    plugin_config = tmp_path / 'bounces.cfg'
    # The plugin's defaults, but for how often the periodic runner passes
    # (a minute by default): a timing knob, not a policy.
    plugin_config.write_text('[bounces]\npass_interval: 1s\n')
    rest_port, lmtp_port = free_port(), free_port()
    instance = RunningInstance(var, config_file, rest_port, lmtp_port, clock)
    sink = Sink().start()
    try:
        config_file.write_text(mailman_config(
            layout='acceptance', var=var, site_owner='postmaster@example.com',
            smtp_port=sink.port, lmtp_port=lmtp_port, rest_port=rest_port,
            plugin_config=plugin_config, clock=clock, pass_runner=True))
        var.mkdir()
        instance.start_master(tmp_path / 'start.log')
        instance.wait_for_servers()
        yield instance, sink
    finally:
        try:
            instance.stop_master()
        finally:
            leftovers = instance.kill_leftovers()
            sink.stop()
        assert leftovers == [], (
            f'still running after mailman stop: {leftovers}')


def _standing(instance, email: str) -> dict:
    return instance.rest(
        'GET', f'/plugins/bounces/lists/{LIST_ID}/members/{quote(email)}')


def _probes(sink) -> list:
    return [received for received in sink.received
            if received.message['subject'] == PROBE_SUBJECT]


def _registered(instance, count: int) -> list[dict]:
    """The list's events once `count` are registered and the periodic
    pass processed them all."""
    def done():
        events = instance.collection('/plugins/bounces/events',
                                     list_id=LIST_ID)
        return (events if len(events) == count
                and all(event['processed'] for event in events) else None)
    return _wait_for(f'{count} events registered and processed', done)


def _events_to(instance, message_id: str) -> list[dict]:
    return [event for event in instance.collection(
        '/plugins/bounces/events', list_id=LIST_ID)
        if event['message_id'] == message_id]


@pytest.mark.skipif(
    selected_backend() != 'sqlite',
    reason='the running instance is on SQLite (its own file): it runs '
           'once per suite, with the SQLite run')
def test_on_a_running_instance_forged_bounces_disable_no_one(running):
    instance, sink = running
    instance.rest('POST', '/domains', {'mail_host': 'example.com'})
    instance.rest('POST', '/lists', {'fqdn_listname': 'test@example.com'})
    instance.rest('PATCH', f'/lists/{LIST_ID}/config', {
        'bounce_score_threshold': 1, 'send_welcome_message': False})
    for email in (ANNE, BOB):
        instance.rest('POST', '/members', {
            'list_id': LIST_ID, 'subscriber': email, 'pre_verified': True,
            'pre_confirmed': True, 'pre_approved': True,
            'send_welcome_message': False})
    # 20 rounds over 4 days: 80 forged DSNs, 40 naming each member, the
    # periodic runner passing every second while they arrive.
    for day in range(4):
        instance.deliver(bounce for number in range(5)
                         for bounce in _forgeries(day, number))
        _registered(instance, 20 * (day + 1))
        if day == 0:
            # Threshold 1 on unverified evidence alone: a probe each.
            _wait_for('a probe to each member', lambda: len(
                _probes(sink)) >= 2)
        instance.settle()
        instance.advance_clock(days=1)
    registered = _registered(instance, 80)
    assert {e['evidence'] for e in registered} == {'unverified'}
    assert {e['email'] for e in registered} == {ANNE, BOB}
    for email in (ANNE, BOB):
        assert _standing(instance, email)['delivery_status'] == 'enabled'
    # Exactly one probe each, from a signed return path.
    probes = _probes(sink)
    assert sorted(r for p in probes for r in p.rcpt_tos) == [ANNE, BOB]
    senders = {p.rcpt_tos[0]: p.mail_from for p in probes}
    for sender in senders.values():
        assert SIGNED_PROBE.match(sender), sender
        assert len(sender.partition('@')[0]) < 64
    assert senders[ANNE] != senders[BOB]
    # One MAC character changed: recorded as forged, nothing changes.
    forged = _change_one_mac_character(senders[ANNE])
    instance.deliver([Bounce(forged, dsn(
        ANNE, to=forged, message_id='<forged-probe@forger.example.net>'))])
    [event] = _wait_for('the forged bounce processed', lambda: [
        e for e in _events_to(instance, '<forged-probe@forger.example.net>')
        if e['processed']])
    assert (event['email'], event['evidence'], event['outcome']) == (
        ANNE, 'forged', 'forged')
    instance.settle()
    assert _standing(instance, ANNE)['delivery_status'] == 'enabled'
    assert len(_probes(sink)) == 2
    # The real probe bounces: Anne is disabled at the next pass.
    instance.deliver([Bounce(senders[ANNE], dsn(
        ANNE, to=senders[ANNE], message_id='<probe-bounce@mx.example.org>'))])
    _wait_for('anne disabled', lambda: _standing(
        instance, ANNE)['delivery_status'] == 'by_bounces')
    [event] = _events_to(instance, '<probe-bounce@mx.example.org>')
    assert (event['email'], event['evidence'], event['context'],
            event['outcome']) == (ANNE, 'verified', 'probe', 'probe-bounced')
    assert _standing(instance, BOB)['delivery_status'] == 'enabled'
    instance.settle()
    assert len(_probes(sink)) == 2
    assert instance.stuck() == {'bad': 0, 'retry': 0, 'shunt': 0}
