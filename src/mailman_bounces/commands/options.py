"""What the ``mailman bounces`` subcommands share: how a list is given."""

from __future__ import annotations

from typing import Any

import click

from mailman_bounces.app.queries.lists import find_list

__all__ = ['list_option', 'mailing_list']


def list_option(help: str, required: bool = False):
    """The list, given like to core's commands: ``--list``/``-l`` with a
    list-id or a posting address."""
    return click.option('--list', '-l', 'listspec', metavar='LISTSPEC',
                        required=required, help=help)


def mailing_list(listspec: str) -> Any:
    """The list `listspec` names; a usage error if there is none."""
    mlist = find_list(listspec)
    if mlist is None:
        raise click.UsageError(f'No such list: {listspec}')
    return mlist
