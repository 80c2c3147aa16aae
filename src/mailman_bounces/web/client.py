"""The plugin's REST API, through mailmanclient's connection.

The site's ``MAILMAN_REST_API_URL``, ``MAILMAN_REST_API_USER`` and
``MAILMAN_REST_API_PASS`` (Postorius' own settings) say where Mailman is.
"""

from __future__ import annotations

from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import Http404
from mailmanclient.restbase.connection import Connection

__all__ = ['HTTPError', 'call', 'get', 'get_or_404', 'path', 'quoted']

# The plugin's REST root under Mailman's API 3.1.
PLUGIN_ROOT = 'plugins/bounces/'


def _connection() -> Connection:
    base = settings.MAILMAN_REST_API_URL.rstrip('/') + '/3.1/'
    return Connection(base, settings.MAILMAN_REST_API_USER,
                      settings.MAILMAN_REST_API_PASS)


def quoted(segment: str) -> str:
    """`segment` (an address, a token) as one path segment."""
    return quote(segment, safe='@+')


def path(resource: str, **query: Any) -> str:
    """The path of a plugin `resource` with the `query` parameters given
    (None values left out)."""
    given = {name: value for name, value in query.items()
             if value not in (None, '')}
    return PLUGIN_ROOT + resource + ('?' + urlencode(given) if given else '')


def call(resource: str, data: dict | None = None,
         method: str | None = None, **query: Any) -> Any:
    """Call `resource`; the JSON answer (None when empty).
    :raises HTTPError: on any other status than 2xx; its ``msg`` is the
        REST API's description of what was wrong."""
    return _connection().call(path(resource, **query), data, method)[1]


def get(resource: str, **query: Any) -> Any:
    return call(resource, **query)


def get_or_404(resource: str, **query: Any) -> Any:
    """GET `resource`; a 404 of the API is this page's 404."""
    try:
        return get(resource, **query)
    except HTTPError as error:
        if error.code == 404:
            raise Http404(error.msg) from None
        raise
