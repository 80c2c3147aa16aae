"""The mailman-bounces plugin object.

A site enables the plugin with::

    [plugin.bounces]
    class: mailman_bounces.plugin.BouncesPlugin
    component_package: mailman_bounces
    enabled: yes

Mailman instantiates `BouncesPlugin`, then calls `pre_hook` before the
database exists and `post_hook` after.  In `pre_hook` the plugin checks its
configuration (a bad value stops start-up), registers its IBounceProcessor
utility over core's, points the bounce and LMTP runners at its own classes,
adds its periodic runner and makes its notice templates known.  In
`post_hook` it creates or migrates its tables and starts following
subscriptions (for its per-domain member counts).  Removing the section
restores core's behaviour: nothing of core is modified on disk.
"""

from __future__ import annotations

import logging
import os

from mailman.config import config
from mailman.interfaces.bounce import IBounceProcessor
from mailman.interfaces.plugin import IPlugin
from public import public
from zope.component import getGlobalSiteManager, getUtility
from zope.interface import implementer

from mailman_bounces.config import ConfigurationError, SiteConfig, load_site_config

log = logging.getLogger('mailman.plugins')

# The periodic pass runs as its own (non-queue) runner.
PASS_RUNNER = 'bouncepass'

_site_config: SiteConfig | None = None


@public
def site_config() -> SiteConfig:
    """The plugin's validated site configuration (defaults if not loaded)."""
    global _site_config
    if _site_config is None:
        _site_config = load_site_config()
    return _site_config


@public
def set_site_config(value: SiteConfig) -> SiteConfig:
    """Replace the site configuration; returns the previous one (tests)."""
    global _site_config
    previous = site_config()
    _site_config = value
    return previous


# Core's bounce runner sleeps 2 minutes between looks at its queue because
# it also does all the scoring work; the plugin's only registers bounces
# (the scoring moved to the periodic runner), so it can look more often.
CORE_BOUNCE_RUNNER_SLEEP = '2m'
BOUNCE_RUNNER_SLEEP = '10s'


def _runner_overrides(settings: SiteConfig) -> str:
    bounces = getattr(config, 'runner.bounces')
    sleep = (BOUNCE_RUNNER_SLEEP
             if bounces.sleep_time.strip() == CORE_BOUNCE_RUNNER_SLEEP
             else bounces.sleep_time)
    sections = [
        '[runner.bounces]',
        'class: mailman_bounces.runners.bounce.BounceRunner',
        f'sleep_time: {sleep}',
        '',
        f'[runner.{PASS_RUNNER}]',
        'class: mailman_bounces.runners.periodic.PeriodicRunner',
        'instances: 1',
        f'sleep_time: {int(settings.pass_interval.total_seconds()) or 1}s',
        '',
    ]
    if settings.lmtp_runner:
        sections += [
            '[runner.lmtp]',
            'class: mailman_bounces.runners.lmtp.LMTPRunner',
            '',
        ]
    return '\n'.join(sections)


@public
@implementer(IPlugin)
class BouncesPlugin:
    """See `IPlugin`."""

    # Mailman sets this to the plugin's section name before pre_hook.
    name = 'bounces'

    def _configuration_text(self) -> tuple[str | None, str]:
        from mailman.config.config import load_external
        section = getattr(config, 'plugin.' + self.name)
        path = section['configuration'].strip()
        if not path:
            return None, 'defaults'
        try:
            return load_external(path), path
        except (OSError, ModuleNotFoundError, ValueError) as error:
            raise ConfigurationError(
                f'[plugin.{self.name}]configuration: cannot read {path!r}: '
                f'{error}') from None

    def pre_hook(self):
        """See `IPlugin`."""
        global _site_config
        try:
            text, source = self._configuration_text()
            _site_config = load_site_config(text, source)
        except ConfigurationError as error:
            log.error('mailman-bounces: %s', error)
            # SystemExit, not Exception: Mailman would otherwise just disable
            # the plugin and silently fall back to core's bounce handling.
            raise SystemExit(f'mailman-bounces: invalid configuration: '
                             f'{error}') from None
        # Importing the models registers the tables on Mailman's metadata,
        # before the database is created.
        import mailman_bounces.model  # noqa: F401
        from mailman_bounces.app.processor import BounceProcessor
        from mailman_bounces.app.templates import register_templates
        getGlobalSiteManager().registerUtility(
            BounceProcessor(), IBounceProcessor)
        register_templates()
        _extend_info_command(self.name)
        config.push('mailman-bounces runners',
                    _runner_overrides(_site_config))
        log.info('mailman-bounces %s enabled (pid %d)',
                 _version(), os.getpid())

    def post_hook(self):
        """See `IPlugin`."""
        from mailman_bounces.database.engine import batch_executemany
        from mailman_bounces.database.locking import schema_lock
        from mailman_bounces.database.schema import ensure_schema
        with schema_lock():
            ensure_schema(config.db.engine)
        batch_executemany(config.db.engine)
        _follow_memberships()

    @property
    def resource(self):
        """See `IPlugin`."""
        from mailman_bounces.rest.root import BouncesRoot
        return BouncesRoot()


def _follow_memberships() -> None:
    """Keep the per-domain member counts current as members come and go
    (core announces subscriptions and unsubscriptions as zope events)."""
    from zope.event import subscribers

    from mailman_bounces.app.domain_members import follow_membership
    if follow_membership not in subscribers:
        subscribers.append(follow_membership)


def _extend_info_command(name: str) -> None:
    """Make ``mailman info`` say that the plugin is enabled.

    Mailman's plugin API cannot add to core commands (a plugin command with
    a core command's name is an error), so the plugin wraps the callback of
    core's ``info`` command to print its own lines after core's.
    """
    from mailman.commands.cli_info import info
    original = info.callback
    if getattr(original, 'mailman_bounces', False):
        return

    def callback(output, verbose):
        original(output, verbose)
        for line in plugin_summary(name):
            print(line, file=output)
    callback.mailman_bounces = True
    info.callback = callback


@public
def plugin_summary(name: str = 'bounces') -> list[str]:
    """What ``mailman info`` prints about the plugin."""
    from mailman_bounces.database.schema import current_revision, head_revision
    processor = getUtility(IBounceProcessor)
    lines = [
        f'plugin {name}: mailman-bounces {_version()} (enabled)',
        f'bounce processor: {type(processor).__module__}.{type(processor).__name__}',
    ]
    if config.db is not None:
        with config.db.engine.connect() as connection:
            current = current_revision(connection)
        lines.append(f'bounces schema: {current} (latest {head_revision()})')
    return lines


def _version() -> str:
    from mailman_bounces import __version__
    return __version__
