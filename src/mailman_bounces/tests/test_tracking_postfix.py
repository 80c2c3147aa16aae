"""Issue 15 part 3's acceptance test: a tracked post to 50 members through
a real Postfix, and the per-recipient states its real DSNs give.

A member posts to the list over LMTP; core's incoming, pipeline and
outgoing runners (in this process) hand it to the plugin's tracked
delivery, which sends each copy to the harness's Postfix
(`mailman_bounces.testing.postfix`) from its signed return path with the
DSN parameters.  Postfix delivers the final domain's copies itself
(``delivered``), relays the others to its sink without DSN (``relayed``),
fails ``nosuchuser`` (5.1.1) and keeps retrying ``slowpoke`` (a delay
DSN), and sends every DSN for the list's domain back to Mailman's real
LMTP runner.  The bounce runner reads them; the states are read back
through the plugin's queries and its REST resources.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest

from mailman_bounces.testing import postfix as postfix_module

LIST = 'test@example.com'
LIST_ID = 'test.example.com'
FINAL = 'final.test'             # the harness's final domain
RELAYED_DOMAIN = 'example.org'   # any other domain: the sink, no DSN
# One address with a '+': its ORCPT goes as xtext (reader43+2Blists@...).
DELIVERED = [*(f'reader{n:02d}@{FINAL}' for n in range(43)),
             f'reader43+lists@{FINAL}']
RELAYED = [f'relay{n}@{RELAYED_DOMAIN}' for n in range(4)]
# Refused by the final domain (no mailbox): a failure DSN from virtual(8).
NOSUCHUSER = f'nosuchuser@{FINAL}'
# Deferred by the sink (450 4.2.0) on every try: a delay DSN.
SLOWPOKE = f'slowpoke@{RELAYED_DOMAIN}'
MEMBERS = [*DELIVERED, *RELAYED, NOSUCHUSER, SLOWPOKE]
EXPECTED = {**dict.fromkeys(DELIVERED, 'delivered'),
            **dict.fromkeys(RELAYED, 'relayed'),
            NOSUCHUSER: 'failed', SLOWPOKE: 'delayed'}
POSTER = DELIVERED[0]
MESSAGE_ID = '<acceptance-50@final.test>'
# Bounded waits (seconds): the whole run takes a few seconds.
SETTLE_TIMEOUT = 45


def _post_over_lmtp() -> None:
    """A member's post, to the list's posting address over LMTP."""
    from mailman.testing.helpers import get_lmtp_client
    client = get_lmtp_client(quiet=True)
    try:
        client.lhlo('mx.final.test')
        assert client.sendmail(POSTER, [LIST], (
            f'From: {POSTER}\nTo: {LIST}\nSubject: Tracked through Postfix\n'
            f'Message-ID: {MESSAGE_ID}\n\nFifty copies, fifty reports.\n'
        )) == {}
    finally:
        client.quit()


def _run(runner_class, queue: str) -> None:
    from mailman.testing.helpers import make_testable_runner
    make_testable_runner(runner_class, queue).run()


def _send_post() -> None:
    """What the instance's runners do with a post: in, pipeline, out."""
    from mailman.config import config
    from mailman.runners.incoming import IncomingRunner
    from mailman.runners.outgoing import OutgoingRunner
    from mailman.runners.pipeline import PipelineRunner
    assert len(config.switchboards['in'].files) == 1
    _run(IncomingRunner, 'in')
    _run(PipelineRunner, 'pipeline')
    assert len(config.switchboards['out'].files) == 1, (
        'the post did not reach the out queue (held?): '
        f"{ {q: len(s.files) for q, s in config.switchboards.items()} }")
    _run(OutgoingRunner, 'out')
    # Nothing refused at SMTP time (Postfix accepts all and reports later)
    # and nothing waiting for a retry.
    assert config.switchboards['retry'].files == []
    assert config.switchboards['shunt'].files == []


def _copies() -> dict:
    """The post's copies by address, as the plugin's query reads them."""
    from mailman.config import config

    from mailman_bounces.app.queries.tracking import find_copies, find_post
    config.db.abort()
    post = find_post(LIST_ID, MESSAGE_ID)
    assert post is not None, f'no tracked post {MESSAGE_ID}'
    return {row.email: row for row in find_copies(post.post).rows}


def _settle(server) -> dict:
    """Run the bounce runner on what the LMTP runner queued until no copy
    is left without a report; the copies.  Bounded: on time-out, fail
    with what is missing and Postfix's log."""
    from mailman.config import config

    from mailman_bounces.runners.bounce import BounceRunner
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        _run(BounceRunner, 'bounces')
        copies = _copies()
        waiting = sorted(email for email, row in copies.items()
                         if row.state == 'sent')
        if copies and not waiting:
            return copies
        shunted = config.switchboards['shunt'].files
        assert not shunted, f'{len(shunted)} reports shunted, see the log'
        if time.monotonic() > deadline:
            pytest.fail(
                f'after {SETTLE_TIMEOUT}s, {len(waiting)} of {len(copies)} '
                f'copies still without a report: {waiting[:10]}\n'
                f'Postfix log:\n{server.log()}', pytrace=False)
        time.sleep(0.2)


def _envelopes(log: str) -> dict[str, list[tuple[str, str]]]:
    """Recipient → (envelope sender, where it went) of each delivery
    attempt Postfix logged for it, read in order from its log (``QUEUEID:
    from=<...>`` then ``QUEUEID: to=<...>, relay=...`` lines; a queue ID
    may be used again once its message is gone)."""
    senders: dict[str, str] = {}
    found: dict[str, list[tuple[str, str]]] = {}
    for line in log.splitlines():
        sender = re.search(r' postfix/qmgr\[\d+\]: ([0-9A-F]+): '
                           r'from=<([^>]*)>', line)
        if sender:
            senders[sender[1]] = sender[2]
            continue
        attempt = re.search(r': ([0-9A-F]+): to=<([^>]*)>, .*?'
                            r'relay=([^,]+),.* status=(\w+)', line)
        if attempt:
            assert attempt[1] in senders, f'no sender logged for {line}'
            found.setdefault(attempt[2].lower(), []).append(
                (senders[attempt[1]], f'{attempt[3]} {attempt[4]}'))
    return found


def test_a_post_to_fifty_members_through_postfix(mailman, lmtp):
    postfix_module.skip_unless_available()
    from mailman.config import config

    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.app.signing import check_address
    from mailman_bounces.model.tracking import ReceivedReport
    from mailman_bounces.tests.helpers import (
        commit,
        events,
        make_list,
        member,
        run_pass,
    )
    mlist = make_list(LIST, members=MEMBERS)
    change_settings(mlist, {'tracking': 'dsn'})
    commit()
    with postfix_module.Postfix(lmtp_port=int(config.mta.lmtp_port),
                                list_domain=mlist.mail_host) as server:
        config.push('tracking through postfix', f"""
[mta]
smtp_host: 127.0.0.1
smtp_port: {server.port}
""")
        try:
            _post_over_lmtp()
            _send_post()
            copies = _settle(server)
            # The deferred copy is still in Postfix's queue, retried.
            assert ((SLOWPOKE, 450) in server.sink.handler.attempts)
            log = server.log()
            relayed = {r.rcpt_tos[0]: r.mail_from
                       for r in server.sink.received
                       if b'Tracked through Postfix' in r.content}
            delivered = {m['Delivered-To']: m['Return-Path'].strip('<>')
                         for m in server.delivered()}
        finally:
            config.pop('tracking through postfix')
    # Every recipient in the state its DSN gave it.
    assert {email: row.state for email, row in copies.items()} == EXPECTED
    assert {email: row.status for email, row in copies.items()} == {
        **dict.fromkeys(DELIVERED + RELAYED, '2.0.0'),
        NOSUCHUSER: '5.1.1', SLOWPOKE: '4.2.0'}
    assert all(row.dsn_supported for row in copies.values())
    assert '4.2.0' in (copies[SLOWPOKE].diagnostic or ''), (
        copies[SLOWPOKE].diagnostic)
    # Each copy went from its own signed tracking address (kind t, naming
    # its copy's row): Postfix's log, the sink's envelope and the final
    # mailbox's Return-Path say so.
    envelopes = _envelopes(log)
    lmtp_relay = f'127.0.0.1[127.0.0.1]:{config.mta.lmtp_port}'
    senders = {}
    for email, row in copies.items():
        attempts = envelopes.get(email)
        assert attempts, f'Postfix logged no delivery to {email}'
        [sender] = {sender for sender, _ in attempts}
        checked = check_address(mlist, sender)
        assert (checked.evidence, checked.kind, checked.ident,
                checked.email) == ('verified', 't', row.id, email), sender
        senders[email] = sender
        # Its report went from the null sender to that address, to
        # Mailman's LMTP runner.
        assert envelopes[sender.lower()] == [('', f'{lmtp_relay} sent')], (
            email, envelopes.get(sender.lower()))
    # The slow copy was tried (and deferred) again while it waited.
    assert {where for _, where in envelopes[SLOWPOKE]} == {
        f'127.0.0.1[127.0.0.1]:{server.sink.port} deferred'}
    assert relayed == {email: senders[email] for email in RELAYED}
    assert delivered == {email: senders[email] for email in DELIVERED}
    # One verified report per copy; only nosuchuser's failure is a bounce
    # event, verified, and it scores; no success or delay report does.
    config.db.abort()
    reports = config.db.store.query(ReceivedReport).all()
    assert sorted((r.delivery_id, r.value, r.evidence) for r in reports) == (
        sorted((row.id, EXPECTED[email], 'verified')
               for email, row in copies.items()))
    assert config.switchboards['bounces'].files == []
    assert config.switchboards['shunt'].files == []
    run_pass()
    assert [(e.email, e.evidence, e.status) for e in events()] == [
        (NOSUCHUSER, 'verified', '5.1.1')]
    assert member(mlist, NOSUCHUSER).bounce_score > 0
    scored = [email for email in MEMBERS
              if email != NOSUCHUSER and member(mlist, email).bounce_score]
    assert scored == []
    # The REST resources (the REST server replaces the LMTP runner).
    from mailman.testing.layers import LMTPLayer, RESTLayer

    from mailman_bounces.tests.test_rest_api import get
    mailman.ensure(RESTLayer, exclusive=(LMTPLayer,))
    posts = get(f'/lists/{LIST_ID}/tracking')
    [post] = posts['entries']
    assert post['message_id'] == MESSAGE_ID
    assert {name: post[name] for name in (
        'recipients', 'delivered', 'relayed', 'delayed', 'failed',
        'displayed', 'no_answer')} == {
        'recipients': len(MEMBERS), 'delivered': len(DELIVERED),
        'relayed': len(RELAYED), 'delayed': 1, 'failed': 1,
        'displayed': 0, 'no_answer': 0}
    bare = quote(MESSAGE_ID.strip('<>'), safe='')
    entries = get(f'/lists/{LIST_ID}/tracking/{bare}')['entries']
    assert {c['email']: (c['state'], c['dsn_supported'])
            for c in entries} == {email: (state, True)
                                  for email, state in EXPECTED.items()}
