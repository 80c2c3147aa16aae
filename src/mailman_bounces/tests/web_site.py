"""The Postorius site with the web app (`mailman_bounces.web.site`), in the
test process, on Mailman's real REST server; and the world its tests
share: a list with an owner, members who bounced, a disabled member with
her warning's re-enable token, and Django accounts.

Skipped, saying why, when Postorius is not installed (the ``[web]`` extra).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

pytest.importorskip('postorius', reason='needs the [web] extra')

from mailman_bounces.tests.helpers import (
    bounce,
    make_list,
    run_pass,
    virgin_messages,
)

LIST = 'ant@example.com'
LIST_ID = 'ant.example.com'
OTHER = 'bee@example.com'
OWNER = 'owner@example.com'
MODERATOR = 'moderator@example.com'
ADMIN = 'admin@example.com'
ANNE, BART, CRIS = 'anne@example.org', 'bart@example.org', 'cris@example.org'
PASSWORD = 'a-long-test-password'
# A diagnostic that would run in the page if it were not escaped.
HOSTILE = '550 5.1.1 <script>alert("x")</script> user unknown'


@dataclass
class World:
    mlist: object
    token: str          # Anne's re-enable token


@pytest.fixture(scope='session')
def site(_mailman_session):
    """Django set up with the test site, talking to the test REST server;
    its database migrated."""
    from mailman.config import config
    directory = tempfile.mkdtemp(prefix='mailman-bounces-web-')
    os.environ.update({
        'DJANGO_SETTINGS_MODULE': 'mailman_bounces.web.site.settings',
        'MAILMAN_BOUNCES_WEB_DIR': directory,
        'MAILMAN_REST_API_URL': f'http://localhost:{config.webservice.port}',
    })
    import django
    from django.core.management import call_command
    django.setup()
    call_command('migrate', verbosity=0, interactive=False)
    return Path(directory)


def account(email: str, superuser: bool = False):
    """A Django user of `email`, verified (as Postorius requires to map it
    to list rosters)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import User
    name = email.partition('@')[0]
    user, created = User.objects.get_or_create(
        username=name, defaults={'email': email})
    if created:
        user.set_password(PASSWORD)
        user.is_superuser = user.is_staff = superuser
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True,
                                    primary=True)
    return user


def build_world() -> World:
    """Anne disabled by a hard bounce with a hostile diagnostic (threshold
    2: two bounces on two days), Bart scored by a full mailbox, Cris
    clean; a moderator of the list; a second list the owner does not
    own."""
    from mailman.interfaces.member import MemberRole
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility

    from mailman_bounces.tests.helpers import commit, fast_forward
    mlist = make_list(LIST, members=[ANNE, BART, CRIS],
                      bounce_score_threshold=2)
    mlist.display_name = 'Ant'
    users = getUtility(IUserManager)
    owner = users.get_address(OWNER) or users.create_address(OWNER)
    mlist.subscribe(owner, MemberRole.owner)
    moderator = (users.get_address(MODERATOR)
                 or users.create_address(MODERATOR))
    mlist.subscribe(moderator, MemberRole.moderator)
    other = make_list(OTHER, members=[ANNE])
    commit()
    bounce(mlist, ANNE, diagnostic=HOSTILE)
    bounce(mlist, BART, status='4.2.2', action='delayed',
           diagnostic='452 4.2.2 Mailbox full')
    bounce(other, ANNE)
    run_pass()
    fast_forward(days=1)
    bounce(mlist, ANNE)
    run_pass()
    warnings = [msg for to, subject, msg in virgin_messages()
                if subject.startswith('reenable ')]
    assert len(warnings) == 1, 'Anne was not warned'
    # django-mailman3 caches each Django user's Mailman user id; Mailman's
    # database was just made anew (the test layers reset it, and hand out
    # the same predictable ids again), so a cached id would name another
    # user now.
    from django.core.cache import cache
    cache.clear()
    for email in (OWNER, MODERATOR, ANNE):
        account(email)
    account(ADMIN, superuser=True)
    return World(mlist, str(warnings[0]['subject']).split()[1])


@pytest.fixture
def world(rest, site) -> World:
    return build_world()


class LiveSite:
    """The site served over HTTP on a loopback port, in a thread."""

    def __init__(self) -> None:
        from django.core.servers.basehttp import (
            ThreadedWSGIServer,
            WSGIRequestHandler,
        )
        from django.core.wsgi import get_wsgi_application

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.server = ThreadedWSGIServer(('127.0.0.1', 0), Quiet)
        self.server.set_app(get_wsgi_application())
        self.url = f'http://127.0.0.1:{self.server.server_port}'
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='session')
def live_site(site):
    served = LiveSite()
    yield served
    served.stop()


# Each bounce of `verp_bounce` its own Message-ID (one message counts once).
_MESSAGE_NUMBERS = count(1)


def verp_bounce(mlist, email: str, kind: str = 'verified') -> None:
    """A bounce about `email` that came back to the list's bounce address
    as the plugin's LMTP runner queues it: to the member's signed return
    path (`kind` verified), to that path with its MAC broken (forged), or
    to the unsigned bounce address (unverified)."""
    from mailman.config import config
    from mailman.testing.helpers import (
        make_testable_runner,
        specialized_message_from_string,
    )

    from mailman_bounces.app.signing import (
        DELIVERY_LIFETIME,
        signed_address,
    )
    from mailman_bounces.runners.bounce import BounceRunner
    from mailman_bounces.signing import MEMBER_DELIVERY
    from mailman_bounces.tests.helpers import commit, member
    from mailman_bounces.tests.samples import dsn
    if kind == 'unverified':
        envelope = mlist.bounces_address
    else:
        envelope = signed_address(mlist, MEMBER_DELIVERY,
                                  member(mlist, email).id, DELIVERY_LIFETIME)
    if kind == 'forged':
        at = envelope.index('@')
        flipped = 'b' if envelope[at - 1] != 'b' else 'c'
        envelope = envelope[:at - 1] + flipped + envelope[at:]
    text = dsn(email, to=envelope,
               message_id=f'<web-{next(_MESSAGE_NUMBERS)}@example.net>')
    config.switchboards['bounces'].enqueue(
        specialized_message_from_string(text),
        listid=mlist.list_id, envelope_recipients=[envelope.lower()])
    make_testable_runner(BounceRunner, 'bounces').run()
    commit()
