"""The plugin's notice templates, as first-class Mailman templates.

Every notice the plugin sends is rendered from a template with a Mailman
template name (``list:admin:notice:bounce-disable`` ...).  The names are
added to Mailman's table of known templates, so a site, domain or list can
override them exactly like core's: through the REST ``uris`` resources (and
thus Postorius), or with files under ``$template_dir``.  A ``PUT`` of all
URIs written for core, without the plugin's names, still works (it leaves
the plugin's templates as they are).  When nothing overrides a template,
the plugin's own file in ``mailman_bounces/templates/<language>/`` is used,
falling back to English.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any
from urllib.error import URLError

from mailman.interfaces.mailinglist import IMailingList
from mailman.interfaces.template import ALL_TEMPLATES, ITemplateLoader
from mailman.utilities.i18n import TemplateNotFoundError
from mailman.utilities.string import expand, wrap
from public import public
from zope.component import getUtility
from zope.interface import implementer

# Template name -> what it is for (also the documentation's list).
TEMPLATES = {
    'list:admin:notice:bounce-increment':
        "Owners: a member's bounce score went up, and why.",
    'list:admin:notice:bounce-disable':
        "Owners: a member's delivery was disabled because of bounces.",
    'list:admin:notice:bounce-removal':
        'Owners: a member was removed after the last warning.',
    'list:admin:notice:bounce-complaint':
        'Owners: an abuse complaint (ARF report) names a member.',
    'list:admin:notice:bounce-outage':
        "Owners: scoring is frozen for a domain that fails for many "
        "members at once.",
    'list:admin:notice:bounce-ignored':
        'Owners: a summary of the bounces that were not held against '
        'members (DMARC, spam filters, reputation ...).',
    'list:user:notice:bounce-warning':
        'Member: your delivery is disabled; how to re-enable it.',
    'list:user:notice:bounce-failover':
        'Member: your subscription moved to your other verified address.',
    'list:user:notice:bounce-reenabled':
        'Member: your delivery was re-enabled.',
    'site:admin:notice:bounce-outage':
        'Site admin: scoring is frozen site-wide for a failing domain.',
    'site:admin:notice:bounce-outage-cap':
        'Site admin: a freeze reached the limit of unconfirmed freezes; '
        "confirm it or the domain's bounces count again.",
    'site:admin:notice:bounce-forged':
        'Site admin: a burst of bounces to forged signed return paths.',
}


@public
def register_templates() -> None:
    """Make the plugin's template names known to Mailman, keeping core's
    ``PUT`` of all template URIs working for clients that do not know
    them."""
    for name in TEMPLATES:
        ALL_TEMPLATES.setdefault(name, f'{name}.txt')
    _put_without_plugin_names()


def _put_without_plugin_names() -> None:
    """Let a ``PUT`` on the ``uris`` collections leave out the plugin's
    templates.

    Core's PUT requires every known template name, so once the plugin's
    names are known a client written for core (Postorius, core's own
    tests) would get ``400 Missing Parameter: list:admin:notice:bounce-...``.
    For that one request, the plugin's names that the request does not
    give are dropped from the resource's names: core's names stay required,
    the plugin's are set when given and otherwise kept as they are (a
    client that does not know them cannot mean to change them).  GET,
    PATCH, DELETE and the single-template resources are untouched.
    """
    from mailman.rest import uris
    from mailman.rest.helpers import get_request_params
    for resource in (uris.AllSiteURIs, uris.AllDomainURIs, uris.AllListURIs):
        original = resource.on_put
        if getattr(original, 'mailman_bounces', False):
            continue

        def on_put(self, request, response, original=original):
            given = get_request_params(request)
            self.URIs = [name for name in self.URIs
                         if name not in TEMPLATES or name in given]
            original(self, request, response)
        on_put.mailman_bounces = True
        resource.on_put = on_put


def _packaged(name: str, language: str) -> str | None:
    for code in (language, 'en'):
        resource = files('mailman_bounces').joinpath(
            'templates', code, f'{name}.txt')
        if resource.is_file():
            return resource.read_text(encoding='utf-8')
    return None


# Looking a template up costs Mailman a few queries (list, domain and site
# overrides) and file searches; notices of one pass use the same few
# templates again and again.  An override takes effect within this time.
CACHE_SECONDS = 300.0
_cache: dict[tuple, tuple[float, str]] = {}


@public
def clear_template_cache() -> None:
    """Forget the cached templates (after changing one, e.g. in tests)."""
    _cache.clear()


@public
def load_template(name: str, context=None, language: str | None = None) -> str:
    """The text of template `name` for `context` (a list, or None for the
    site), honouring every override Mailman supports."""
    if name not in TEMPLATES:
        raise KeyError(name)
    code = language or getattr(
        getattr(context, 'preferred_language', None), 'code', None) or 'en'
    key = (name, getattr(context, 'list_id', None), code)
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    text = _lookup(name, context, code)
    _cache[key] = (time.monotonic() + CACHE_SECONDS, text)
    return text


def _lookup(name: str, context, code: str) -> str:
    try:
        return getUtility(ITemplateLoader).get(name, context, language=code)
    except (TemplateNotFoundError, URLError):
        # No override anywhere and no file in Mailman's own tree.
        text = _packaged(name, code)
        if text is None:                                # pragma: no cover
            raise
        return text


@public
def render(name: str, mlist=None, values: dict[str, Any] | None = None,
           language: str | None = None) -> str:
    """Template `name` for `mlist` (None for the site) with `values` and
    Mailman's list substitutions filled in, wrapped like core's notices."""
    context = _with_cached_domain(mlist)
    return wrap(expand(load_template(name, context, language), context,
                       values))


# Domains looked up in the current `domains_cached` block, by mail host.
_domains: dict[str, Any] | None = None


@public
@contextmanager
def domains_cached() -> Iterator[None]:
    """Look each list's domain up once while rendering in this block.

    Core reads ``mlist.domain`` twice per `expand` and once per template
    lookup, and each read costs three queries.  A block must not outlive
    its transaction: the domains are that transaction's objects.
    """
    global _domains
    outer, _domains = _domains, {}
    try:
        yield
    finally:
        _domains = outer


@implementer(IMailingList)
class _ListWithCachedDomain:
    """A mailing list whose ``domain`` is the block's cached one; every
    other attribute is the list's own."""

    def __init__(self, mlist, domain) -> None:
        self._mlist = mlist
        self.domain = domain

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mlist, name)


def _with_cached_domain(mlist):
    if mlist is None or _domains is None:
        return mlist
    domain = _domains.get(mlist.mail_host)
    if domain is None:
        domain = _domains[mlist.mail_host] = mlist.domain
    return _ListWithCachedDomain(mlist, domain)
