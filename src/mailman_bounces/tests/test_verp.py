"""Signed return paths on the real layers: what signs, what each kind of
evidence leads to, complaints, keys, the forged-burst notice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailman_bounces.tests.helpers import (
    commit,
    events,
    make_list,
    member,
    run_pass,
    virgin_messages,
)
from mailman_bounces.tests.samples import arf, dsn

ANNE = 'anne@example.org'
BOB = 'bob@example.org'


@pytest.fixture
def mlist(mailman):
    return make_list(members=[ANNE, BOB], bounce_score_threshold=1)


def _queue(mlist, text: str, envelope: str) -> None:
    """Queue a bounce as the plugin's LMTP runner does and register it."""
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    config.switchboards['bounces'].enqueue(
        specialized_message_from_string(text), listid=mlist.list_id,
        envelope_recipients=[envelope.lower()])
    make_testable_runner(BounceRunner, 'bounces').run()
    commit()


def _delivery_address(mlist, email: str) -> str:
    from mailman_bounces.app.signing import (
        DELIVERY_LIFETIME,
        signed_address,
    )
    from mailman_bounces.signing import MEMBER_DELIVERY
    return signed_address(mlist, MEMBER_DELIVERY, member(mlist, email).id,
                          DELIVERY_LIFETIME)


def _disabled(mlist, email: str) -> bool:
    from mailman.interfaces.member import DeliveryStatus
    return (member(mlist, email).preferences.delivery_status
            == DeliveryStatus.by_bounces)


def _set(mlist, **values) -> None:
    from mailman_bounces.app.settings import change_settings
    change_settings(mlist, values)
    commit()


def test_a_verified_bounce_disables_at_the_threshold(mlist):
    address = _delivery_address(mlist, ANNE)
    # Through an SRS forwarder and in capitals: still verified.
    local, _, domain = address.partition('@')
    srs = f'SRS0=HhH=TT={domain}={local}@forwarder.example.net'.upper()
    _queue(mlist, dsn(ANNE, to=srs), srs)
    run_pass()
    [event] = events(email=ANNE)
    assert (event.evidence, event.outcome) == ('verified', 'disabled')
    assert _disabled(mlist, ANNE)


def test_a_signed_address_names_its_member_whatever_the_report_says(mlist):
    address = _delivery_address(mlist, BOB)
    _queue(mlist, dsn('zed@nowhere.test', to=address), address)
    [event] = events()
    assert (event.email, event.evidence) == (BOB, 'verified')


def test_a_token_for_another_list_is_forged(mlist):
    other = make_list('other@example.com', members=[ANNE])
    address = _delivery_address(other, ANNE).replace('other-bounces',
                                                     'test-bounces')
    _queue(mlist, dsn(ANNE, to=address), address)
    run_pass()
    [event] = events(email=ANNE)
    assert (event.evidence, event.outcome) == ('forged', 'forged')
    assert not _disabled(mlist, ANNE)


def test_unverified_count_acts_like_core(mlist):
    _set(mlist, unverified_action='count')
    _queue(mlist, dsn(ANNE), 'test-bounces@example.com')
    run_pass()
    assert events(email=ANNE)[0].evidence == 'unverified'
    assert _disabled(mlist, ANNE)


def test_unverified_ignore_records_and_never_scores(mlist):
    _set(mlist, unverified_action='ignore')
    _queue(mlist, dsn(ANNE), 'test-bounces+anne=example.org@example.com')
    run_pass()
    [event] = events(email=ANNE)
    assert (event.evidence, event.outcome) == ('unverified', 'unverified')
    assert member(mlist, ANNE).bounce_score == 0
    assert virgin_messages() == []


def test_unverified_probe_then_a_verified_bounce_disables(mlist):
    _queue(mlist, dsn(ANNE), 'test-bounces@example.com')
    run_pass()
    [(to, subject, _probe)] = virgin_messages()
    assert (to, subject) == (ANNE, 'Test mailing list probe message')
    assert not _disabled(mlist, ANNE)
    # A verified bounce of an ordinary delivery decides before the probe.
    address = _delivery_address(mlist, ANNE)
    _queue(mlist, dsn(ANNE, to=address), address)
    run_pass()
    assert _disabled(mlist, ANNE)
    assert [e.outcome for e in events(email=ANNE)] == [
        'probe-sent', 'disabled']


def _complaint_returning(header: str) -> str:
    text = arf(ANNE)
    return text.replace('From: someone@example.com\n',
                        f'{header}\nFrom: someone@example.com\n', 1)


def test_only_verified_complaints_act(mlist):
    from mailman_bounces.app.signing import SIGNATURE_HEADER, token_of
    _set(mlist, complaint_action='unsubscribe')
    # Unsigned: the owners hear of it, anne stays.
    _queue(mlist, arf(ANNE), 'test-bounces@example.com')
    run_pass()
    assert member(mlist, ANNE) is not None
    assert events(email=ANNE)[0].evidence == 'unverified'
    # A forged signature header changes nothing either.
    token = token_of(_delivery_address(mlist, ANNE))
    forged = token[:-1] + ('b' if token[-1] != 'b' else 'c')
    _queue(mlist, _complaint_returning(f'{SIGNATURE_HEADER}: {forged}'),
           'test-bounces@example.com')
    run_pass()
    assert member(mlist, ANNE) is not None
    # The original carries the plugin's signed header: acted on.
    _queue(mlist, _complaint_returning(f'{SIGNATURE_HEADER}: {token}'),
           'test-bounces@example.com')
    run_pass()
    assert member(mlist, ANNE) is None
    assert [e.evidence for e in events(email=ANNE)] == [
        'unverified', 'unverified', 'verified']


def test_a_complaint_with_a_signed_return_path_is_verified(mlist):
    _set(mlist, complaint_action='disable')
    address = _delivery_address(mlist, BOB)
    _queue(mlist, _complaint_returning(f'Return-Path: <{address}>'),
           'test-bounces@example.com')
    run_pass()
    # The signature names bob, whoever the report names.
    [event] = events(kind='complaint')
    assert (event.email, event.evidence) == (BOB, 'verified')
    assert _disabled(mlist, BOB)


def test_rotated_keys_verify_during_the_overlap_only(mlist):
    from mailman_bounces.app.signing import rotate_keys
    from mailman_bounces.tests.helpers import fast_forward
    old = _delivery_address(mlist, ANNE)
    rotate_keys(timedelta(days=2))
    commit()
    new = _delivery_address(mlist, BOB)
    assert old.split('+')[1][:2] != new.split('+')[1][:2]   # the key id
    _queue(mlist, dsn(ANNE, to=old, message_id='<a@x>'), old)
    fast_forward(days=3)
    _queue(mlist, dsn(ANNE, to=old, message_id='<b@x>'), old)
    _queue(mlist, dsn(BOB, to=new, message_id='<c@x>'), new)
    assert [(e.email, e.evidence) for e in events()] == [
        (ANNE, 'verified'), (ANNE, 'forged'), (BOB, 'verified')]


def test_a_burst_of_forged_bounces_is_summarised_to_the_site_admin(mlist):
    from mailman.config import config

    from mailman_bounces.tests.helpers import fast_forward
    address = _delivery_address(mlist, ANNE)
    forged = address[:address.index('@') - 1] + (
        'b' if address[address.index('@') - 1] != 'b' else 'c'
        ) + '@example.com'
    assert forged != address
    for number in range(10):
        _queue(mlist, dsn(ANNE, to=forged, message_id=f'<f{number}@x>'),
               forged)
    fast_forward(hours=0.5)
    run_pass()
    assert {e.outcome for e in events()} == {'forged'}
    notices = [(to, s) for to, s, _ in virgin_messages()]
    assert notices == [(config.mailman.site_owner,
                        '10 forged bounces in the last hour')]
    assert not _disabled(mlist, ANNE)


def test_verped_deliveries_go_from_signed_return_paths(mlist):
    from mailman.config import config
    from mailman.testing.helpers import specialized_message_from_string
    from mailman.testing.layers import SMTPLayer
    from mailman.utilities.modules import find_name

    from mailman_bounces.app.signing import (
        SIGNATURE_HEADER,
        check_address,
        token_of,
    )
    SMTPLayer.smtpd.clear()
    post = specialized_message_from_string(
        'From: cris@example.net\nTo: test@example.com\n'
        'Subject: hello\nMessage-ID: <post-1@example.net>\n\nHello.\n')
    # What core's outgoing runner calls: the plugin's delivery.
    deliver = find_name(config.mta.outgoing)
    deliver(mlist, post, {'recipients': [ANNE, BOB, 'cris@example.net'],
                          'verp': True})
    sent = {m['x-rcptto']: m for m in SMTPLayer.smtpd.messages}
    assert sorted(sent) == [ANNE, BOB, 'cris@example.net']
    for email in (ANNE, BOB):
        sender = sent[email]['x-mailfrom']
        checked = check_address(mlist, sender)
        assert (checked.evidence, checked.kind, checked.email) == (
            'verified', 'm', email)
        assert sent[email][SIGNATURE_HEADER] == token_of(sender)
    # Not a member: core's unsigned VERP.
    assert sent['cris@example.net']['x-mailfrom'] == (
        'test-bounces+cris=example.net@example.com')
    assert sent['cris@example.net'][SIGNATURE_HEADER] is None


# RFC 5321 4.5.3.1.1: a local part has at most 64 octets.
LONG_MEMBER = ('a.member.with.a.rather.long.local.part@'
               'mail.a-long-subdomain.example.org')


def test_a_long_list_name_gets_a_compact_signed_return_path(mailman):
    from mailman_bounces.app.signing import token_of
    from mailman_bounces.signing import COMPACT, parse
    # 32 characters: "NAME-bounces+" leaves 23 for the token, fewer than
    # the standard token's 26 (a 16-character MAC); the member's address
    # plays no part.
    name = 'the-announcements-of-all-faculty'
    mlist = make_list(f'{name}@example.com', members=[LONG_MEMBER],
                      bounce_score_threshold=1)
    address = _delivery_address(mlist, LONG_MEMBER)
    local = address.rpartition('@')[0]
    assert local.startswith(f'{name}-bounces+')
    assert len(local.encode()) <= 64
    assert parse(token_of(address)).version == COMPACT
    # Bounced to: matched to the member, verified.
    _queue(mlist, dsn('someone@else.example', to=address), address)
    [event] = events()
    assert (event.email, event.evidence) == (LONG_MEMBER, 'verified')


def _verp_delivery(mlist, recipients: list[str]) -> dict:
    """What a VERPed post to `recipients` was sent as, by recipient."""
    from mailman.config import config
    from mailman.testing.helpers import specialized_message_from_string
    from mailman.testing.layers import SMTPLayer
    from mailman.utilities.modules import find_name
    SMTPLayer.smtpd.clear()
    post = specialized_message_from_string(
        f'From: cris@example.net\nTo: {mlist.posting_address}\n'
        'Subject: hello\nMessage-ID: <post-2@example.net>\n\nHello.\n')
    find_name(config.mta.outgoing)(
        mlist, post, {'recipients': recipients, 'verp': True})
    return {m['x-rcptto']: m for m in SMTPLayer.smtpd.messages}


def _too_long_warnings(caplog, mlist) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == 'mailman.bounce'
            and record.levelname == 'WARNING' and mlist.list_id
            in record.getMessage()
            and 'no signed return path fits' in record.getMessage()]


def test_no_signed_return_path_fits_but_cores_do(mailman, caplog):
    from mailman_bounces.app import signing
    # 40 characters: "NAME-bounces+" leaves 15, less than a compact
    # token with the shortest MAC (10) and its other parts; the plain
    # bounces address fits.
    name = 'the-announcements-of-the-whole-faculty-x'
    short = 'al@ex.org'
    mlist = make_list(f'{name}@example.com', members=[short, LONG_MEMBER],
                      bounce_score_threshold=1)
    signing._logged_too_long.discard(mlist.list_id)
    assert _delivery_address(mlist, short) is None
    sent = _verp_delivery(mlist, [short, LONG_MEMBER])
    # What core does: its VERP where it fits, else its plain return path.
    core_verp = f'{name}-bounces+al=ex.org@example.com'
    assert sent[short]['x-mailfrom'] == core_verp
    assert sent[LONG_MEMBER]['x-mailfrom'] == f'{name}-bounces@example.com'
    for message in sent.values():
        assert len(message['x-mailfrom'].partition('@')[0]) <= 64
        assert message[signing.SIGNATURE_HEADER] is None
    # Logged once for the list, not once per copy.
    assert len(_too_long_warnings(caplog, mlist)) == 1
    # Bounced to: still matched to the member, as core's VERP is.
    _queue(mlist, dsn(short, to=core_verp), core_verp)
    [event] = events()
    assert (event.email, event.evidence) == (short, 'unverified')


def test_a_list_name_too_long_for_any_return_path(mailman, caplog):
    from mailman_bounces.app import signing
    from mailman_bounces.app.signing import token_of
    from mailman_bounces.signing import VERSION, parse
    # 61 characters: "NAME-bounces" alone is 69 octets, over the limit
    # whatever follows, core's return paths too: the standard signed one.
    name = 'the-announcements-list-of-the-faculty-of-arts-and-sciences-x1'
    assert len(name) == 61
    mlist = make_list(f'{name}@example.com', members=[LONG_MEMBER, BOB],
                      bounce_score_threshold=1)
    signing._logged_too_long.discard(mlist.list_id)
    address = _delivery_address(mlist, LONG_MEMBER)
    assert parse(token_of(address)).version == VERSION
    sent = _verp_delivery(mlist, [LONG_MEMBER, BOB])
    assert sent[LONG_MEMBER]['x-mailfrom'] == address
    assert len(_too_long_warnings(caplog, mlist)) == 1
    # Bounced to: matched to the member, verified.
    _queue(mlist, dsn('someone@else.example', to=address), address)
    [event] = events()
    assert (event.email, event.evidence) == (LONG_MEMBER, 'verified')


def test_two_processes_starting_at_once_make_one_first_key(mailman):
    # Two runners (or hosts) on a new database: each looks for the signing
    # key, and both have found none before either makes one.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mailman.config import config
    from sqlalchemy import delete, select
    from sqlalchemy.orm import Session

    from mailman_bounces.app import signing
    from mailman_bounces.model.verp_key import VerpKey
    config.db.store.execute(delete(VerpKey))
    commit()
    both_looked = threading.Barrier(2, timeout=30)

    def start(_number: int) -> int:
        with Session(config.db.engine) as store:
            assert signing._signing_key(store) is None
            both_looked.wait()
            key_id = signing._first_key(store).id
            store.commit()
            return key_id

    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(start, range(2), timeout=60))
    keys = list(config.db.store.execute(select(VerpKey.id)).scalars())
    assert len(keys) == 1
    assert made == keys * 2
