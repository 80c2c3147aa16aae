"""Template tags of the Bounces pages: Postorius' menus with this app's
tab added, and plain words for what the REST API shows.

Postorius has no hook for a list tab, so the app overrides Postorius'
``postorius/menu/list_nav.html`` (and ``user_nav.html``) with a template
that renders Postorius' own, read from the installed Postorius, with this
app's tab inserted before the end of its list of tabs.  Postorius' tabs
stay exactly as Postorius draws them; should a Postorius upgrade change
the menu so that the tab has no place, the menu fails loudly (and
``tests/test_web.py`` says so) instead of losing the tab silently.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import postorius
from django import template
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext as _

from mailman_bounces.detect import REASONS

register = template.Library()

# Postorius' menu templates, and the template of the tab each gets.
MENUS = {
    'list_nav.html': 'bounces/nav/list_tab.html',
    'user_nav.html': 'bounces/nav/user_tab.html',
}
# Where a menu's tabs end: the last of these in Postorius' template.
END_OF_TABS = '</ul>'


def postorius_menu_source(name: str) -> str:
    """The source of Postorius' own menu template `name`."""
    menus = Path(postorius.__file__).parent / 'templates/postorius/menu'
    return (menus / name).read_text(encoding='utf-8')


def with_tab(source: str, tab: str) -> str:
    """Menu `source` with ``{% include tab %}`` as its last tab.
    :raises TemplateSyntaxError: if the menu has no list of tabs."""
    end = source.rfind(END_OF_TABS)
    if end < 0:
        raise TemplateSyntaxError(
            f'mailman_bounces.web: no {END_OF_TABS} in Postorius\' menu; '
            'this Postorius is not supported')
    return f'{source[:end]}{{% include "{tab}" %}}\n{source[end:]}'


@cache
def _menu(engine, name: str) -> Template:
    return Template(with_tab(postorius_menu_source(name), MENUS[name]),
                    engine=engine)


@register.simple_tag(takes_context=True)
def postorius_menu_with_bounces(context, name: str) -> str:
    """Postorius' menu `name` with the Bounces tab, in `context`."""
    # Template arguments arrive as SafeStrings, which paths refuse.
    return _menu(context.template.engine, name.encode().decode()).render(
        context)


# Plain words.

@register.filter
def reason_words(reason: str | None) -> str:
    """A bounce reason as a person reads it, in their language: the
    description `mailman_bounces.detect` marks for translation (it does
    not translate itself), through gettext here."""
    if not reason:
        return ''
    description = REASONS.get(reason)
    return f'{_(description)} ({reason})' if description else reason


@register.filter
def plain_number(value: float | None) -> str:
    """A number as short as it is exact enough: 2, 1.5, 1.25."""
    return '' if value is None else f'{value:g}'


@register.filter
def status_words(standing: dict, scoring: dict | None = None) -> str:
    """A member's delivery status, with warnings and probes; `scoring` is
    the list's ``frontend/lists/<list>`` (its warnings before removal)."""
    status = standing.get('delivery_status')
    if status == 'by_bounces':
        sent = standing.get('total_warnings_sent') or 0
        if scoring and sent:
            return _('disabled by bounces, warned %(sent)s of %(of)s') % {
                'sent': sent, 'of': scoring['warnings']}
        return _('disabled by bounces')
    if standing.get('probe_sent'):
        return _('probe pending')
    if status == 'enabled':
        return _('enabled')
    return {'by_user': _('disabled by the member'),
            'by_moderator': _('disabled by a moderator')}.get(
                status, _('unknown'))
