"""``mailman bounces mailboxes``: the bounce mailboxes and their polling.

A subcommand of ``mailman bounces`` (added to its group there), kept in a
module of its own.
"""

from __future__ import annotations

import json

import click
from mailman.core.i18n import _
from mailman.rest.helpers import ExtendedEncoder

from mailman_bounces.app.mailboxes.poll import poll
from mailman_bounces.app.mailboxes.status import mailbox_statuses
from mailman_bounces.config import site_config
from mailman_bounces.fields import MAILBOX
from mailman_bounces.utilities.tables import table, when

__all__ = ['mailboxes']


def _poll_now(name: str) -> None:
    box = site_config().mailboxes.get(name)
    if box is None:
        raise click.UsageError(f'No such mailbox: {name}')
    poll(box, force=True)


@click.command(help=_("""\
    Show the bounce mailboxes the bouncemail runner polls: last poll, last
    success, last error and counts."""))
@click.option('--poll', 'names', multiple=True, metavar='NAME',
              help=_('Poll this mailbox now first (even if disabled or '
                     'backing off).'))
@click.option('--json', 'as_json', is_flag=True,
              help=_('Print them as JSON, like REST shows them.'))
def mailboxes(names, as_json):
    for name in names:
        _poll_now(name)
    statuses = mailbox_statuses()
    if as_json:
        click.echo(json.dumps([MAILBOX.values(status) for status in statuses],
                              indent=2, cls=ExtendedEncoder))
        return
    if not statuses:
        click.echo('No bounce mailboxes configured')
        return
    rows = [(s.name, f'{s.protocol}://{s.host}:{s.port}/{s.folder}',
             'yes' if s.enabled else 'no', when(s.last_poll),
             when(s.last_success), s.failures, s.seen, s.registered,
             s.unparsed) for s in statuses]
    for line in table(('NAME', 'MAILBOX', 'ENABLED', 'LAST POLL',
                       'LAST SUCCESS', 'FAILURES', 'SEEN', 'REGISTERED',
                       'UNPARSED'), rows):
        click.echo(line)
    for status in statuses:
        if status.last_error:
            click.echo(f'{status.name}: last error: {status.last_error}')
