"""Sympa's verp_rate: a rotating share of each post goes signed VERP."""

from __future__ import annotations

import math

import pytest

from mailman_bounces.policy.verp_rate import rotating_share

MEMBERS = [f'member{n:03d}@example.org' for n in range(37)]


@pytest.mark.parametrize('percent', [1, 10, 30, 50, 99])
def test_every_member_is_verped_at_least_once_every_ceil_1_over_r(percent):
    rate = percent / 100
    period = math.ceil(1 / rate)
    shares = [rotating_share(MEMBERS, post, rate) for post in range(200)]
    for share in shares:
        # The share is the rate, rounded up to a whole recipient.
        assert len(share) == math.ceil(len(MEMBERS) * rate)
    for start in range(len(shares) - period + 1):
        covered = set().union(*shares[start:start + period])
        assert covered == set(MEMBERS), (start, period)


def test_the_edges():
    assert rotating_share(MEMBERS, 5, 0) == set()
    assert rotating_share(MEMBERS, 5, 1) == set(MEMBERS)
    assert rotating_share([], 5, 0.5) == set()


def _post(mlist, number: int):
    from mailman.testing.helpers import specialized_message_from_string
    return specialized_message_from_string(
        'From: cris@example.net\nTo: test@example.com\nSubject: hello\n'
        f'Message-ID: <post-{number}@example.net>\n\nHello.\n')


def _deliver(mlist, recipients, number: int) -> list:
    """Deliver post `number` through the plugin's delivery; the envelopes
    the SMTP server received: [(sender, [recipients])]."""
    from mailman.config import config
    from mailman.testing.layers import SMTPLayer
    from mailman.utilities.modules import find_name
    SMTPLayer.smtpd.clear()
    mlist.post_id = number
    find_name(config.mta.outgoing)(
        mlist, _post(mlist, number),
        {'recipients': list(recipients), 'to_list': True})
    return [(m['x-mailfrom'], sorted(m['x-rcptto'].split(', ')))
            for m in SMTPLayer.smtpd.messages]


def test_a_tenth_of_each_post_goes_signed_and_bouncers_always(mailman):
    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.app.signing import check_address
    from mailman_bounces.tests.helpers import bounce, commit, make_list
    members = MEMBERS[:20]
    mlist = make_list(members=members)
    change_settings(mlist, {'verp_rate': '10'})
    commit()
    envelopes = _deliver(mlist, members, 1)
    signed = [(s, r) for s, r in envelopes if s != 'test-bounces@example.com']
    bulk = [r for s, r in envelopes if s == 'test-bounces@example.com']
    # 10% of 20: two signed copies, one transaction each; the rest in bulk.
    assert len(signed) == 2
    assert all(len(r) == 1 for _, r in signed)
    for sender, [recipient] in signed:
        checked = check_address(mlist, sender)
        assert (checked.evidence, checked.email) == ('verified', recipient)
    assert sorted(r for rs in bulk for r in rs) == sorted(
        set(members) - {r[0] for _, r in signed})
    # A member with an unverified bounce is VERPed with every post.
    bouncer = MEMBERS[7]
    event = bounce(mlist, bouncer)
    event.evidence = 'unverified'
    commit()
    for number in (2, 3, 4):
        envelopes = _deliver(mlist, members, number)
        assert [bouncer] in [r for s, r in envelopes
                             if s != 'test-bounces@example.com']


def test_rate_zero_is_core_bulk_delivery(mailman):
    from mailman_bounces.tests.helpers import make_list
    members = MEMBERS[:5]
    mlist = make_list(members=members)
    assert _deliver(mlist, members, 1) == [
        ('test-bounces@example.com', sorted(members))]


def test_signed_copies_carry_the_text_of_the_bulk_copies(mailman):
    """The share's copies are the post as the bulk recipients get it,
    footer once, only the envelope and the token header differ (core's
    bulk delivery decorates in place: the copies must not get a second
    footer)."""
    from mailman.config import config
    from mailman.testing.layers import SMTPLayer
    from mailman.utilities.modules import find_name

    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.app.signing import SIGNATURE_HEADER, token_of
    from mailman_bounces.tests.helpers import commit, make_list
    members = MEMBERS[:10]
    mlist = make_list(members=members)
    change_settings(mlist, {'verp_rate': '50'})
    commit()
    SMTPLayer.smtpd.clear()
    find_name(config.mta.outgoing)(mlist, _post(mlist, 1), {
        'recipients': list(members), 'to_list': True})
    messages = list(SMTPLayer.smtpd.messages)
    [bulk] = [m for m in messages
              if m['x-mailfrom'] == 'test-bounces@example.com']
    signed = [m for m in messages if m is not bulk]
    assert len(signed) == 5
    # Mailman's default footer for a list's regular members.
    footer = f'{mlist.display_name} mailing list -- {mlist.posting_address}'
    assert bulk.get_payload().count(footer) == 1
    for message in signed:
        assert message.get_payload() == bulk.get_payload()
        assert message[SIGNATURE_HEADER] == token_of(message['x-mailfrom'])
        assert bulk[SIGNATURE_HEADER] is None


def test_a_post_reads_the_signing_key_once(mailman):
    """Every signed copy of a post is signed with the key read when the
    delivery starts, not read again per copy."""
    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.tests.helpers import commit, make_list, sent_statements
    members = MEMBERS[:10]
    mlist = make_list(members=members)
    change_settings(mlist, {'verp_rate': '100'})
    # The site's first key already made (making it reads the table again
    # under its lock).
    from mailman_bounces.app.signing import ensure_key
    ensure_key()
    commit()
    with sent_statements() as sent:
        envelopes = _deliver(mlist, members, 1)
    assert len(envelopes) == len(members)
    assert sum('FROM bounces_verp_key' in s.text for s in sent) == 1
