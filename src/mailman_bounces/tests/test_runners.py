"""The plugin's runners as Mailman runs them."""

from __future__ import annotations

from mailman_bounces.tests.helpers import (
    bounce,
    commit,
    events,
    make_list,
    member,
    sent_statements,
    state,
)


def test_the_periodic_runner_runs_the_pass(mailman):
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.periodic import PeriodicRunner
    mlist = make_list(members=['anne@example.org'])
    bounce(mlist, 'anne@example.org')
    make_testable_runner(PeriodicRunner, 'bouncepass').run()
    assert [e.outcome for e in events()] == ['scored']
    assert member(mlist, 'anne@example.org').bounce_score == 1


def _smtp_time_failure(mlist):
    """Deliver a post whose recipient the SMTP server refuses."""
    from mailman.config import config
    from mailman.runners.outgoing import OutgoingRunner
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )
    from mailman.testing.layers import SMTPLayer
    msg = specialized_message_from_string(
        'From: someone@example.com\nTo: test@example.com\n'
        'Message-ID: <post-smtp@example.com>\nSubject: hi\n\nHello\n')
    SMTPLayer.smtpd.err_queue.put(('rcpt', 550))
    config.switchboards['out'].enqueue(
        msg, listid=mlist.list_id, recipients={'anne@example.org'},
        verp=False)
    make_testable_runner(OutgoingRunner, 'out').run()
    commit()


def test_smtp_time_failures_are_classified(mailman):
    from mailman_bounces.tests.helpers import run_pass
    mlist = make_list(members=['anne@example.org'])
    _smtp_time_failure(mlist)
    [event] = events()
    assert event.email == 'anne@example.org'
    assert event.reply_code == '550'
    assert event.detector == 'mailman'
    # The test server's refusal says no more than "refused": a permanent
    # failure whose reason cannot be decided, weighing half.
    assert (event.kind, event.reason) == ('bounce', 'onhold')
    run_pass()
    assert state(mlist, 'anne@example.org').score == 0.5


def test_process_bounces_is_honoured_for_smtp_time_failures(mailman):
    from mailman_bounces.tests.helpers import run_pass
    mlist = make_list(members=['anne@example.org'], process_bounces=False)
    _smtp_time_failure(mlist)
    run_pass()
    assert [e.outcome for e in events()] == ['processing-off']
    assert member(mlist, 'anne@example.org').bounce_score == 0


def test_a_message_the_runner_cannot_handle_is_shunted(mailman, monkeypatch):
    from mailman.config import config
    from mailman.testing.helpers import (
        get_queue_messages,
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.app import intake
    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.samples import dsn
    mlist = make_list(members=['anne@example.org', 'bart@example.org',
                               'cris@example.org'])
    original = intake.affected_members

    def broken_for_bart(mlist, report, verp):
        if report.recipients[0].address == 'bart@example.org':
            raise RuntimeError('database unreachable')
        return original(mlist, report, verp)
    monkeypatch.setattr(intake, 'affected_members', broken_for_bart)
    for email in ('anne@example.org', 'bart@example.org', 'cris@example.org'):
        msg = specialized_message_from_string(dsn(email))
        config.switchboards['bounces'].enqueue(msg, listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()
    [item] = get_queue_messages('shunt', expected_count=1)
    assert item.msgdata['bounces_shunt_reason'] == (
        'RuntimeError: database unreachable')
    assert item.msgdata['whichq'] == 'bounces'
    assert 'bart@example.org' in str(item.msg)
    with open(f'{config.LOG_DIR}/error', encoding='utf-8') as log:
        assert 'RuntimeError: database unreachable' in log.read()
    # The rest of the batch was registered, once each.
    assert sorted(e.email for e in events()) == [
        'anne@example.org', 'cris@example.org']
    assert get_queue_messages('bounces') == []


def test_bounces_are_registered_in_batches(mailman, monkeypatch):
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners import bounce as bounce_runner
    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.samples import dsn
    emails = [f'm{n}@example.org' for n in range(7)]
    mlist = make_list(members=emails)
    monkeypatch.setattr(bounce_runner, 'BATCH_FILES', 3)
    commits = []
    real_commit = config.db.commit
    monkeypatch.setattr(config.db, 'commit',
                        lambda: (commits.append(1), real_commit()))
    for email in emails:
        config.switchboards['bounces'].enqueue(
            specialized_message_from_string(dsn(email)),
            listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()
    assert len(events()) == 7
    # 3 + 3 + 1 bounces: three transactions, not seven.
    assert len(commits) == 3


def test_auto_replies_are_not_bounces(mailman):
    from mailman.config import config
    from mailman.testing.helpers import (
        get_queue_messages,
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    mlist = make_list(members=['anne@example.org'])
    msg = specialized_message_from_string(
        'From: anne@example.org\nTo: test-bounces@example.com\n'
        'Subject: Out of office\nAuto-Submitted: auto-replied\n'
        'Message-ID: <ooo@example.org>\n\n'
        'I am away until Monday.\n')
    config.switchboards['bounces'].enqueue(msg, listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()
    assert events() == []
    # Not forwarded to the owners as an unrecognised bounce either.
    assert get_queue_messages('virgin') == []


def test_unrecognised_messages_are_forwarded(mailman):
    from mailman.config import config
    from mailman.testing.helpers import (
        get_queue_messages,
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    mlist = make_list(members=['anne@example.org'])
    msg = specialized_message_from_string(
        'From: someone@example.org\nTo: test-bounces@example.com\n'
        'Subject: question\nMessage-ID: <q@example.org>\n\n'
        'Is this the right address?\n')
    config.switchboards['bounces'].enqueue(msg, listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()
    assert events() == []
    [item] = get_queue_messages('virgin', expected_count=1)
    assert str(item.msg['subject']) == 'Uncaught bounce notification'


def test_a_batch_that_fails_to_register_is_retried_file_by_file(
        mailman, monkeypatch):
    from mailman.config import config
    from mailman.testing.helpers import (
        get_queue_messages,
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.app import processor
    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.samples import dsn
    emails = ['anne@example.org', 'bart@example.org', 'cris@example.org']
    mlist = make_list(members=emails)
    original = processor.event_row

    def unwritable_for_bart(list_id, email, *args, **kws):
        if email == 'bart@example.org':
            raise ValueError('value out of range for column')
        return original(list_id, email, *args, **kws)
    monkeypatch.setattr(processor, 'event_row', unwritable_for_bart)
    for email in emails:
        config.switchboards['bounces'].enqueue(
            specialized_message_from_string(dsn(email)),
            listid=mlist.list_id)
    make_testable_runner(BounceRunner, 'bounces').run()
    # Only the culprit is shunted, with the reason; the rest of its batch
    # is registered once each.
    [item] = get_queue_messages('shunt', expected_count=1)
    assert 'bart@example.org' in str(item.msg)
    assert item.msgdata['bounces_shunt_reason'] == (
        'ValueError: value out of range for column')
    assert sorted(e.email for e in events()) == [
        'anne@example.org', 'cris@example.org']
    assert get_queue_messages('bounces') == []


def test_a_batch_is_written_with_a_few_statements(mailman):
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.samples import dsn

    def inserts_registering(count: int) -> list[str]:
        emails = [f'n{count}-{n}@example.org' for n in range(count)]
        mlist = make_list(f'l{count}@example.com', members=emails)
        for email in emails:
            config.switchboards['bounces'].enqueue(
                specialized_message_from_string(dsn(email)),
                listid=mlist.list_id)
        with sent_statements() as sent:
            make_testable_runner(BounceRunner, 'bounces').run()
        assert len([e for e in events() if e.list_id == mlist.list_id]) \
            == count
        return [statement.text.split('(')[0].split()[-1]
                for statement in sent
                if statement.text.lstrip().upper().startswith('INSERT')]
    # One insert of the stored messages and one of the events, whether
    # the batch holds 2 bounces or 20.
    assert len(inserts_registering(2)) == 2
    assert len(inserts_registering(20)) == 2


def test_detection_reads_the_bytes_the_lmtp_runner_kept(mailman):
    # The queued Message and the bytes kept beside it are made to disagree,
    # to see which one the runner reads: the bytes, as received (the parsed
    # message is never flattened again, which cost 476 MB for a 50 MB one).
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.app.store import RAW_KEY
    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.samples import dsn
    mlist = make_list(members=['anne@example.org'])
    msg = specialized_message_from_string(
        'From: someone@example.net\nTo: test-bounces@example.com\n'
        'Message-ID: <hello@example.net>\n\nHello there.\n')
    config.switchboards['bounces'].enqueue(
        msg, listid=mlist.list_id,
        **{RAW_KEY: dsn('anne@example.org', status='5.1.1').encode()})
    make_testable_runner(BounceRunner, 'bounces').run()
    [event] = events()
    assert (event.email, event.status, event.reason) == (
        'anne@example.org', '5.1.1', 'userunknown')
