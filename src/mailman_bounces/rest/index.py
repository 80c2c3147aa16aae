"""What the plugin's REST root, /3.1/plugins/<plugin name>, shows."""

from __future__ import annotations

from mailman_bounces import __version__
from mailman_bounces.fields import LINK, STRING, Field, Shape
from mailman_bounces.rest.helpers import path_to

__all__ = ['ROOT_RESOURCE']


def _link(path: str):
    return lambda api: path_to(api, path).rstrip('/')


# The root resource, read from the API object.
ROOT_RESOURCE = Shape(
    Field('name', STRING, read=lambda api: 'mailman-bounces'),
    Field('version', STRING, read=lambda api: __version__),
    Field('events_link', LINK, read=_link('events')),
    Field('stats_link', LINK, read=_link('stats')),
    Field('freezes_link', LINK, read=_link('freezes')),
    Field('callbacks_link', LINK, read=_link('callbacks')),
    Field('openapi_link', LINK, read=_link('openapi.json')),
    Field('self_link', LINK, read=_link('')),
)
