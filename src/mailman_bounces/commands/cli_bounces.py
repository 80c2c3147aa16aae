"""The ``mailman bounces`` command.

Mailman finds it through the plugin's component package: every
`ICLISubCommand` in ``mailman_bounces.commands`` becomes a ``mailman``
subcommand.  Mailman's ``mailman`` group runs it in a database
transaction, committed when it succeeds and aborted when it fails, so a
refused change leaves nothing behind.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from mailman.config import config
from mailman.core.i18n import _
from mailman.interfaces.bounce import BounceContext
from mailman.interfaces.command import ICLISubCommand
from mailman.utilities.datetime import now
from public import public
from zope.interface import implementer

from mailman_bounces.app.bounce_pass import PassReport, run_pass
from mailman_bounces.app.outage import lift_freeze
from mailman_bounces.app.queries import (
    CONTEXTS,
    KINDS,
    RESETTABLE,
    SEVERITIES,
    EventFilter,
    daily_reasons,
    disabled_counts,
    event_fields,
    event_stats,
    find_events,
    find_freezes,
    find_list,
    find_member,
    find_members,
    freeze_fields,
    list_id_of,
    list_reasons,
    member_object,
    parse_time,
    recent,
    standing_fields,
)
from mailman_bounces.app.reenable import reenable_member
from mailman_bounces.app.settings import (
    change_settings,
    get_settings,
    overridden_settings,
)
from mailman_bounces.detect import REASONS
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.policy.settings import CORE_FIELDS, SettingError

PLOT_FORMATS = ('png', 'svg')


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


def _mailing_list(spec: str):
    mlist = find_list(spec)
    if mlist is None:
        raise click.UsageError(f'No such list: {spec}')
    return mlist


def _when(value: datetime | None) -> str:
    return '-' if value is None else f'{value:%Y-%m-%d %H:%M:%S}'


def _plain(value: Any) -> Any:
    """JSON for what the queries return (times as ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    """Left-aligned columns, as wide as their widest cell."""
    cells = [header, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[index]) for row in cells)
              for index in range(len(header))]
    return ['  '.join(cell.ljust(width) for cell, width
                      in zip(row, widths, strict=True)).rstrip()
            for row in cells]


@click.group(
    context_settings={'help_option_names': ['-h', '--help']},
    help=_("""\
    Bounce processing (mailman-bounces): bounce events, members' bounce
    standing, bounce settings, the periodic pass, reports and outage
    freezes."""))
def bounces():
    pass


@bounces.command(help=_('Show bounce events, newest first.'))
@click.option('--list', '-l', 'list_spec',
              help=_('Only this list (list-id or posting address).'))
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
@SINCE
@UNTIL
@click.option('--limit', '-n', type=click.IntRange(min=1), default=50,
              show_default=True, help=_('Show at most this many.'))
@click.option('--json', 'as_json', is_flag=True,
              help=_('Print the events as JSON.'))
def events(list_spec, address, domain, reason, severity, kind, context,
           processed, outcome, since, until, limit, as_json):
    where = EventFilter(
        list_id=list_spec and list_id_of(list_spec), email=address,
        domain=domain, reason=reason, severity=severity, kind=kind,
        context=context and BounceContext[context], processed=processed,
        outcome=outcome, since=since, until=until)
    page = find_events(where, count=limit, page=1)
    found = [event_fields(event) for event, _stored in page.rows]
    if as_json:
        click.echo(json.dumps(found, indent=2, default=_plain))
        return
    if not found:
        click.echo('No bounce events')
        return
    rows = [(e['id'], _when(e['timestamp']), e['list_id'], e['email'],
             e['kind'], e['severity'], e['reason'], e['outcome'] or '-')
            for e in found]
    for line in _table(('ID', 'TIME', 'LIST', 'ADDRESS', 'KIND', 'SEVERITY',
                        'REASON', 'OUTCOME'), rows):
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
    return str(value)


@bounces.command(help=_("A list's bounce settings and bouncing members."))
@click.argument('listspec')
def status(listspec):
    mlist = _mailing_list(listspec)
    values = get_settings(mlist)
    click.echo(f'{mlist.display_name} <{mlist.posting_address}> '
               f'({mlist.list_id})')
    threshold = (values['score_threshold']
                 or values['bounce_score_threshold'])
    click.echo(
        f"Bounce processing: {_setting_text(values['process_bounces'])}; "
        f"score mode {values['score_mode']}, threshold "
        f"{_setting_text(threshold)}, "
        f"stale after {values['bounce_info_stale_after']}; "
        f"{values['bounce_you_are_disabled_warnings']} warnings every "
        f"{values['bounce_you_are_disabled_warnings_interval']}")
    page = find_members(mlist.list_id, bouncing=True)
    total = find_members(mlist.list_id, count=0).total_size
    click.echo(f'Bouncing members: {page.total_size} of {total}')
    rows = []
    for row in page.rows:
        member = standing_fields(row)
        rows.append((member['email'], f"{member['score']:g}",
                     member['delivery_status'],
                     _when(member['last_bounce_received']),
                     member['disabled_reason'] or member['last_reason']
                     or '-'))
    if rows:
        for line in _table(('ADDRESS', 'SCORE', 'DELIVERY', 'LAST BOUNCE',
                            'REASON'), rows):
            click.echo('    ' + line)


@bounces.command(help=_(
    "Re-enable a member's delivery and clear their bounce score."))
@click.argument('listspec')
@click.argument('address')
def reset(listspec, address):
    mlist = _mailing_list(listspec)
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
    width = max(len(name) for name in values)
    for name, value in values.items():
        if name == 'weights':
            continue
        where = ('' if name in CORE_FIELDS else
                 '  (list)' if name in overridden else '  (site default)')
        click.echo(f'{name.ljust(width)}  {_setting_text(value)}{where}')
    where = '(list)' if 'weights' in overridden else '(site default)'
    click.echo(f'weights {where}:')
    pairs = ', '.join(f'{reason}={weight:g}'
                      for reason, weight in values['weights'].items())
    click.echo(textwrap.fill(pairs, 78, initial_indent='    ',
                             subsequent_indent='    '))


@bounces.command(help=_("""\
    Show a list's bounce settings, or change them: all the changes are
    checked first, and none is made unless all are valid."""))
@click.argument('listspec')
@click.option('--set', 'assignments', multiple=True, metavar='NAME=VALUE',
              help=_('Change a setting (repeatable).'))
@click.option('--reset', 'resets', multiple=True, metavar='NAME',
              help=_('Put a plugin setting back to the site default '
                     '(repeatable).'))
@click.option('--json', 'as_json', is_flag=True,
              help=_('Print the settings as JSON.'))
def settings(listspec, assignments, resets, as_json):
    mlist = _mailing_list(listspec)
    changes = _settings_changes(assignments, resets)
    if changes:
        try:
            # Nothing is written unless every change is valid.
            change_settings(mlist, changes)
        except SettingError as error:
            raise click.UsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps({**get_settings(mlist),
                               'overridden': overridden_settings(mlist)},
                              indent=2))
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
            f"{_number(counts['complaints'], 'complaint')})")


def _freeze_line(values: dict[str, Any]) -> str:
    where = values['list_id'] or 'the whole site'
    state = ('until ' + _when(values['expires']) if values['active']
             else 'lifted ' + _when(values['lifted']) if values['lifted']
             else 'ended ' + _when(values['expires']))
    return (f"#{values['id']} {values['key_type']} {values['key']} on "
            f"{where}, {state} ({values['bouncing']} bouncing of "
            f"{values['members']} members)")


def _print_report(where: EventFilter) -> None:
    stats = event_stats(where)
    scope = where.list_id or 'all lists'
    click.echo(f'Bounce report for {scope}, from '
               f"{_when(where.since) if where.since else 'the start'} to "
               f"{_when(where.until) if where.until else 'now'}")
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
        for line in _table(('REASON', 'EVENTS', 'ADDRESSES', 'HARD',
                            'SOFT'), rows):
            click.echo('    ' + line)
    when = now()
    freezes = find_freezes(when, list_id=where.list_id).rows
    click.echo('')
    click.echo(f'Outage freezes in force: {len(freezes)}')
    for freeze, in freezes:
        click.echo('    ' + _freeze_line(freeze_fields(freeze, when)))


def _every_day(days: list[str]) -> list[str]:
    """The days from the first to the last of `days`, gaps included."""
    if not days:
        return []
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    return [(first + timedelta(days=number)).isoformat()
            for number in range((last - first).days + 1)]


def _plot(where: EventFilter, path: Path) -> None:
    """Bounces per day, stacked by reason."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise click.ClickException(
            'Plotting needs matplotlib (pip install mailman-bounces[plot])'
        ) from None
    counts = daily_reasons(where)
    reasons = sorted({reason for _, reason, _ in counts})
    days = _every_day(sorted({day for day, _, _ in counts}))
    figure = Figure(figsize=(10, 5), layout='constrained')
    axes = figure.subplots()
    bottoms = [0] * len(days)
    for reason in reasons:
        heights = [0] * len(days)
        for day, name, number in counts:
            if name == reason:
                heights[days.index(day)] = number
        axes.bar(days, heights, bottom=bottoms, label=reason)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_title(f"Bounces per day by reason: {where.list_id or 'all lists'}")
    axes.set_ylabel('events')
    if reasons:
        axes.legend(fontsize='small')
        axes.tick_params(axis='x', labelrotation=45)
    else:
        axes.text(0.5, 0.5, 'No bounces', ha='center',
                  transform=axes.transAxes)
    # The Agg canvas for PNG, matplotlib's SVG writer for SVG; no pyplot,
    # so nothing global changes in Mailman's process.
    figure.savefig(path, format=path.suffix[1:].lower(),
                   metadata={'Date': None} if path.suffix.lower() == '.svg'
                   else None)


@bounces.command(help=_("""\
    A per-list summary of bounce events by reason and severity, disabled
    members and outage freezes; optionally a plot of bounces per day."""))
@click.option('--list', '-l', 'list_spec',
              help=_('Only this list (list-id or posting address).'))
@SINCE
@UNTIL
@click.option('--days', type=click.IntRange(1, 36500),
              help=_('Only the last so many days, today included.'))
@click.option('--plot', type=click.Path(dir_okay=False, path_type=Path),
              help=_('Also draw bounces per day by reason into this PNG or '
                     'SVG file (by its extension).'))
def report(list_spec, since, until, days, plot):
    if plot is not None and plot.suffix[1:].lower() not in PLOT_FORMATS:
        raise click.UsageError(
            f'--plot: {plot.name}: the file name must end in .png or .svg')
    where = EventFilter(list_id=list_spec and list_id_of(list_spec),
                        since=recent(since, days, now()), until=until)
    _print_report(where)
    if plot is not None:
        _plot(where, plot)
        click.echo(f'Plot written to {plot}')


@bounces.command(help=_('Show outage freezes, or lift one early.'))
@click.option('--all', 'history', is_flag=True,
              help=_('Also show ended and lifted freezes.'))
@click.option('--lift', type=int, metavar='ID',
              help=_('Lift this freeze now: the events it held are scored '
                     'at the next pass.'))
def freezes(history, lift):
    when = now()
    if lift is not None:
        freeze = config.db.store.get(OutageFreeze, lift)
        if freeze is None:
            raise click.UsageError(f'No such freeze: {lift}')
        if not freeze_fields(freeze, when)['active']:
            click.echo(f'Freeze {lift} had already ended')
            return
        lift_freeze(lift, when, by='cli')
        click.echo(f'Freeze {lift} lifted; the events it held are scored '
                   'at the next pass')
        return
    found = find_freezes(when, history=history).rows
    if not found:
        click.echo('No outage freezes' if history
                   else 'No outage freezes in force')
        return
    for freeze, in found:
        click.echo(_freeze_line(freeze_fields(freeze, when)))


@public
@implementer(ICLISubCommand)
class Bounces:
    """The ``mailman bounces`` command."""

    name = 'bounces'
    command = bounces
