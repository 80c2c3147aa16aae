"""What the bounce runner registers for bounces only the safety nets catch.

The detection engine falls back to flufl.bounce (Mailman core's detector)
when none of its formats recognises a message, and reports a delivery failure
naming no usable address as a bounce without recipients.  Mailman must then
register the first like any bounce, recording which detector answered, and
the second for the member VERP names (or forward it, like core, when the
envelope names nobody).
"""

from __future__ import annotations

from mailman_bounces.tests.helpers import events, make_list

# Exchange's display-name-only notice (the shape of bounce_email's
# tt_bounce_11): it failed, but it names nobody usable.
_ANONYMOUS = '''\
From: System Administrator <postmaster@example.net>
To: {to}
Subject: Undeliverable: hello
Message-ID: <nd-{tag}@example.net>
MIME-Version: 1.0
Content-Type: text/plain

Your message

did not reach the following recipient(s):

Anne Person on Fri, 14 Sep 2007 18:52:54 +0300
'''

# Netscape Messaging Server's notice (flufl.bounce's netscape_01 layout),
# which none of the engine's formats reads.
_NETSCAPE = '''\
From: Mail Administrator <Postmaster@mail.example.com>
To: test-bounces@example.com
Subject: Mail System Error - Returned Mail
Message-ID: <ns-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"

This Message was undeliverable due to the following reason:

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This Message was undeliverable due to the following reason:

The user(s) account is temporarily over quota.

<anne@example.org>

Please reply to Postmaster@mail.example.com
if you feel this message to be in error.

--BOUNDARY
Content-Type: message/rfc822

From: owner@example.com
Subject: [Test] hello
X-BeenThere: test@example.com

Hello.

--BOUNDARY--
'''


def _run(msg_text: str, **msgdata):
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.runners.bounce import BounceRunner
    msg = specialized_message_from_string(msg_text)
    config.switchboards['bounces'].enqueue(msg, **msgdata)
    make_testable_runner(BounceRunner, 'bounces').run()


def test_a_failure_naming_nobody_is_registered_for_the_verp_member(mailman):
    mlist = make_list(members=['anne@example.org'])
    _run(_ANONYMOUS.format(to='test-bounces+anne=example.org@example.com', tag=1),
         listid=mlist.list_id)
    [event] = events()
    assert event.email == 'anne@example.org'
    assert (event.kind, event.severity, event.reason) == ('bounce', 'soft', 'undefined')
    assert event.detector == 'generic'


def test_a_failure_naming_nobody_without_verp_is_forwarded(mailman):
    from mailman.testing.helpers import get_queue_messages
    mlist = make_list(members=['anne@example.org'])
    _run(_ANONYMOUS.format(to='test-bounces@example.com', tag=2), listid=mlist.list_id)
    assert events() == []
    [item] = get_queue_messages('virgin', expected_count=1)
    assert str(item.msg['subject']) == 'Uncaught bounce notification'


def test_a_bounce_only_flufl_bounce_reads_is_registered(mailman):
    mlist = make_list(members=['anne@example.org'])
    _run(_NETSCAPE, listid=mlist.list_id)
    [event] = events()
    assert event.email == 'anne@example.org'
    assert event.detector == 'flufl.bounce'
    # flufl.bounce says permanent; the notice says why: "over quota".
    assert (event.kind, event.reason) == ('bounce', 'mailboxfull')
