"""``mailman bounces rules``: a list's classification rules.

A subcommand group of ``mailman bounces`` (added to it there).  Like every
subcommand concerning a list, it takes the list as ``--list``/``-l``;
``rules test`` also takes it first, as the issue writes it
(``rules test LIST FILE``).
"""

from __future__ import annotations

import email
from pathlib import Path

import click
from mailman.core.i18n import _
from mailman.email.message import Message

from mailman_bounces.app.rules import add_rule, delete_rule, list_rules, try_rules
from mailman_bounces.commands.options import list_option, mailing_list
from mailman_bounces.config import site_config
from mailman_bounces.fields import RULE
from mailman_bounces.policy.rules import EFFECTS, FIELDS, SEVERITIES, RuleError

__all__ = ['rules']

LIST = list_option(_('The list (list-id or posting address).'),
                   required=True)


def _list_id(listspec: str) -> str:
    return mailing_list(listspec).list_id


@click.group(help=_("""\
    A list's classification rules: they change what the detection engine
    said about a bounce before the list's policy sees it."""))
def rules():
    pass


@rules.command('show', help=_('Show the rules applying to a list, in '
                              'order: the site\'s, then its own.'))
@LIST
def show(listspec):
    found = [*site_config().rules, *list_rules(_list_id(listspec))]
    if not found:
        click.echo('No rules')
    for rule in found:
        values = RULE.values(rule)
        change = ' '.join(f'{key}={values[key]}' for key in
                          ('reason', 'severity') if values[key])
        click.echo(f"{values['name']}: {values['field']} ~ "
                   f"/{values['pattern']}/ -> {values['effect']}"
                   + (f' {change}' if change else '')
                   + (f"  # {values['comment']}" if values['comment']
                      else ''))


@rules.command('add', help=_('Add a rule to a list.'))
@LIST
@click.option('--pattern', required=True,
              help=_('An RE2 regular expression, searched for.'))
@click.option('--field', 'where', type=click.Choice(FIELDS),
              default='diagnostic', show_default=True)
@click.option('--effect', type=click.Choice(EFFECTS), required=True)
@click.option('--reason', help=_('The reason a set rule gives.'))
@click.option('--severity', type=click.Choice(SEVERITIES),
              help=_('The severity a set rule gives.'))
@click.option('--comment')
def add(listspec, pattern, where, effect, reason, severity, comment):
    try:
        row = add_rule(_list_id(listspec), {
            'pattern': pattern, 'field': where, 'effect': effect,
            'reason': reason, 'severity': severity, 'comment': comment})
    except RuleError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f'Rule list:{row.id} added')


@rules.command('delete', help=_("Delete one of a list's rules."))
@LIST
@click.argument('rule_id', type=int, metavar='ID')
def delete(listspec, rule_id):
    if not delete_rule(_list_id(listspec), rule_id):
        raise click.UsageError(f'No such rule: {rule_id}')
    click.echo(f'Rule list:{rule_id} deleted')


@rules.command('test', help=_(
    'Show what detection and the rules make of a message, registering '
    'nothing.  The list is given first (rules test LIST FILE), or as '
    '--list/-l like to the other subcommands.'))
@list_option(_('The list (list-id or posting address), if not given '
               'first.'))
@click.argument('arguments', nargs=-1, metavar='[LIST] FILE')
@click.pass_context
def test(context, listspec, arguments):
    if listspec is None and len(arguments) == 2:
        listspec, name = arguments
    elif listspec is not None and len(arguments) == 1:
        name, = arguments
    else:
        raise click.UsageError(
            'Expected LIST FILE, or --list LIST FILE', context)
    file = click.Path(exists=True, dir_okay=False, path_type=Path).convert(
        name, None, context)
    msg = email.message_from_bytes(file.read_bytes(), Message)
    tried = try_rules(_list_id(listspec), msg)
    if not tried:
        click.echo('No recipient found: not a bounce the rules apply to')
    for item in tried:
        before = f"{item['reason']}/{item['severity']}"
        if item['rule'] is None:
            result = 'no rule matched'
        elif not item['registered']:
            result = f"{item['rule']}: not a bounce"
        else:
            after = item['after']
            result = (f"{item['rule']} ({item['effect']}): "
                      f"{after['reason']}/{after['severity']}")
        click.echo(f"{item['address']}: {before} -> {result}")
