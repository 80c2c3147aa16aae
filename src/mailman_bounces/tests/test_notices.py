"""Delivering notices: overrides honoured, shared lookups done once per batch,
a failing notice held back alone."""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    make_list,
    member,
    sent_statements,
    virgin_messages,
)

SUMMARY = {'day': '2026-11-02', 'until': '2026-11-08', 'count': 1,
           'reasons': ['dmarc'], 'lines': ['anne@example.org dmarc']}


@pytest.fixture
def lists(mailman):
    from mailman.interfaces.domain import IDomainManager
    from zope.component import getUtility

    from mailman_bounces.app.templates import clear_template_cache
    getUtility(IDomainManager).add('other.example')
    made = [make_list(f'l{number}@example.com') for number in range(3)]
    made.append(make_list('l3@other.example'))
    clear_template_cache()
    yield made
    clear_template_cache()


def _summaries(mlists) -> None:
    from mailman_bounces.app.notices import queue_notice
    for mlist in mlists:
        queue_notice('notify_ignored', mlist.list_id, **SUMMARY)
    commit()


def _deliver() -> int:
    from mailman_bounces.app.notices import deliver_notices
    sent = deliver_notices()
    commit()
    return sent


def _bodies() -> dict[str, str]:
    """Queued owner notices by the list they are about."""
    return {str(msg['to']).split('-owner@')[0]: msg.get_payload()
            for _, _, msg in virgin_messages()}


def _select_counts(statements) -> dict[str, int]:
    """How often `statements` read the tables a notice batch loads."""
    import re
    counts = {'domain': 0, 'mailinglist': 0, 'member': 0, 'bounces_event': 0}
    for statement in statements:
        if not statement.text.lstrip().upper().startswith('SELECT'):
            continue
        table = re.search(r'\bFROM\s+(\w+)', statement.text,
                          re.IGNORECASE)
        if table and table.group(1).lower() in counts:
            counts[table.group(1).lower()] += 1
    return counts


def test_a_batch_looks_each_list_and_domain_up_once(lists):
    _summaries(lists)
    with sent_statements() as statements:
        assert _deliver() == 4
    counts = _select_counts(statements)
    # One read loads the four lists; each of the two domains is read once
    # (three statements: core's lookup counts twice, then loads it), not
    # three times per notice as core's rendering would.
    assert counts['domain'] == 6
    assert counts['mailinglist'] == 1
    bodies = _bodies()
    assert sorted(bodies) == ['l0', 'l1', 'l2', 'l3']
    assert 'L3 mailing list' in bodies['l3']
    assert 'mailman bounces events --list l3@other.example' in bodies['l3']


def test_list_and_domain_overrides_are_honoured(lists, tmp_path):
    from mailman.interfaces.template import ITemplateManager
    from zope.component import getUtility
    name = 'list:admin:notice:bounce-ignored'
    for context, text in (('l1.example.com', 'List $listname: $count.'),
                          ('other.example', 'Domain $domain: $count.')):
        path = tmp_path / f'{context}.txt'
        path.write_text(text + '\n', encoding='utf-8')
        getUtility(ITemplateManager).set(name, context, f'file://{path}')
    commit()
    _summaries(lists)
    assert _deliver() == 4
    bodies = _bodies()
    assert bodies['l1'].strip() == 'List l1@example.com: 1.'
    assert bodies['l3'].strip() == 'Domain other.example: 1.'
    for plain in ('l0', 'l2'):
        assert '--outcome ignored' in bodies[plain]
        assert 'List ' not in bodies[plain]


def test_rendering_outside_a_batch_uses_the_list_itself(lists):
    from mailman_bounces.app.templates import render
    text = render('list:admin:notice:bounce-ignored', lists[3],
                  {'count': '2', 'period': 'today', 'reasons': 'dmarc',
                   'bounces': ''})
    assert 'L3 mailing list to 2 member(s)' in text
    assert '--list l3@other.example' in text


def test_a_notice_for_a_missing_list_fails_alone(lists):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.app.notices import queue_notice
    from mailman_bounces.model.notice import Notice
    _summaries(lists[:2])
    queue_notice('notify_ignored', 'gone.example.com', **SUMMARY)
    commit()
    assert _deliver() == 2
    assert sorted(_bodies()) == ['l0', 'l1']
    failed = config.db.store.execute(
        select(Notice).where(Notice.list_id == 'gone.example.com')
    ).scalar_one()
    assert failed.sent is None
    assert failed.attempts == 1
    assert 'no such list: gone.example.com' in failed.error
    # Retried once per later call, and sent once it can be.
    assert _deliver() == 0
    assert failed.attempts == 2
    make_list('gone@example.com')
    assert _deliver() == 1
    assert failed.sent is not None
    assert failed.attempts == 2
    assert sorted(_bodies()) == ['gone']


def test_the_notices_before_a_failing_one_are_sent_once(lists):
    # The batch carried out l0's and l1's notices, then failed on the
    # missing list and was rolled back: the mail it had queued must not
    # go out besides the mail of the notices carried out again one by one
    # (issue 14: no notice sent twice; it was, to l0's and l1's owners).
    from mailman_bounces.app.notices import queue_notice
    _summaries(lists[:2])
    queue_notice('notify_ignored', 'gone.example.com', **SUMMARY)
    commit()
    assert _deliver() == 2
    queued = sorted(str(msg['to']) for _, _, msg in virgin_messages())
    assert queued == ['l0-owner@example.com', 'l1-owner@example.com']


def test_a_failing_notice_queues_none_of_its_mail(lists, monkeypatch):
    # A notice whose handler queued one mail and then failed (a removal
    # sends the goodbye, then the owners' notice) is tried again whole:
    # the first mail must not go out with each attempt.
    from mailman_bounces.app import owner_notices
    send = owner_notices.send_owner_notice

    def send_then_fail(*args, **kws):
        send(*args, **kws)
        raise RuntimeError('after queueing')
    monkeypatch.setattr(owner_notices, 'send_owner_notice', send_then_fail)
    _summaries(lists[:1])
    assert _deliver() == 0
    assert virgin_messages() == []
    monkeypatch.setattr(owner_notices, 'send_owner_notice', send)
    assert _deliver() == 1
    queued = [str(msg['to']) for _, _, msg in virgin_messages()]
    assert queued == ['l0-owner@example.com']


def test_owner_notices_go_to_owners_and_moderators(lists):
    from mailman.interfaces.member import MemberRole
    from mailman.interfaces.usermanager import IUserManager
    from mailman.testing.helpers import get_queue_messages
    from zope.component import getUtility
    users = getUtility(IUserManager)
    owner = users.create_address('owner@example.org')
    lists[0].subscribe(owner, MemberRole.owner)
    # A moderator subscribed as a user gets mail at the preferred address.
    user = users.create_user('mod@example.org')
    [address] = user.addresses
    address.verified_on = address.registered_on
    user.preferred_address = address
    lists[0].subscribe(user, MemberRole.moderator)
    lists[1].subscribe(users.create_address('other@example.org'),
                       MemberRole.owner)
    commit()
    expected = {mlist.list_id: {address.email for address
                                in mlist.administrators.addresses}
                for mlist in lists}
    assert expected['l0.example.com'] == {'owner@example.org',
                                          'mod@example.org'}
    _summaries(lists)
    assert _deliver() == 4
    got = {item.msgdata['listid']: set(item.msgdata['recipients'])
           for item in get_queue_messages('virgin')}
    assert got == expected


def test_a_batch_reads_the_members_and_events_it_is_about_once(lists):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.notices import queue_notice
    emails = ['anne@example.org', 'bart@example.org', 'cris@example.org']
    mlist = make_list('w@example.com', members=emails)
    for email in emails:
        event = bounce(mlist, email)
        found = member(mlist, email)
        found.preferences.delivery_status = DeliveryStatus.by_bounces
        queue_notice('warning', mlist.list_id, email=email,
                     member_id=found.id, event_id=event.id,
                     warning_number=1)
    commit()
    with sent_statements() as statements:
        assert _deliver() == 3
    counts = _select_counts(statements)
    # The administrators, then the three members in one read; the three
    # events in one read; the list once (not again for each member's
    # preferred language).
    assert counts['member'] == 2
    assert counts['bounces_event'] == 1
    assert counts['mailinglist'] == 1
    assert sorted(to for to, _, _ in virgin_messages()) == emails


def test_every_kind_has_one_handler_keeping_the_contract():
    from zope.interface.verify import verifyClass, verifyObject

    from mailman_bounces.app.notice_batch import NoticeBatch
    from mailman_bounces.app.notice_handlers import HANDLERS, handler_for
    from mailman_bounces.interfaces.notice import (
        INoticeBatch,
        INoticeHandler,
        NoticeKind,
    )
    assert verifyClass(INoticeBatch, NoticeBatch)
    assert set(HANDLERS) == set(NoticeKind)
    for kind, handler in HANDLERS.items():
        assert verifyObject(INoticeHandler, handler)
        assert handler.kind is kind
        # Kinds are stored as their value.
        assert handler_for(kind.value) is handler
    with pytest.raises(ValueError):
        handler_for('no-such-kind')


def test_an_unknown_kind_is_refused_when_queued(lists):
    from mailman.config import config
    from sqlalchemy import func, select

    from mailman_bounces.app.notices import queue_notice
    from mailman_bounces.model.notice import Notice
    with pytest.raises(ValueError):
        queue_notice('notify_nobody', lists[0].list_id)
    assert config.db.store.execute(
        select(func.count()).select_from(Notice)).scalar() == 0


def test_owner_notices_speak_the_lists_language(mailman):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.notices import queue_notice
    mlist = make_list('liste@example.com', members=['anne@example.org'],
                      preferred_language='fr')
    event = bounce(mlist, 'anne@example.org')
    anne = member(mlist, 'anne@example.org')
    anne.preferences.delivery_status = DeliveryStatus.by_bounces
    anne.total_warnings_sent = mlist.bounce_you_are_disabled_warnings
    for kind in ('notify_disable', 'remove'):
        queue_notice(kind, mlist.list_id, email='anne@example.org',
                     member_id=anne.id, event_id=event.id)
    commit()
    assert _deliver() == 2
    # Core sends these notices too; its French catalog has the subjects.
    assert sorted(subject for _, subject, _ in virgin_messages()
                  if 'anne@example.org' in subject) == [
        'Abonnement de anne@example.org désactivé pour Liste',
        ('anne@example.org a été désabonné de la liste de diffusion Liste '
         'en raison de rejets'),
    ]
