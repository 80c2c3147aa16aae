"""The ``mailman bounces`` command.

Mailman finds it through the plugin's component package: every
`ICLISubCommand` in ``mailman_bounces.commands`` becomes a ``mailman``
subcommand.  Like core's commands that take a list as an option
(``delmembers``, ``digests``, ``notify``), every subcommand concerning a
list takes it as ``--list``/``-l`` LISTSPEC: a list-id or a posting
address.  Mailman's ``mailman`` group runs it in a database
transaction, committed when it succeeds and aborted when it fails, so a
refused change leaves nothing behind.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import click
from mailman.config import config
from mailman.core.i18n import _
from mailman.interfaces.bounce import BounceContext
from mailman.interfaces.command import ICLISubCommand
from mailman.rest.helpers import ExtendedEncoder
from mailman.utilities.datetime import now
from public import public
from zope.interface import implementer

from mailman_bounces.app.bounce_pass import PassReport, run_pass
from mailman_bounces.app.callbacks import enable_endpoint, site_endpoints
from mailman_bounces.app.callbacks import replay as replay_callbacks
from mailman_bounces.app.outage import (
    CannotConfirm,
    confirm_freeze,
    lift_freeze,
)
from mailman_bounces.app.queries.callbacks import CALLBACK_STATES, find_callbacks
from mailman_bounces.app.queries.events import (
    CONTEXTS,
    EVENT_FIELDS,
    EVIDENCE,
    KINDS,
    SEVERITIES,
    EventFilter,
    find_events,
)
from mailman_bounces.app.queries.freezes import FREEZE_FIELDS, find_freezes
from mailman_bounces.app.queries.lists import list_id_of
from mailman_bounces.app.queries.members import (
    STANDING_FIELDS,
    disabled_counts,
    find_member,
    find_members,
    member_object,
)
from mailman_bounces.app.queries.stats import (
    daily_reasons,
    event_stats,
    list_reasons,
)
from mailman_bounces.app.reenable import reenable_member
from mailman_bounces.app.settings import (
    change_settings,
    get_settings,
    overridden_settings,
    policy_for,
)
from mailman_bounces.app.signing import ensure_key, list_keys, rotate_keys
from mailman_bounces.commands.cli_mailboxes import mailboxes
from mailman_bounces.commands.cli_rules import rules
from mailman_bounces.commands.cli_tracking import tracking
from mailman_bounces.commands.options import list_option, mailing_list
from mailman_bounces.config import site_config
from mailman_bounces.detect import REASONS
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.policy.settings import (
    CORE_SETTINGS,
    RESETTABLE,
    WEIGHTS,
    SettingError,
)
from mailman_bounces.utilities.plotting import (
    PLOT_FORMATS,
    PlottingUnavailable,
    plot_daily_reasons,
)
from mailman_bounces.utilities.tables import table, when
from mailman_bounces.utilities.times import parse_time, recent
from mailman_bounces.validators import MAX_DURATION, Duration, InvalidValue

# Mailman's REST encoder, so that values read the same here and there.
_ENCODER = ExtendedEncoder()


class _Duration(click.ParamType):
    """A duration written like Mailman's (30d, 2w, 12h)."""

    name = 'duration'

    def convert(self, value, param, ctx):
        if isinstance(value, timedelta):
            return value
        try:
            return Duration(MAX_DURATION)(value)
        except InvalidValue as error:
            self.fail(f'{value!r}: expected {error.allowed}', param, ctx)


class _Time(click.ParamType):
    """An ISO 8601 date, or date and time (UTC without an offset)."""

    name = 'date'

    def __init__(self, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return parse_time(value, end_of_day=self.end_of_day)
        except ValueError as error:
            self.fail(str(error), param, ctx)


SINCE = click.option('--since', type=_Time(), help=_(
    'Only events from this date or time on (ISO 8601, UTC).'))
UNTIL = click.option('--until', type=_Time(end_of_day=True), help=_(
    'Only events up to this date (included) or time.'))


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, cls=ExtendedEncoder)


@click.group(
    context_settings={'help_option_names': ['-h', '--help']},
    help=_("""\
    Bounce processing (mailman-bounces): bounce events, members' bounce
    standing, bounce settings, the periodic pass, reports, outage
    freezes, bounce mailboxes, classification rules and message
    tracking."""))
def bounces():
    pass


@bounces.command(help=_('Show bounce events, newest first.'))
@list_option(_('Only this list (list-id or posting address).'))
@click.option('--address', '-a', help=_('Only this recipient address.'))
@click.option('--domain', help=_('Only this recipient domain.'))
@click.option('--reason', type=click.Choice(sorted(REASONS)))
@click.option('--severity', type=click.Choice(SEVERITIES))
@click.option('--kind', type=click.Choice(KINDS))
@click.option('--context', type=click.Choice(CONTEXTS),
              help=_('normal bounces or answers to probes.'))
@click.option('--processed/--unprocessed', default=None,
              help=_('Only events the pass did (or did not) process.'))
@click.option('--outcome', help=_('Only this outcome (scored, ignored...).'))
@click.option('--evidence', type=click.Choice(EVIDENCE),
              help=_('Only events on this evidence.'))
@SINCE
@UNTIL
@click.option('--limit', '-n', type=click.IntRange(min=1), default=50,
              show_default=True, help=_('Show at most this many.'))
@click.option('--json', 'as_json', is_flag=True,
              help=_('Print the events as JSON.'))
def events(listspec, address, domain, reason, severity, kind, context,
           processed, outcome, evidence, since, until, limit, as_json):
    where = EventFilter(
        list_id=listspec and list_id_of(listspec), email=address,
        domain=domain, reason=reason, severity=severity, kind=kind,
        context=context and BounceContext[context], processed=processed,
        outcome=outcome, evidence=evidence, since=since, until=until)
    page = find_events(where, count=limit, page=1)
    found = [EVENT_FIELDS.values(event) for event, _stored in page.rows]
    if as_json:
        click.echo(_json(found))
        return
    if not found:
        click.echo('No bounce events')
        return
    rows = [(e['id'], when(e['timestamp']), e['list_id'], e['email'],
             e['kind'], e['severity'], e['reason'], e['evidence'],
             e['outcome'] or '-')
            for e in found]
    for line in table(('ID', 'TIME', 'LIST', 'ADDRESS', 'KIND', 'SEVERITY',
                       'REASON', 'EVIDENCE', 'OUTCOME'), rows):
        click.echo(line)
    if page.total_size > len(found):
        click.echo(f'({len(found)} of {page.total_size} events; '
                   'see --limit)')


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if value is None:
        return '(none)'
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (timedelta, Enum)):
        # As Mailman's REST API shows it.
        return _ENCODER.default(value)
    return str(value)


@bounces.command(help=_("A list's bounce settings and bouncing members."))
@list_option(_('The list (list-id or posting address).'), required=True)
def status(listspec):
    mlist = mailing_list(listspec)
    values = get_settings(mlist)
    click.echo(f'{mlist.display_name} <{mlist.posting_address}> '
               f'({mlist.list_id})')
    click.echo(
        f"Bounce processing: {_setting_text(values['process_bounces'])}; "
        f"score mode {values['score_mode']}, threshold "
        f"{_setting_text(policy_for(mlist).threshold)}, stale after "
        f"{_setting_text(values['bounce_info_stale_after'])}; "
        f"{values['bounce_you_are_disabled_warnings']} warnings every "
        f"{_setting_text(values['bounce_you_are_disabled_warnings_interval'])}")
    page = find_members(mlist.list_id, bouncing=True)
    total = find_members(mlist.list_id, count=0).total_size
    click.echo(f'Bouncing members: {page.total_size} of {total}')
    rows = []
    for row in page.rows:
        member = STANDING_FIELDS.values(row)
        rows.append((member['email'], f"{member['score']:g}",
                     member['delivery_status'],
                     when(member['last_bounce_received']),
                     member['disabled_reason'] or member['last_reason']
                     or '-'))
    if rows:
        for line in table(('ADDRESS', 'SCORE', 'DELIVERY', 'LAST BOUNCE',
                           'REASON'), rows):
            click.echo('    ' + line)


@bounces.command(help=_(
    "Re-enable a member's delivery and clear their bounce score."))
@list_option(_('The list (list-id or posting address).'), required=True)
@click.argument('address')
def reset(listspec, address):
    mlist = mailing_list(listspec)
    row = find_member(mlist.list_id, address)
    if row is None:
        raise click.UsageError(
            f'{address} is not a member of {mlist.list_id}')
    if reenable_member(member_object(row)):
        click.echo(f'Delivery to {row.email} on {mlist.list_id} '
                   're-enabled; score cleared')
    else:
        click.echo(f'Score of {row.email} on {mlist.list_id} cleared '
                   '(delivery was not disabled by bounces)')


def _settings_changes(assignments, resets) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition('=')
        if not equals:
            raise click.UsageError(
                f'--set expects name=value, not {assignment!r}')
        changes[name.strip()] = value.strip()
    for name in resets:
        if name not in RESETTABLE:
            raise click.UsageError(
                f'--reset: {name!r} has no site default; plugin settings '
                'are: ' + ', '.join(RESETTABLE))
        if name in changes:
            raise click.UsageError(f'{name} is both set and reset')
        changes[name] = None
    return changes


def _print_settings(mlist) -> None:
    values = get_settings(mlist)
    overridden = overridden_settings(mlist)
    weights = values.pop(WEIGHTS.name)
    width = max(len(name) for name in values)
    for name, value in values.items():
        where = ('' if name in CORE_SETTINGS else
                 '  (list)' if name in overridden else '  (site default)')
        click.echo(f'{name.ljust(width)}  {_setting_text(value)}{where}')
    where = '(list)' if WEIGHTS.name in overridden else '(site default)'
    click.echo(f'{WEIGHTS.name} {where}:')
    pairs = ', '.join(f'{reason}={weight:g}'
                      for reason, weight in weights.items())
    click.echo(textwrap.fill(pairs, 78, initial_indent='    ',
                             subsequent_indent='    '))


@bounces.command(help=_("""\
    Show a list's bounce settings, or change them: all the changes are
    checked first, and none is made unless all are valid."""))
@list_option(_('The list (list-id or posting address).'), required=True)
@click.option('--set', 'assignments', multiple=True, metavar='NAME=VALUE',
              help=_('Change a setting (repeatable).'))
@click.option('--reset', 'resets', multiple=True, metavar='NAME',
              help=_('Put a plugin setting back to the site default '
                     '(repeatable).'))
@click.option('--json', 'as_json', is_flag=True,
              help=_('Print the settings as JSON.'))
def settings(listspec, assignments, resets, as_json):
    mlist = mailing_list(listspec)
    changes = _settings_changes(assignments, resets)
    if changes:
        try:
            # Nothing is written unless every change is valid.
            change_settings(mlist, changes)
        except SettingError as error:
            raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(_json({**get_settings(mlist),
                          'overridden': overridden_settings(mlist)}))
        return
    _print_settings(mlist)


def _print_pass(report: PassReport) -> None:
    click.echo(f'Events processed: {report.events} '
               f'(in {report.batches} batch(es))')
    for outcome, number in sorted(report.outcomes.items()):
        click.echo(f'    {outcome}: {number}')
    for label, number in (
            ('Outage freezes started', report.freezes),
            ('Warnings sent', report.warnings),
            ('Members removed', report.removals),
            ('Probes expired', report.probes_expired),
            ('Members disabled elsewhere adopted', report.adopted),
            ('Old rows evicted', report.evicted),
            ('Notices sent', report.notices)):
        click.echo(f'{label}: {number}')


@bounces.command(help=_('Run the periodic bounce pass now.'))
def process():
    _print_pass(run_pass())


def _number(count: int, noun: str, plural: str | None = None) -> str:
    return f'{count} ' + (noun if count == 1 else plural or noun + 's')


def _counts_text(counts: dict[str, int]) -> str:
    return (f"{_number(counts['events'], 'event')} from "
            f"{_number(counts['addresses'], 'address', 'addresses')}"
            f" ({counts['hard']} hard, {counts['soft']} soft, "
            f"{_number(counts['complaints'], 'complaint')}; "
            f"{counts['verified']} verified, {counts['unverified']} "
            f"unverified, {counts['forged']} forged)")


def _freeze_line(values: dict[str, Any]) -> str:
    where = values['list_id'] or 'the whole site'
    state = ('until ' + when(values['expires']) if values['active']
             else 'lifted ' + when(values['lifted']) if values['lifted']
             else 'ended ' + when(values['expires']))
    if values['capped']:
        state += ', at the limit of unconfirmed freezes'
    elif values['confirmed_until']:
        state += ', confirmed until ' + when(values['confirmed_until'])
    return (f"#{values['id']} {values['key_type']} {values['key']} on "
            f"{where}, {state} ({values['bouncing']} bouncing of "
            f"{values['members']} members)")


def _print_report(where: EventFilter) -> None:
    stats = event_stats(where)
    scope = where.list_id or 'all lists'
    click.echo(f'Bounce report for {scope}, from '
               f"{when(where.since) if where.since else 'the start'} to "
               f"{when(where.until) if where.until else 'now'}")
    click.echo('Total: ' + _counts_text(stats['totals']))
    per_list: dict[str, list[dict]] = {}
    for row in list_reasons(where):
        per_list.setdefault(row['list_id'], []).append(row)
    disabled = disabled_counts(sorted(per_list))
    for entry in stats['lists']:
        list_id = entry['list_id']
        click.echo('')
        click.echo(f'{list_id}: {_counts_text(entry)}; '
                   f'{disabled.get(list_id, 0)} members disabled by bounces')
        rows = [(row['reason'], row['events'], row['addresses'],
                 row['hard'], row['soft']) for row in per_list[list_id]]
        for line in table(('REASON', 'EVENTS', 'ADDRESSES', 'HARD',
                           'SOFT'), rows):
            click.echo('    ' + line)
    time = now()
    freezes = find_freezes(time, list_id=where.list_id).rows
    click.echo('')
    click.echo(f'Outage freezes in force: {len(freezes)}')
    for freeze, in freezes:
        click.echo('    ' + _freeze_line(FREEZE_FIELDS.values(freeze, time)))


@bounces.command(help=_("""\
    A per-list summary of bounce events by reason and severity, disabled
    members and outage freezes; optionally a plot of bounces per day."""))
@list_option(_('Only this list (list-id or posting address).'))
@SINCE
@UNTIL
@click.option('--days', type=click.IntRange(1, MAX_DURATION.days),
              help=_('Only the last so many days, today included.'))
@click.option('--plot', type=click.Path(dir_okay=False, path_type=Path),
              help=_('Also draw bounces per day by reason into this PNG or '
                     'SVG file (by its extension; needs matplotlib).'))
def report(listspec, since, until, days, plot):
    if plot is not None and plot.suffix[1:].lower() not in PLOT_FORMATS:
        raise click.UsageError(
            f'--plot: {plot.name}: the file name must end in .png or .svg')
    where = EventFilter(list_id=listspec and list_id_of(listspec),
                        since=recent(since, days, now()), until=until)
    _print_report(where)
    if plot is not None:
        title = f"Bounces per day by reason: {where.list_id or 'all lists'}"
        try:
            plot_daily_reasons(daily_reasons(where), title, plot)
        except PlottingUnavailable as error:
            raise click.ClickException(str(error)) from None
        click.echo(f'Plot written to {plot}')


def _confirm(freeze_id: int, time) -> None:
    try:
        freeze = confirm_freeze(freeze_id, time, by='cli')
    except CannotConfirm as error:
        raise click.UsageError(str(error)) from None
    if freeze is None:
        raise click.UsageError(f'No such freeze: {freeze_id}')
    click.echo(f'Freeze {freeze_id} confirmed: it may go on until '
               f'{when(freeze.confirmed_until)}')


@bounces.command(help=_('Show outage freezes; lift or confirm one.'))
@click.option('--all', 'history', is_flag=True,
              help=_('Also show ended and lifted freezes.'))
@click.option('--lift', type=int, metavar='ID',
              help=_('Lift this freeze now: the events it held are scored '
                     'at the next pass.'))
@click.option('--confirm', type=int, metavar='ID',
              help=_("Confirm this freeze is an outage: it may go on for "
                     "another [outage]max_unconfirmed (and is back in force "
                     "if that limit ended it)."))
def freezes(history, lift, confirm):
    time = now()
    if lift is not None and confirm is not None:
        raise click.UsageError('--lift and --confirm exclude each other')
    if confirm is not None:
        _confirm(confirm, time)
        return
    if lift is not None:
        freeze = config.db.store.get(OutageFreeze, lift)
        if freeze is None:
            raise click.UsageError(f'No such freeze: {lift}')
        if not freeze.in_force_at(time):
            click.echo(f'Freeze {lift} had already ended')
            return
        lift_freeze(lift, time, by='cli')
        click.echo(f'Freeze {lift} lifted; the events it held are scored '
                   'at the next pass')
        return
    found = find_freezes(time, history=history).rows
    if not found:
        click.echo('No outage freezes' if history
                   else 'No outage freezes in force')
        return
    for freeze, in found:
        click.echo(_freeze_line(FREEZE_FIELDS.values(freeze, time)))


@bounces.group(help=_('The keys signing return paths (signed VERP).'))
def keys():
    pass


def _print_keys() -> None:
    time = now()
    rows = [(key.id, when(key.created),
             'signing' if key.retires is None
             else f'verifies until {when(key.retires)}'
             if key.retires > time else f'retired {when(key.retires)}')
            for key in list_keys()]
    for line in table(('ID', 'CREATED', 'STATE'), rows):
        click.echo(line)


@keys.command('list', help=_('Show the signing keys (never their secrets).'))
def keys_list():
    ensure_key()
    _print_keys()


@keys.command('rotate', help=_("""\
    Add a signing key; the keys signing until now keep verifying bounces
    for the overlap ([bounces]verp_key_overlap unless given)."""))
@click.option('--overlap', type=_Duration(), metavar='DURATION',
              help=_('How long the older keys keep verifying (e.g. 30d).'))
def keys_rotate(overlap):
    key = rotate_keys(overlap if overlap is not None
                      else site_config().verp_key_overlap)
    click.echo(f'Key {key.id} signs from now on')
    _print_keys()


bounces.add_command(mailboxes)
bounces.add_command(rules)
bounces.add_command(tracking)


@public
@implementer(ICLISubCommand)
class Bounces:
    """The ``mailman bounces`` command."""

    name = 'bounces'
    command = bounces


@bounces.group(help=_('The outbound callback outbox.'))
def callbacks():
    pass


@callbacks.command('list', help=_('Show callbacks, oldest first.'))
@click.option('--state', type=click.Choice(CALLBACK_STATES),
              help=_('Only callbacks in this state (dead: dead letters).'))
def callbacks_list(state):
    for row, in find_callbacks(state).rows:
        click.echo(f'#{row.id} {row.state} {row.event_type} to '
                   f'{row.endpoint} ({row.attempts} attempts, last '
                   f'{row.last_status or row.last_error or "-"})')


@callbacks.command(help=_(
    'Make dead-lettered callbacks due again (all, or those given by id).'))
@click.argument('ids', nargs=-1, type=click.IntRange(min=1))
def replay(ids):
    count = replay_callbacks(ids or None)
    config.db.commit()
    click.echo(_('$count callbacks to send again').replace(
        '$count', str(count)))


@callbacks.command(help=_(
    "Show the site's callback endpoints, and which a 410 answer disabled."))
def endpoints():
    for key, url, disabled in site_endpoints():
        click.echo(f'{key} {url} '
                   f'{"disabled: " + disabled if disabled else "enabled"}')


@callbacks.command(help=_(
    'Enable again an endpoint a 410 answer disabled: site:NAME (a '
    '[callback.NAME] section) or list:ID.  Its dead letters stay dead '
    'until replayed.'))
@click.argument('endpoint')
def enable(endpoint):
    try:
        enabled = enable_endpoint(endpoint)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    config.db.commit()
    if enabled:
        click.echo(_('$endpoint enabled').replace('$endpoint', endpoint))
    else:
        click.echo(_('$endpoint was not disabled').replace(
            '$endpoint', endpoint))
