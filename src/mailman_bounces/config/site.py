"""The plugin's site-wide configuration.

The schema (``schema.cfg`` next to this module) lists every key with its
default.  A site overrides keys in the file named by the ``configuration:``
key of its ``[plugin.bounces]`` section; the result is checked value by value
and turned into a frozen `SiteConfig`.  A bad key or value raises
`ConfigurationError`, whose message names the section and key, the bad value
and what is allowed.

This module does not import Mailman; the plugin hands it the text of the
site's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from lazr.config import ConfigSchema
from lazr.config.interfaces import ConfigErrors

from mailman_bounces.config.hooks import (
    PROVIDERS,
    CallbackConfig,
    CallbackEndpointConfig,
    EndpointConfig,
    WebhookConfig,
    callback_url_problem,
    parse_events,
)
from mailman_bounces.config.mailboxes import MailboxConfig, mailbox_config
from mailman_bounces.policy.rules import Rule, RuleError, make_rule
from mailman_bounces.policy.settings import PLUGIN_SETTINGS, WEIGHT
from mailman_bounces.validators import (
    Boolean,
    Choice,
    Duration,
    Integer,
    InvalidValue,
    Number,
    Optional,
    Parser,
    Text,
)

__all__ = [
    'FREEZE_KEY_TYPES',
    'ConfigurationError',
    'OutageConfig',
    'SiteConfig',
    'load_site_config',
]


# What an outage freeze is keyed by: the recipient domain or the receiving
# server (``key: both`` watches both).
FREEZE_KEY_TYPES = ('domain', 'mx')


class ConfigurationError(Exception):
    """The plugin configuration is invalid."""


@dataclass(frozen=True)
class OutageConfig:
    """Settings of the provider-outage protection."""

    enabled: bool = True
    window: timedelta = timedelta(hours=2)
    share: float = 0.2
    count: int = 0
    min_members: int = 5
    scope: str = 'both'
    key: str = 'both'
    notify_owners: bool = True
    notify_site_admin: bool = True
    # How long a freeze may last without a site administrator confirming
    # it (0: no limit).
    max_unconfirmed: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class SiteConfig:
    """The plugin's validated site-wide configuration."""

    pass_interval: timedelta = timedelta(minutes=1)
    batch_size: int = 500
    ignored_summary_period: timedelta = timedelta(days=7)
    store_messages: bool = True
    max_message_size: int = 262144
    site_admin: str | None = None
    reenable_url: str | None = None
    reenable_token_lifetime: timedelta = timedelta(days=30)
    lmtp_runner: bool = True
    verp_key_overlap: timedelta = timedelta(days=30)
    forged_burst: int = 10
    list_defaults: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    outage: OutageConfig = field(default_factory=OutageConfig)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)
    # The [mailbox.NAME] sections, by name.
    mailboxes: Mapping[str, MailboxConfig] = field(default_factory=dict)
    # The [rule.NAME] sections, by name.
    rules: tuple[Rule, ...] = ()


class WholeDays(Duration):
    """A duration of 1 to 365 whole days."""

    allowed = 'a whole number of days from 1d to 365d'

    def __call__(self, value: Any) -> timedelta:
        duration = super().__call__(value)
        if (duration.seconds or duration.microseconds
                or not 1 <= duration.days <= 365):
            raise self.refuse()
        return duration


_BOOLEAN = Boolean()
_DURATION = Duration()

_GENERAL: dict[str, Parser] = {
    'pass_interval': _DURATION,
    'batch_size': Integer(1, 100000),
    'ignored_summary_period': WholeDays(),
    'store_messages': _BOOLEAN,
    'max_message_size': Integer(1024),
    'site_admin': Optional(Text()),
    'reenable_url': Optional(Text()),
    'reenable_token_lifetime': _DURATION,
    'lmtp_runner': _BOOLEAN,
    'verp_key_overlap': _DURATION,
    'forged_burst': Integer(0, 100000),
}

_OUTAGE: dict[str, Parser] = {
    'enabled': _BOOLEAN,
    'window': _DURATION,
    'share': Number(0, 1, exclusive_minimum=True),
    'count': Integer(0),
    'min_members': Integer(1),
    'scope': Choice(('list', 'site', 'both')),
    'key': Choice((*FREEZE_KEY_TYPES, 'both')),
    'notify_owners': _BOOLEAN,
    'notify_site_admin': _BOOLEAN,
    'max_unconfirmed': _DURATION,
}


_WEBHOOKS: dict[str, Parser] = {
    'enabled': _BOOLEAN,
    'host': Text(),
    'port': Integer(1, 65535),
    'max_body': Integer(1024, 64 * 1048576),
    'window': _DURATION,
}

_CALLBACKS: dict[str, Parser] = {
    'interval': _DURATION,
    'timeout': _DURATION,
    'attempts': Integer(1, 100),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.replace(',', ' ').split())


def _endpoint(section: Any) -> EndpointConfig:
    name = section.name.split('.', 1)[1]
    where = section.name
    provider = section['provider'].strip()
    if provider not in PROVIDERS:
        raise ConfigurationError(
            f'[{where}]provider: invalid value {provider!r}: expected one '
            f'of {", ".join(PROVIDERS)}')
    endpoint = EndpointConfig(
        name=name, provider=provider,
        list_id=section['list'].strip() or None,
        secret=section['secret'].strip() or None,
        public_key=section['public_key'].strip() or None,
        topics=_words(section['topics']))
    # The verification each provider needs is mandatory.
    needed = {'ses': ('topics', endpoint.topics),
              'sendgrid': ('public_key', endpoint.public_key)}.get(
        provider, ('secret', endpoint.secret))
    if not needed[1]:
        raise ConfigurationError(
            f'[{where}]{needed[0]}: required for provider {provider}')
    return endpoint


def _callback(section: Any) -> CallbackEndpointConfig:
    where = section.name
    allow_private = _check(where, 'allow_private', section['allow_private'],
                           _BOOLEAN)
    url = section['url'].strip()
    problem = callback_url_problem(url, allow_private)
    if problem:
        raise ConfigurationError(f'[{where}]url: invalid value {url!r}: '
                                 f'{problem}')
    if not section['secret'].strip():
        raise ConfigurationError(f'[{where}]secret: required')
    try:
        events = parse_events(section['events'])
    except ValueError as error:
        raise ConfigurationError(f'[{where}]events: {error}') from None
    return CallbackEndpointConfig(
        name=where.split('.', 1)[1], url=url,
        secret=section['secret'].strip(), events=events,
        allow_private=allow_private)


def _hooks(config: Any) -> tuple[WebhookConfig, CallbackConfig]:
    endpoints = [_endpoint(section)
                 for section in config.getByCategory('webhook', [])
                 if not section.name.endswith('.master')]
    webhooks = WebhookConfig(
        endpoints=MappingProxyType({(e.provider, e.name): e
                                    for e in endpoints}),
        **_section(config, 'webhooks', _WEBHOOKS))
    callbacks = CallbackConfig(
        endpoints=tuple(_callback(section) for section
                        in config.getByCategory('callback', [])
                        if not section.name.endswith('.master')),
        **_section(config, 'callbacks', _CALLBACKS))
    return webhooks, callbacks


def _schema() -> ConfigSchema:
    schema_file = files('mailman_bounces.config').joinpath('schema.cfg')
    return ConfigSchema(str(schema_file), schema_file.open(encoding='utf-8'))


def _check(section: str, key: str, raw: Any, parse: Parser) -> Any:
    try:
        return parse(raw)
    except InvalidValue as error:
        raise ConfigurationError(
            f'[{section}]{key}: invalid value {raw!r}: '
            f'expected {error.allowed}') from None


def _section(config: Any, name: str, parsers: Mapping[str, Parser]) -> dict:
    section = config[name]
    return {key: _check(name, key, section[key], parse)
            for key, parse in parsers.items()}


def _rules(config: Any) -> tuple[Rule, ...]:
    rules = []
    for section in config.getByCategory('rule', []):
        name = section.category_and_section_names[1]
        if name == 'master':
            continue    # the schema's template, not a rule
        values = {key: section[key] for key in (
            'pattern', 'field', 'effect', 'reason', 'severity', 'comment')}
        try:
            rules.append(make_rule(f'site:{name}', values))
        except RuleError as error:
            raise ConfigurationError(
                f'[rule.{name}]{error.field}: invalid value '
                f'{values.get(error.field)!r}: {error.message}') from None
    return tuple(sorted(rules, key=lambda rule: rule.name))


def load_site_config(text: str | None = None,
                     name: str = 'site configuration') -> SiteConfig:
    """Build the `SiteConfig` from the schema defaults and `text`.

    :param text: The site's configuration file contents, or None for the
        defaults.
    :param name: How to call the file in error messages.
    :raises ConfigurationError: for unknown sections or keys, and bad values.
    """
    schema = _schema()
    config = schema.load(str(files('mailman_bounces.config').joinpath(
        'mailman_bounces.cfg')))
    if text is not None:
        config.push(name, text)
    try:
        config.validate()
    except ConfigErrors as error:
        details = '; '.join(str(e) for e in error.errors)
        raise ConfigurationError(f'{name}: {details}') from None
    general = _section(config, 'bounces', _GENERAL)
    defaults = {key: _check('list_defaults', key,
                            config['list_defaults'][key], setting.parse)
                for key, setting in PLUGIN_SETTINGS.items()}
    weights_section = config['weights']
    weights = {key: _check('weights', key, weights_section[key], WEIGHT)
               for key in weights_section}
    outage = OutageConfig(**_section(config, 'outage', _OUTAGE))
    webhooks, callbacks = _hooks(config)
    mailboxes = {}
    for section in config.getByCategory('mailbox', []):
        name = section.category_and_section_names[1]
        if name == 'master':
            continue    # the schema's template, not a mailbox
        mailboxes[name] = mailbox_config(name, section, _check)
    return SiteConfig(
        rules=_rules(config),
        list_defaults=MappingProxyType(defaults),
        weights=MappingProxyType(weights),
        outage=outage,
        webhooks=webhooks,
        callbacks=callbacks,
        mailboxes=MappingProxyType(mailboxes),
        **general)
