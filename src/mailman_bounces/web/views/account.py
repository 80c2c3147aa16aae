"""A logged-in user's own bounce standing, per subscription, on their
Postorius account pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_mailman3.lib.mailman import get_mailman_user

from mailman_bounces.web import client


def _standing(list_id: str, email: str) -> dict | None:
    try:
        return client.get(f'lists/{list_id}/members/{client.quoted(email)}')
    except client.HTTPError as error:
        if error.code == 404:
            return None
        raise


@require_GET
@login_required
def account_bounces(request):
    """The standing of each of the user's subscriptions (as a member)."""
    mm_user = get_mailman_user(request.user)
    rows = []
    for membership in (mm_user.subscriptions if mm_user else []):
        if membership.role != 'member':
            continue
        standing = _standing(membership.list_id, membership.email)
        if standing is not None:
            rows.append({'list_id': membership.list_id,
                         'standing': standing,
                         'scoring': client.get(
                             f'frontend/lists/{membership.list_id}')})
    return render(request, 'bounces/account.html', {'rows': rows})
