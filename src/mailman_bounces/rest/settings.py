"""A list's bounce settings: ``lists/<list>/settings``.

GET shows every bounce setting, core's and the plugin's, encoded like core
shows its own (durations as in ``/lists/<list>/config``).  PATCH changes
some of them and PUT all of them, with form or JSON bodies, answering like
core's list configuration resource.  Every value is checked before anything
is written, and a refused request changes nothing.  What the resource shows
and accepts is described from the settings' own definitions.
"""

from __future__ import annotations

from typing import Any

from mailman.config import config
from mailman.rest.helpers import bad_request, no_content, okay
from public import public

from mailman_bounces.app.settings import (
    change_settings,
    get_settings,
    overridden_settings,
)
from mailman_bounces.fields import LINK, STRING, Field, Shape, array, choice
from mailman_bounces.policy.settings import (
    CORE_SETTINGS,
    RESETTABLE,
    SETTINGS,
    Setting,
    SettingError,
)
from mailman_bounces.rest.helpers import etag, path_to, read_body
from mailman_bounces.validators import echoed


def _described(setting: Setting) -> str:
    origin = 'Core' if setting.name in CORE_SETTINGS else 'Plugin'
    return f'{setting.doc} ({origin} setting.)'


_RESETTABLE_NAMES = array(choice(RESETTABLE))

# The settings resource, read from a mapping of its values.
SETTINGS_RESOURCE = Shape(*(
    Field(name, setting.parse.shown(), _described(setting))
    for name, setting in SETTINGS.items())) + Shape(
    Field('list_id', STRING),
    Field('overridden', _RESETTABLE_NAMES,
          'Plugin settings the list set itself.'),
    Field('inherited', _RESETTABLE_NAMES,
          'Plugin settings following the site default.'),
    Field('self_link', LINK),
)
# Shown by GET, never written.
READ_ONLY = (*(name for name in SETTINGS_RESOURCE.names
               if name not in SETTINGS), 'http_etag')

_EMPTY = {'type': 'string', 'maxLength': 0}


def _accepted(setting: Setting, form: bool) -> dict[str, Any]:
    schema = setting.parse.form() if form else setting.parse.accepted()
    schema = {**schema, 'description': _described(setting)}
    if setting.name not in RESETTABLE:
        return schema
    # Empty (or null in JSON): back to the site default.
    if form:
        return {'anyOf': [schema, _EMPTY]}
    return {'anyOf': [schema, _EMPTY], 'nullable': True}


@public
def settings_change_schema(*, form: bool, replace: bool) -> dict[str, Any]:
    """The JSON Schema of a PATCH (or with `replace` a PUT) body, JSON or
    `form` encoded."""
    schema = {'type': 'object',
              'properties': {name: _accepted(setting, form)
                             for name, setting in SETTINGS.items()},
              'additionalProperties': False}
    if replace:
        schema['required'] = list(SETTINGS)
    return schema


@public
def settings_as_dict(mlist, api) -> dict:
    """Every bounce setting of `mlist`, and which of the plugin's settings
    the list set itself (`overridden`) or takes from the site
    (`inherited`)."""
    overridden = overridden_settings(mlist)
    return SETTINGS_RESOURCE.values({
        **get_settings(mlist),
        'list_id': mlist.list_id,
        'overridden': overridden,
        'inherited': [name for name in RESETTABLE if name not in overridden],
        'self_link': path_to(api, f'lists/{mlist.list_id}/settings'),
    })


def _refusal(values: dict[str, Any], replace: bool) -> str | None:
    """What core's list configuration would say about the names given."""
    if replace:
        # Like its PUT (core's Validator): extra names, then missing ones.
        unexpected = sorted(name for name in values if name not in SETTINGS)
        if unexpected:
            return echoed('Unexpected parameters: ' + ', '.join(unexpected))
        missing = [name for name in SETTINGS if name not in values]
        if missing:
            return 'Missing Parameter: ' + ', '.join(missing)
        return None
    # Like its PATCH (core's PatchValidator): the first wrong name.
    for name in values:
        if name in READ_ONLY:
            return f'Read-only attribute: {name}'
        if name not in SETTINGS:
            return f'Unknown attribute: {echoed(name)}'
    return None


@public
class ListSettings:
    """/plugins/bounces/lists/<list>/settings"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """Every bounce setting of the list."""
        okay(response, etag(settings_as_dict(self._mlist, self.api)))

    def on_patch(self, request, response):
        """Change the settings given; a plugin setting given as empty (or
        null) goes back to the site default.  Weights are merged into the
        list's own."""
        self._change(request, response, replace=False)

    def on_put(self, request, response):
        """Set every setting; the weights given replace the list's own."""
        self._change(request, response, replace=True)

    def _change(self, request, response, replace: bool) -> None:
        values = read_body(request, response)
        if values is None:
            return
        refusal = _refusal(values, replace)
        if refusal is not None:
            bad_request(response, refusal)
            return
        try:
            change_settings(self._mlist, values, replace_weights=replace)
        except SettingError as error:
            # Nothing was written; still, the REST transaction commits
            # whatever a request leaves, and a refused one must leave
            # nothing.
            config.db.abort()
            bad_request(response, str(error))
            return
        no_content(response)
