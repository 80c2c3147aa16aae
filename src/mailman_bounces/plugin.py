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
adds its periodic runner, installs its outgoing delivery (core's, signing
VERPed copies) and makes its notice templates known.  In `post_hook` it
creates or migrates its tables, makes the VERP signing key at first start
and starts following subscriptions (for its per-domain member counts).  Removing the section
restores core's behaviour: nothing of core is modified on disk.
"""

from __future__ import annotations

import logging
import os

from mailman.config import config
from mailman.interfaces.bounce import IBounceProcessor
from mailman.interfaces.plugin import IPlugin
from public import public
from zope.component import getGlobalSiteManager
from zope.interface import implementer

from mailman_bounces import __version__
from mailman_bounces.config import (
    ConfigurationError,
    SiteConfig,
    load_site_config,
    set_plugin_name,
    set_site_config,
)

log = logging.getLogger('mailman.plugins')

# The periodic pass runs as its own (non-queue) runner.
PASS_RUNNER = 'bouncepass'
# The ESP webhook listener, and the sender of outbound callbacks.
HOOK_RUNNER = 'bouncehook'
CALLBACK_RUNNER = 'bouncecallbacks'
# So does the poller of the bounce mailboxes, when the site has any.
MAIL_RUNNER = 'bouncemail'
# How often the mail runner looks for a mailbox that is due.
MAIL_RUNNER_SLEEP = '10s'

# Core's bounce runner sleeps 2 minutes between looks at its queue because
# it also does all the scoring work; the plugin's only registers bounces
# (the scoring moved to the periodic runner), so it can look more often.
CORE_BOUNCE_RUNNER_SLEEP = '2m'
BOUNCE_RUNNER_SLEEP = '10s'


# Core's outgoing delivery, which the plugin wraps to sign VERPed copies.
CORE_OUTGOING = 'mailman.mta.deliver.deliver'
PLUGIN_OUTGOING = 'mailman_bounces.app.delivery.deliver'


def _outgoing_override() -> str:
    """The plugin's delivery in place of core's (a site's own delivery
    callable is left alone, and its VERP stays unsigned)."""
    if config.mta.outgoing.strip() != CORE_OUTGOING:
        log.warning('mailman-bounces: [mta]outgoing is %s, not core\'s: '
                    'VERPed deliveries are not signed', config.mta.outgoing)
        return ''
    return f'[mta]\noutgoing: {PLUGIN_OUTGOING}\n'


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
        # No queue: an empty path, like core's rest and task runners, or
        # core would make a switchboard (var/queue/bouncepass, listed by
        # /3.1/queues and `mailman inject --show`) nobody ever reads.
        'path:',
        'instances: 1',
        f'sleep_time: {int(settings.pass_interval.total_seconds()) or 1}s',
        '',
    ]
    sections += [
        f'[runner.{CALLBACK_RUNNER}]',
        'class: mailman_bounces.runners.callbacks.CallbackRunner',
        'path:',
        'instances: 1',
        f'sleep_time: {int(settings.callbacks.interval.total_seconds()) or 1}s',
        '',
    ]
    if settings.webhooks.enabled:
        # Like core's rest runner: no queue, one HTTP server.
        sections += [
            f'[runner.{HOOK_RUNNER}]',
            'class: mailman_bounces.runners.bouncehook.BounceHookRunner',
            'path:',
            'instances: 1',
            '',
        ]
    if any(box.enabled for box in settings.mailboxes.values()):
        sections += [
            f'[runner.{MAIL_RUNNER}]',
            'class: mailman_bounces.runners.bouncemail.BounceMailRunner',
            'path:',
            'instances: 1',
            f'sleep_time: {MAIL_RUNNER_SLEEP}',
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
        set_plugin_name(self.name)
        try:
            text, source = self._configuration_text()
            settings = load_site_config(text, source)
        except ConfigurationError as error:
            log.error('mailman-bounces: %s', error)
            # SystemExit, not Exception: Mailman would otherwise just disable
            # the plugin and silently fall back to core's bounce handling.
            raise SystemExit(f'mailman-bounces: invalid configuration: '
                             f'{error}') from None
        set_site_config(settings)
        # Importing the models registers the tables on Mailman's metadata,
        # before the database is created.
        import mailman_bounces.model  # noqa: F401
        from mailman_bounces.app.info import extend_info_command
        from mailman_bounces.app.processor import BounceProcessor
        from mailman_bounces.app.templates import register_templates
        getGlobalSiteManager().registerUtility(
            BounceProcessor(), IBounceProcessor)
        register_templates()
        extend_info_command(self.name)
        config.push('mailman-bounces runners', _runner_overrides(settings))
        outgoing = _outgoing_override()
        if outgoing:
            config.push('mailman-bounces outgoing', outgoing)
        log.info('mailman-bounces %s enabled (pid %d)',
                 __version__, os.getpid())

    def post_hook(self):
        """See `IPlugin`."""
        from mailman_bounces.app.domain_members import follow_memberships
        from mailman_bounces.app.signing import ensure_key
        from mailman_bounces.database.engine import (
            batch_executemany,
            patient_sqlite,
        )
        from mailman_bounces.database.locking import schema_lock
        from mailman_bounces.database.schema import ensure_schema
        with schema_lock():
            ensure_schema(config.db.engine)
            # The first start makes the VERP signing key.
            ensure_key()
            config.db.commit()
        batch_executemany(config.db.engine)
        patient_sqlite(config.db.engine)
        follow_memberships()

    @property
    def resource(self):
        """See `IPlugin`."""
        from mailman_bounces.rest.root import BouncesRoot
        return BouncesRoot()
