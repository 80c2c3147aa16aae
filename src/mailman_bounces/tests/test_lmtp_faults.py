"""The LMTP runner's replies to faults, over its real socket: temporary
conditions get 451, messages that can never be queued 554, no reply says
what went wrong inside, and no partial queue file is left behind."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from smtplib import SMTPDataError

import pytest

from mailman_bounces.tests.samples import dsn

pytestmark = pytest.mark.usefixtures('lmtp')

# What core's LMTP runner answers for temporary faults, and the permanent
# refusal: texts that name no cause.
TEMPORARY = (451, b'Requested action aborted: error in processing')
PERMANENT = (554, b'Requested action not taken: message cannot be accepted')


@pytest.fixture
def mlist(mailman):
    from mailman_bounces.tests.helpers import make_list
    return make_list(members=['anne@example.org'])


def _deliver(recipient: str, message: str | bytes) -> tuple[int, bytes]:
    """The LMTP reply to `message` for `recipient` (one recipient: the
    reply to DATA is that recipient's)."""
    from mailman.testing.helpers import get_lmtp_client
    client = get_lmtp_client(quiet=True)
    try:
        client.lhlo('remote.example.org')
        try:
            client.sendmail('MAILER-DAEMON@remote.example.org', [recipient],
                            message)
        except SMTPDataError as error:
            return error.smtp_code, error.smtp_error
        return 250, b'Ok'
    finally:
        client.quit()


def _nested(depth: int) -> str:
    """A bounce whose MIME parts nest `depth` deep."""
    lines = ['From: MAILER-DAEMON@remote.example.org',
             'To: test-bounces@example.com', 'Subject: Undelivered Mail',
             f'Message-ID: <nested-{depth}@remote.example.org>',
             'MIME-Version: 1.0']
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', '',
                  f'--b{level}']
    lines += ['Content-Type: text/plain', '', 'hello']
    lines += [f'--b{level}--' for level in reversed(range(depth))]
    return '\n'.join(lines) + '\n'


def _queue_files() -> list[str]:
    from mailman.config import config
    return os.listdir(config.switchboards['bounces'].queue_directory)


@pytest.mark.parametrize('depth', [600, 5000])
def test_mime_nested_too_deep_is_refused_for_good(mlist, depth):
    # 600 deep parses but cannot be pickled into the queue; 5000 deep
    # cannot even be parsed.  Either way no try will ever succeed.
    assert _deliver('test-bounces@example.com', _nested(depth)) == PERMANENT
    assert _queue_files() == []


def _mount(*args: str) -> None:
    subprocess.run(['mount', *args], check=True, capture_output=True)


@contextmanager
def _full_disk(directory: str) -> Iterator[None]:
    """`directory` on a tiny file system of its own, filled up: a real
    ENOSPC for whoever writes there (the LMTP runner process too)."""
    try:
        _mount('-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', directory)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f'cannot mount a small file system here: {error}')
    try:
        filler = os.path.join(directory, 'filler')
        with open(filler, 'wb', buffering=0) as fp, \
                pytest.raises(OSError) as full:
            while True:
                fp.write(b'x' * 4096)
        assert full.value.errno == errno.ENOSPC
        yield
        os.unlink(filler)
    finally:
        subprocess.run(['umount', directory], check=True)


def test_a_full_disk_is_a_temporary_fault_and_leaves_no_partial_file(mlist):
    from mailman.config import config
    from mailman.testing.helpers import make_testable_runner

    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.tests.helpers import events
    queue = config.switchboards['bounces'].queue_directory
    bounce = dsn('anne@example.org', status='5.1.1',
                 diagnostic='550 5.1.1 user unknown')
    with _full_disk(queue):
        assert _deliver('test-bounces@example.com', bounce) == TEMPORARY
        assert os.listdir(queue) == ['filler']
    # Once there is room again, the sending MTA's next try is accepted.
    assert _deliver('test-bounces@example.com', bounce) == (250, b'Ok')
    make_testable_runner(BounceRunner, 'bounces').run()
    assert [event.email for event in events()] == ['anne@example.org']
