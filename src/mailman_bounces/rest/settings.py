"""A list's bounce settings: ``lists/<list>/settings``.

GET shows every bounce setting, core's and the plugin's.  PATCH changes
some of them and PUT all of them, with form or JSON bodies like core's
list configuration resource.  Every value is checked before anything is
written, and a refused request changes nothing.
"""

from __future__ import annotations

from mailman.config import config
from mailman.rest.helpers import bad_request, etag, no_content, okay
from public import public

from mailman_bounces.app.queries import RESETTABLE
from mailman_bounces.app.settings import (
    SETTING_NAMES,
    change_settings,
    get_settings,
    overridden_settings,
)
from mailman_bounces.policy.settings import SettingError
from mailman_bounces.rest.helpers import path_to, request_values

# Shown by GET, never written.
READ_ONLY = ('list_id', 'overridden', 'inherited', 'self_link', 'http_etag')


@public
def settings_as_dict(mlist, api) -> dict:
    """Every bounce setting of `mlist`, and which of the plugin's settings
    the list set itself (`overridden`) or takes from the site
    (`inherited`)."""
    overridden = overridden_settings(mlist)
    return {
        **get_settings(mlist),
        'list_id': mlist.list_id,
        'overridden': overridden,
        'inherited': [name for name in RESETTABLE if name not in overridden],
        'self_link': path_to(api, f'lists/{mlist.list_id}/settings'),
    }


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
        try:
            values = request_values(request)
        except (TypeError, ValueError) as error:
            bad_request(response, str(error))
            return
        read_only = sorted(set(values) & set(READ_ONLY))
        if read_only:
            bad_request(response, 'Read-only attribute: '
                        + ', '.join(read_only))
            return
        missing = [name for name in SETTING_NAMES if name not in values]
        if replace and missing:
            bad_request(response, 'Missing Parameter: ' + ', '.join(missing))
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
