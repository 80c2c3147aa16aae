"""A template loader that gives Postorius' navigation bar, in the part a
site admin sees (Domains, Bans, System Information, Users), a link to
the site-wide Bounces page.

Postorius draws that bar in ``postorius/base.html`` outside any block, so
no template of this app can extend it there; this loader is Django's app
directories loader, except that it hands out Postorius' own base template
with the link's ``{% include %}`` added as the last of the site admin's
items.  Postorius' template stays Postorius' (read from the installed
Postorius each time it is loaded); should an upgrade change it so that
the link has no place, loading it fails loudly instead of losing the
link.  The site names it in its ``TEMPLATES`` (see the README).
"""

from __future__ import annotations

import re
from pathlib import Path

import postorius
from django.template import TemplateSyntaxError
from django.template.loaders import app_directories

__all__ = ['Loader', 'with_site_link']

# The template given the link, and the template of the link.
BASE = 'postorius/base.html'
SITE_LINK = 'bounces/nav/site_link.html'
# Where the site admin's items start, and the end of their block.
SUPERUSER_ITEMS = re.compile(r'{%\s*if\s+user\.is_superuser\s*%}')
END_OF_ITEMS = re.compile(r'{%\s*endif\s*%}')


def postorius_base() -> Path:
    """Postorius' own base template."""
    return Path(postorius.__file__).parent / 'templates' / BASE


def with_site_link(source: str) -> str:
    """Postorius' base template `source` with the site Bounces link after
    the site admin's items of its navigation bar.
    :raises TemplateSyntaxError: if it has no such items."""
    start = SUPERUSER_ITEMS.search(source)
    end = start and END_OF_ITEMS.search(source, start.end())
    if not end or '{% if' in source[start.end():end.start()]:
        raise TemplateSyntaxError(
            f'mailman_bounces.web: no site admin items in Postorius\' '
            f'{BASE}; this Postorius is not supported')
    return (f'{source[:end.start()]}{{% include "{SITE_LINK}" %}}\n'
            f'{source[end.start():]}')


class Loader(app_directories.Loader):
    """The app directories' templates; Postorius' base template with the
    site Bounces link."""

    def get_contents(self, origin) -> str:
        contents = super().get_contents(origin)
        if (origin.template_name == BASE
                and Path(origin.name) == postorius_base()):
            return with_site_link(contents)
        return contents
