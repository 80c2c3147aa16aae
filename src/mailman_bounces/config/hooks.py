"""The configuration of ESP webhooks (inbound) and callbacks (outbound).

Pure: no Mailman imports.  `site.py` reads the sections with these parsers;
the REST API checks per-list callback endpoints with `callback_url_problem`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

__all__ = [
    'CALLBACK_EVENTS',
    'CALLBACK_URL_PATTERN',
    'EVENTS_PATTERN',
    'PROVIDERS',
    'SECRET_PATTERN',
    'CallbackConfig',
    'CallbackEndpointConfig',
    'EndpointConfig',
    'WebhookConfig',
    'callback_url_problem',
    'parse_events',
]

# The ESPs the listener understands (the first segment of its paths).
PROVIDERS = ('ses', 'sendgrid', 'mailgun', 'postmark', 'sparkpost')

# What a callback reports.
CALLBACK_EVENTS = (
    'bounce.registered',
    'complaint.registered',
    'member.warned',
    'member.disabled',
    'member.reenabled',
    'member.removed',
    'outage.frozen',
    'outage.thawed',
    'tracking.report',
)


@dataclass(frozen=True)
class EndpointConfig:
    """One ``[webhook.NAME]`` section: where one ESP posts."""

    name: str
    provider: str
    list_id: str | None = None
    secret: str | None = None
    public_key: str | None = None
    topics: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WebhookConfig:
    """The ``[webhooks]`` section and the endpoints."""

    enabled: bool = False
    host: str = '127.0.0.1'
    port: int = 8026
    max_body: int = 1048576
    window: timedelta = timedelta(minutes=5)
    endpoints: Mapping[tuple[str, str], EndpointConfig] = field(
        default_factory=dict)


@dataclass(frozen=True)
class CallbackEndpointConfig:
    """One ``[callback.NAME]`` section: a site-wide callback receiver."""

    name: str
    url: str
    secret: str
    events: frozenset[str] = frozenset(CALLBACK_EVENTS)
    allow_private: bool = False


@dataclass(frozen=True)
class CallbackConfig:
    """The ``[callbacks]`` section and the site-wide endpoints."""

    interval: timedelta = timedelta(seconds=10)
    timeout: timedelta = timedelta(seconds=10)
    attempts: int = 10
    endpoints: tuple[CallbackEndpointConfig, ...] = ()


def parse_events(text: str) -> frozenset[str]:
    """The callback events named by `text` (``all``, or names separated by
    spaces or commas).

    :raises ValueError: naming the unknown events.
    """
    names = {name for name in text.replace(',', ' ').split() if name}
    if not names or names == {'all'}:
        return frozenset(CALLBACK_EVENTS)
    unknown = sorted(names - set(CALLBACK_EVENTS))
    if unknown:
        raise ValueError('unknown events: ' + ', '.join(unknown)
                         + '; known: all, ' + ', '.join(CALLBACK_EVENTS))
    return frozenset(names)


def _addresses(host: str, resolve: bool) -> list[ipaddress._BaseAddress]:
    try:
        return [ipaddress.ip_address(host.strip('[]'))]
    except ValueError:
        pass
    if host.lower() == 'localhost' or host.lower().endswith('.localhost'):
        return [ipaddress.ip_address('127.0.0.1')]
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [ipaddress.ip_address(info[4][0].split('%')[0]) for info in infos]


def callback_url_problem(url: str, allow_private: bool = False,
                         resolve: bool = False) -> str | None:
    """Why `url` may not receive callbacks, or None when it may.

    https only, except to a loopback address (a receiver on the same host);
    no private, link-local or reserved addresses unless `allow_private`
    (a stranger setting a list's callback must not reach the site's
    internal services).  With `resolve`, a host name is looked up and
    every address it has is checked (done before each delivery).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return 'not a URL'
    if parts.scheme not in ('http', 'https') or not host:
        return 'not an http(s) URL'
    if parts.username or parts.password:
        return 'credentials in the URL'
    addresses = _addresses(host, resolve)
    loopback = bool(addresses) and all(a.is_loopback for a in addresses)
    if parts.scheme == 'http' and not loopback:
        return 'https only (http is allowed to loopback addresses)'
    if loopback:
        return None
    if not allow_private and any(
            a.is_private or a.is_link_local or a.is_reserved
            or a.is_multicast or a.is_unspecified for a in addresses):
        return 'a private address (not allowed for this endpoint)'
    if resolve and not addresses:
        return f'cannot resolve {host}'
    return None


# What the REST API takes for a list's endpoint, exactly (its OpenAPI
# schema says the same): a host name over https (an address literal could
# only name a private or loopback host; names are checked when resolved,
# before each delivery) or loopback over http; a Standard Webhooks secret;
# event names separated by spaces, or 'all' (empty: all).
_LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
CALLBACK_URL_PATTERN = (
    rf'^(https://({_LABEL}\.)+[A-Za-z]{{2,63}}'
    r'|http://(127\.0\.0\.1|localhost))'
    # A port from 1 to 65535.
    r'(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}'
    r'|655[0-2][0-9]|6553[0-5]))?'
    # A path without controls, spaces or a fragment, spelt out: \s is not
    # the same set in Python's re (it has \x1c-\x1f) and in the ECMA
    # regex of JSON Schema, so a URL the document allowed was refused.
    r'(/[^\x00-\x20\x7f-\x9f#]*)?$')
SECRET_PATTERN = (r'^whsec_([A-Za-z0-9+/]{4}){4,64}'
                  r'([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')
_EVENT_NAMES = '|'.join(name.replace('.', r'\.') for name in CALLBACK_EVENTS)
EVENTS_PATTERN = rf'^(|all|({_EVENT_NAMES})( ({_EVENT_NAMES}))*)$'
