"""The members' re-enable page, behind the link of a disabled-delivery
warning (the plugin's ``[bounces]reenable_url``).

GET only shows the subscription (mail scanners follow links); the member
re-enables it with the page's one POST.  A token works once: a used,
expired or unknown one gets a page saying so.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mailman_bounces.web import client


def _invalid(request):
    return render(request, 'bounces/reenable_invalid.html', status=404)


@require_http_methods(['GET', 'POST'])
def reenable(request, token: str):
    """Show what the token re-enables; re-enable it on POST."""
    segment = client.quoted(token)
    try:
        preview = client.get(f'frontend/reenable/{segment}')
    except client.HTTPError as error:
        if error.code == 404:
            return _invalid(request)
        raise
    if request.method == 'GET':
        return render(request, 'bounces/reenable.html',
                      {'preview': preview, 'token': token})
    try:
        done = client.call(f'reenable/{segment}', data={})
    except client.HTTPError as error:
        # Redeemed by someone else between the two calls.
        if error.code == 404:
            return _invalid(request)
        raise
    return render(request, 'bounces/reenabled.html',
                  {'preview': preview, 'done': done})
