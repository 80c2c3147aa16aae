"""Issue 15's acceptance run, on the real layers: forged bounces disable no
one, each member named gets one signed probe (captured at the SMTP server
with its envelope sender), a bounce of that probe disables, and the same
bounce with one character of the MAC changed is recorded as forged.

Bounces go over a real LMTP socket into the plugin's LMTP runner process;
the bounce runner, the pass, and core's virgin and outgoing runners run
in this process; outgoing mail reaches the test layer's SMTP server."""

from __future__ import annotations

import re

import pytest

from mailman_bounces.tests.helpers import (
    events,
    fast_forward,
    make_list,
    member,
    run_pass,
)
from mailman_bounces.tests.samples import dsn

pytestmark = pytest.mark.usefixtures('lmtp')

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


def _forge(mlist, day: int, number: int) -> None:
    """One round of forgeries: a plain DSN and a DSN to core's unsigned
    VERP address (its body naming a stranger) for each member."""
    for email in (ANNE, BOB):
        local, _, domain = email.partition('@')
        tag = f'{local}-{day}-{number}'
        _lmtp('test-bounces@example.com', dsn(
            email, message_id=f'<plain-{tag}@forger.example.net>'))
        _lmtp(f'test-bounces+{local}={domain}@example.com', dsn(
            'zed@nowhere.test', to=f'test-bounces+{local}={domain}'
            '@example.com', message_id=f'<verp-{tag}@forger.example.net>'))


def _change_one_mac_character(address: str) -> str:
    local, _, domain = address.partition('@')
    changed = 'b' if local[-1] != 'b' else 'c'
    return f'{local[:-1]}{changed}@{domain}'


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
