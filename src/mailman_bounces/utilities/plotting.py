"""Charts of bounces (the ``plot`` extra: matplotlib)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from public import public

# What a chart can be written as, by file name extension.
PLOT_FORMATS = ('png', 'svg')


@public
class PlottingUnavailable(Exception):
    """matplotlib is not installed."""


def _every_day(days: list[str]) -> list[str]:
    """The days from the first to the last of `days`, gaps included."""
    if not days:
        return []
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    return [(first + timedelta(days=number)).isoformat()
            for number in range((last - first).days + 1)]


@public
def plot_daily_reasons(counts: list[tuple[str, str, int]], title: str,
                       path: Path | BinaryIO, kind: str | None = None, *,
                       ylabel: str = 'events',
                       empty: str = 'No bounces') -> None:
    """Draw ``(day, reason, events)`` `counts` as bars per day, stacked by
    reason, into `path`: a file (PNG or SVG, by its extension, or `kind`)
    or a binary stream (of `kind`).  `ylabel` and `empty` (said when there
    is nothing to draw) are the words of the chart, in a caller's
    language.
    :raises PlottingUnavailable: without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlottingUnavailable(
            'Plotting needs matplotlib (pip install mailman-bounces[plot])'
        ) from None
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
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if reasons:
        axes.legend(fontsize='small')
        axes.tick_params(axis='x', labelrotation=45)
    else:
        axes.text(0.5, 0.5, empty, ha='center',
                  transform=axes.transAxes)
    # The Agg canvas for PNG, matplotlib's SVG writer for SVG; no pyplot,
    # so nothing global changes in Mailman's process.
    if kind is None:
        kind = path.suffix[1:].lower()
    figure.savefig(path, format=kind,
                   metadata={'Date': None} if kind == 'svg' else None)
