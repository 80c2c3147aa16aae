"""``mailman bounces tracking``: a list's tracked posts, or one post's
copies by recipient (the list setting ``tracking``).

A subcommand of ``mailman bounces`` (added to it there).  Like every
subcommand concerning a list, it takes the list as ``--list``/``-l``.
"""

from __future__ import annotations

import click
from mailman.core.i18n import _

from mailman_bounces.app.queries.paging import MAX_COUNT
from mailman_bounces.app.queries.tracking import (
    COPY_FIELDS,
    POST_FIELDS,
    find_copies,
    find_post,
    find_posts,
)
from mailman_bounces.commands.options import list_option, mailing_list
from mailman_bounces.policy.tracking import COUNTS
from mailman_bounces.utilities.tables import table, when

__all__ = ['tracking']


def _posts(list_id: str, limit: int) -> None:
    page = find_posts(list_id, count=limit, page=1)
    if not page.rows:
        click.echo('No tracked posts')
        return
    rows = []
    for row in page.rows:
        values = POST_FIELDS.values(row)
        rows.append((when(values['sent_at']), values['message_id'],
                     *(values[name] for name in COUNTS)))
    header = ('SENT', 'MESSAGE-ID',
              *(name.upper().replace('_', ' ') for name in COUNTS))
    for line in table(header, rows):
        click.echo(line)
    click.echo(f'{len(page.rows)} of {page.total_size} tracked posts')


def _copies(list_id: str, message_id: str, limit: int) -> None:
    found = find_post(list_id, message_id)
    if found is None:
        raise click.UsageError(f'No tracked post {message_id} on {list_id}')
    values = POST_FIELDS.values(found)
    click.echo(f"{values['message_id']} ({values['mode']}), sent "
               f"{when(values['sent_at'])}: " + ', '.join(
                   f"{name.replace('_', ' ')} {values[name]}"
                   for name in COUNTS))
    page = find_copies(found.post, count=limit, page=1)
    rows = []
    for row in page.rows:
        copy = COPY_FIELDS.values(row)
        rows.append((copy['email'], copy['state'], when(copy['state_at']),
                     copy['status'] or '-', copy['disposition'] or '-',
                     'yes' if copy['dsn_supported'] else 'no'))
    for line in table(('ADDRESS', 'STATE', 'SINCE', 'STATUS', 'READ',
                       'DSN'), rows):
        click.echo('    ' + line)


@click.command(help=_("""\
    A list's tracked posts with the counts of their copies, newest first;
    with a MESSAGE_ID, that post's copies by recipient."""))
@list_option(_('The list (list-id or posting address).'), required=True)
@click.option('--limit', '-n', type=click.IntRange(1, MAX_COUNT),
              default=50, show_default=True,
              help=_('Show at most this many posts or copies.'))
@click.argument('message_id', required=False)
def tracking(listspec, limit, message_id):
    mlist = mailing_list(listspec)
    if message_id is None:
        _posts(mlist.list_id, limit)
    else:
        _copies(mlist.list_id, message_id, limit)
