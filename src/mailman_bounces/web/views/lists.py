"""A list's Bounces pages, for its owners and moderators and the site's
admins (Postorius' permission decorators): bouncing members, the event
history, one event with its stored message, freezes, a chart and the
list's bounce settings (owners only)."""

from __future__ import annotations

from django.conf import settings as site_settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from postorius.auth.decorators import (
    list_moderator_required,
    list_owner_required,
)
from postorius.views.generic import MailingListView

from mailman_bounces.web import client
from mailman_bounces.web.forms import SettingsForm, setting_schemas
from mailman_bounces.web.views.plots import DAYS, svg_response

# Rows per page, unless the site's settings say otherwise
# (``MAILMAN_BOUNCES_PAGE_SIZE``).
PAGE_SIZE = 25
# Severities an event can have (the REST API's ``severity`` values).
SEVERITIES = ('hard', 'soft', 'none')
# What an event's evidence can be (the REST API's ``evidence`` values).
EVIDENCES = ('verified', 'unverified', 'forged')
# Event filters the page takes, as the REST API names them.
EVENT_FILTERS = ('address', 'reason', 'severity', 'evidence', 'since',
                 'until')
# Recent freezes shown besides those in force.
RECENT_FREEZES = 10


def page_size() -> int:
    """Rows per page of the members and events tables."""
    return int(getattr(site_settings, 'MAILMAN_BOUNCES_PAGE_SIZE',
                       PAGE_SIZE))


def _page_number(request) -> int:
    number = request.GET.get('page', '1')
    return int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1


def _paging(request, content: dict, number: int) -> dict:
    """What the template needs to draw the pager."""
    total = content['total_size']
    pages = max(1, -(-total // page_size()))
    query = request.GET.copy()
    query.pop('page', None)
    return {'number': number, 'pages': pages, 'total': total,
            'previous': number - 1 if number > 1 else None,
            'next': number + 1 if number < pages else None,
            'query': query.urlencode()}


class _ListPage(MailingListView):
    """A page of one list (Postorius' list view: ``self.mailing_list``)."""

    @property
    def list_id(self) -> str:
        return self.mailing_list.list_id

    def settings(self) -> dict:
        return client.get(f'lists/{self.list_id}/settings')

    def show(self, request, template: str, status: int = 200, **context):
        return render(request, f'bounces/{template}',
                      {'list': self.mailing_list, **context}, status=status)


class ListBouncesView(_ListPage):
    """Members bouncing now, freezes and the chart."""

    @method_decorator(list_moderator_required)
    def get(self, request, list_id):
        number = _page_number(request)
        members = client.get(f'lists/{self.list_id}/members',
                             bouncing='true', count=page_size(),
                             page=number)
        entries = self._with_evidence(members['entries'])
        return self.show(
            request, 'list.html', members=entries,
            paging=_paging(request, members, number),
            scoring=client.get(f'frontend/lists/{self.list_id}'),
            freezes=self._freezes(),
            days=DAYS)

    def _with_evidence(self, members: list[dict]) -> list[dict]:
        """The `members` each with the evidence of their events (counts
        per kind, the newest's): one call for the page."""
        if not members:
            return members
        found = client.get(
            f'frontend/lists/{self.list_id}/evidence',
            addresses=','.join(member['email'] for member in members))
        evidence = {entry['email']: entry for entry in found['entries']}
        return [{**member, 'evidence': evidence.get(member['email'].lower())}
                for member in members]

    def _freezes(self) -> list[dict]:
        """Freezes of this list or site-wide: in force, then recent."""
        content = client.get('freezes', all='true', count=100, page=1)
        mine = [freeze for freeze in content['entries']
                if freeze['list_id'] in (None, self.list_id)]
        active = [freeze for freeze in mine if freeze['active']]
        ended = [freeze for freeze in mine if not freeze['active']]
        return active + ended[:RECENT_FREEZES]


class EventsView(_ListPage):
    """The list's event history, filtered and paged."""

    @method_decorator(list_moderator_required)
    def get(self, request, list_id):
        number = _page_number(request)
        filters = {name: request.GET.get(name, '').strip()
                   for name in EVENT_FILTERS}
        stats = client.get('stats', list_id=self.list_id)
        context = {'filters': filters, 'severities': SEVERITIES,
                   'evidences': EVIDENCES,
                   'reasons': sorted(entry['reason']
                                     for entry in stats['reasons']),
                   'events': [], 'error': None}
        try:
            events = client.get('events', list_id=self.list_id,
                                count=page_size(), page=number,
                                **filters)
        except client.HTTPError as error:
            if error.code != 400:
                raise
            # A date the API cannot read: its message, no events.
            context['error'] = error.msg
        else:
            context['events'] = events['entries']
            context['paging'] = _paging(request, events, number)
        return self.show(request, 'events.html', **context)


class EventView(_ListPage):
    """One event and its stored bounce message."""

    @method_decorator(list_moderator_required)
    def get(self, request, list_id, event_id):
        event = client.get_or_404(f'events/{event_id}')
        # An event of another list is not this list's to show.
        if event['list_id'] != self.list_id:
            raise Http404(_('No such event'))
        message = None
        if 'message_link' in event:
            try:
                message = client.get(f'frontend/events/{event_id}/message')
            except client.HTTPError as error:
                # Evicted since the event was read.
                if error.code != 404:
                    raise
        return self.show(request, 'event.html', event=event, message=message)


class ResetView(_ListPage):
    """POST: re-enable a member and clear their score."""

    @method_decorator(list_moderator_required)
    def post(self, request, list_id, email):
        try:
            client.call(f'lists/{self.list_id}/members/'
                        f'{client.quoted(email)}/reset', data={})
        except client.HTTPError as error:
            if error.code != 404:
                raise
            messages.error(request, error.msg)
        else:
            messages.success(request, _(
                'Delivery to %(email)s is enabled and its bounce score '
                'cleared.') % {'email': email})
        return redirect('bounces_list', list_id=self.list_id)


class SettingsView(_ListPage):
    """The list's bounce settings, owners only."""

    def _form(self, data=None) -> SettingsForm:
        schemas = setting_schemas(client.get('openapi.json'))
        return SettingsForm(self.settings(), schemas, data)

    @method_decorator(list_owner_required)
    def get(self, request, list_id):
        return self.show(request, 'settings.html', form=self._form())

    @method_decorator(list_owner_required)
    def post(self, request, list_id):
        form = self._form(request.POST)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, _('Nothing was changed.'))
                return redirect('bounces_settings', list_id=self.list_id)
            try:
                client.call(f'lists/{self.list_id}/settings', data=changes,
                            method='PATCH')
            except client.HTTPError as error:
                if error.code != 400:
                    raise
                form.refused(error.msg)
            else:
                messages.success(request, _('The bounce settings were '
                                            'saved.'))
                return redirect(reverse('bounces_settings',
                                        kwargs={'list_id': self.list_id}))
        return self.show(request, 'settings.html', status=400, form=form)


class PlotView(_ListPage):
    """The chart of the list's bounces per day."""

    @method_decorator(list_moderator_required)
    def get(self, request, list_id):
        daily = client.get('frontend/daily', list_id=self.list_id, days=DAYS)
        return svg_response(daily['entries'], _(
            'Bounces per day on %(list)s') % {'list': self.list_id})
