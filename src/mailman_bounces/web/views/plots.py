"""Charts of bounces per day, stacked by severity and reason, as SVG."""

from __future__ import annotations

from io import BytesIO

from django.http import HttpResponse
from django.utils.translation import gettext as _

from mailman_bounces.utilities.plotting import (
    PlottingUnavailable,
    plot_daily_reasons,
)

# How many days a chart shows.
DAYS = 30


def svg_response(entries: list[dict], title: str) -> HttpResponse:
    """The chart of ``frontend/daily`` `entries`."""
    counts = [(entry['day'], f"{entry['severity']} {entry['reason']}",
               entry['events']) for entry in entries]
    target = BytesIO()
    try:
        plot_daily_reasons(counts, title, target, kind='svg',
                           ylabel=_('events'), empty=_('No bounces'))
    except PlottingUnavailable as error:
        return HttpResponse(str(error), status=501,
                            content_type='text/plain')
    response = HttpResponse(target.getvalue(), content_type='image/svg+xml')
    # Drawn from the list's data: no caching between users.
    response['Cache-Control'] = 'private, max-age=60'
    return response
