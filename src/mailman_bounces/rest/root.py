"""The root of the plugin's REST resources."""

from mailman.rest.helpers import etag, okay
from public import public

from mailman_bounces import __version__


@public
class BouncesRoot:
    """/<api>/plugins/bounces"""

    def on_get(self, request, response):
        okay(response, etag({'name': 'mailman-bounces', 'version': __version__}))
