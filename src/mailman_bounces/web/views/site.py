"""The site admin's view of bounces across lists."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from postorius.auth.decorators import superuser_required

from mailman_bounces.web import client
from mailman_bounces.web.views.plots import DAYS, svg_response

# How many recipient domains and lists the page shows.
TOP = 15
# The periods, in days, the evidence volume is counted over.
EVIDENCE_PERIODS = (7, 30)


@require_GET
@superuser_required
def site_bounces(request):
    """Lists with the most bouncing members, freezes, reasons and
    domains of the last days; the volume of forged and unverified
    bounces, the callback endpoints and their outbox, and the bounce
    mailboxes when the plugin has them."""
    stats = client.get('stats', days=DAYS, top=TOP)
    freezes = client.get('freezes', all='true', count=20, page=1)
    endpoints = client.get('frontend/callbacks')['entries']
    return render(request, 'bounces/site.html', {
        'lists': client.get('frontend/lists')['entries'][:TOP],
        'stats': stats, 'freezes': freezes['entries'], 'days': DAYS,
        'evidence': _evidence_volume(), 'endpoints': endpoints,
        'outbox': _outbox_totals(), 'mailboxes': _mailboxes()})


def _evidence_volume() -> list[dict]:
    """Events on verified, unverified and forged evidence, site-wide, over
    each of `EVIDENCE_PERIODS`."""
    volume = []
    for days in EVIDENCE_PERIODS:
        totals = client.get('stats', days=days, top=1)['totals']
        volume.append({'days': days, **{
            name: totals[name]
            for name in ('events', 'verified', 'unverified', 'forged')}})
    return volume


def _outbox_totals() -> dict[str, int]:
    """How many callbacks are pending and dead, site-wide (the outbox's
    own counts, whichever endpoint they are for)."""
    return {state: client.get('callbacks', state=state, count=1,
                              page=1)['total_size']
            for state in ('pending', 'dead')}


def _mailboxes() -> list[dict] | None:
    """The bounce mailboxes and how their polling goes; None when this
    Mailman's plugin has no mailboxes resource."""
    try:
        return client.get('mailboxes')['entries']
    except client.HTTPError as error:
        if error.code == 404:
            return None
        raise


@require_GET
@superuser_required
def site_plot(request):
    """The chart of the site's bounces per day."""
    daily = client.get('frontend/daily', days=DAYS)
    return svg_response(daily['entries'], _('Bounces per day, all lists'))
