"""pytest glue for Mailman's real test layers.

The plugin is enabled through MAILMAN_EXTRA_TESTING_CFG, which must be set
before Mailman is imported; the database backend is chosen with
MAILMAN_BOUNCES_TEST_DB (sqlite, the default; postgresql; mysql).  The
layers are set up lazily: tests of the pure detection engine never start
Mailman at all.

Fixtures:

* ``mailman``: the ConfigLayer and SMTPLayer (a real SMTP server on a
  socket), with per-test set-up and reset of the whole world (database,
  queues, message store, clock);
* ``lmtp``: additionally a real LMTP runner process on a socket;
* ``rest``: additionally a real REST server process;
* ``instance``: a separate Mailman instance in a directory, on its own
  scratch database of the selected backend, driven by `mailman` commands.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from mailman_bounces.tests.databases import (
    DATABASE_CLASSES,
    backend_url,
    database_config,
    selected_backend,
)
from mailman_bounces.tests.instance import Instance, ServerDatabase

_CFG_DIR = tempfile.mkdtemp(prefix='mailman-bounces-cfg-')
_EXTRA_CFG = os.path.join(_CFG_DIR, 'extra.cfg')
# The plugin's own configuration: one bounce mailbox, disabled (never
# polled, no bouncemail runner), for the REST and CLI views of mailboxes.
_PLUGIN_CFG = os.path.join(_CFG_DIR, 'bounces.cfg')
with open(_PLUGIN_CFG, 'w', encoding='utf-8') as _fp:
    _fp.write("""\
[mailbox.example]
enabled: no
host: 127.0.0.1
port: 9
security: none
user: bounces
password_file: /nonexistent/password
timeout: 5s
""")
with open(_EXTRA_CFG, 'w', encoding='utf-8') as _fp:
    _fp.write(f"""\
[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
configuration: {_PLUGIN_CFG}

[logging.bounce]
level: debug
""")
    _fp.write(database_config(selected_backend()))
os.environ['MAILMAN_EXTRA_TESTING_CFG'] = _EXTRA_CFG


class _Layers:
    """Session-wide layer state, torn down in reverse order.

    The LMTP and REST layers each run a master whose thread reaps *any*
    child process; two of them at once steal each other's children and hang
    on tear-down.  So at most one of those "master" layers is up at a time.
    """

    def __init__(self) -> None:
        self.up: list = []

    def ensure(self, layer, exclusive: tuple = ()) -> None:
        for other in exclusive:
            if other is not layer and other in self.up:
                other.tearDown()
                self.up.remove(other)
        if layer not in self.up:
            layer.setUp()
            self.up.append(layer)

    def without_masters(self) -> None:
        """Tear down the LMTP and REST layers if up: their master thread
        reaps any child, so a test waiting on a subprocess of its own would
        get a made-up exit status 0 (the child already reaped)."""
        from mailman.testing.layers import LMTPLayer, RESTLayer
        for layer in (LMTPLayer, RESTLayer):
            if layer in self.up:
                layer.tearDown()
                self.up.remove(layer)

    def tear_down(self) -> None:
        while self.up:
            self.up.pop().tearDown()


@pytest.fixture(scope='session')
def _layers():
    from mailman.testing.layers import MockAndMonkeyLayer
    # What Mailman's own test runner does: predictable clock, uids ...
    MockAndMonkeyLayer.testing_mode = True
    layers = _Layers()
    yield layers
    layers.tear_down()


def _move_ports(offset: int) -> None:
    """Shift the test servers' ports by `offset`, in this process and (via
    the configuration file) in the runner processes, so that two test
    sessions can run side by side on one machine (SQLite only: the server
    databases are shared)."""
    from mailman.config import config
    ports = f"""
[mta]
smtp_port: {9025 + offset}
lmtp_port: {9024 + offset}

[webservice]
port: {9001 + offset}
"""
    config.push('mailman-bounces test ports', ports)
    with open(config.filename, 'a', encoding='utf-8') as fp:
        fp.write(ports)


@pytest.fixture(scope='session')
def _mailman_session(_layers):
    from mailman.testing.layers import ConfigLayer, SMTPLayer
    _layers.ensure(ConfigLayer)
    offset = int(os.environ.get('MAILMAN_BOUNCES_TEST_PORT_OFFSET', '0'))
    if offset:
        _move_ports(offset)
    _layers.ensure(SMTPLayer)
    return _layers


@pytest.fixture
def rest_url(rest) -> str:
    """The root URL of the test REST server's API 3.1."""
    from mailman.config import config
    return f'http://localhost:{config.webservice.port}/3.1'


@pytest.fixture
def mailman(_mailman_session):
    """A Mailman test world with the plugin; reset after each test."""
    from mailman.testing.layers import ConfigLayer, MockAndMonkeyLayer, SMTPLayer
    from mailman.utilities.datetime import factory

    from mailman_bounces.app.templates import clear_template_cache
    ConfigLayer.testSetUp()
    try:
        yield _mailman_session
    finally:
        clear_template_cache()
        SMTPLayer.testTearDown()
        ConfigLayer.testTearDown()
        MockAndMonkeyLayer.testTearDown()
        # Core's clock lives on the class: a test that set it on the
        # instance would shadow every later reset.
        vars(factory).pop('predictable_now', None)
        vars(factory).pop('predictable_today', None)
        factory.reset()


@pytest.fixture
def lmtp(mailman):
    """A real LMTP runner process (the plugin's) listening on its socket."""
    from mailman.testing.layers import LMTPLayer, RESTLayer
    mailman.ensure(LMTPLayer, exclusive=(RESTLayer,))
    return LMTPLayer


@pytest.fixture
def rest(mailman):
    """A real REST server process."""
    from mailman.testing.layers import LMTPLayer, RESTLayer
    mailman.ensure(RESTLayer, exclusive=(LMTPLayer,))
    return RESTLayer


@pytest.fixture
def instance(tmp_path):
    """A fresh Mailman instance on the selected backend (not the test
    layer's database)."""
    backend = selected_backend()
    if backend == 'sqlite':
        yield Instance(tmp_path)
        return
    scratch = ServerDatabase(backend_url(backend))
    scratch.create()
    try:
        yield Instance(tmp_path, scratch.url, DATABASE_CLASSES[backend])
    finally:
        scratch.drop()
