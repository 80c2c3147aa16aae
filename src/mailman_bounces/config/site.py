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

from mailman_bounces.policy.settings import PLUGIN_FIELDS
from mailman_bounces.validators import (
    InvalidValue,
    Parser,
    as_bool,
    as_choice,
    as_duration,
    as_float,
    as_int,
    as_optional,
)

__all__ = [
    'ConfigurationError',
    'OutageConfig',
    'SiteConfig',
    'load_site_config',
    'reason_names',
]


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
    list_defaults: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    outage: OutageConfig = field(default_factory=OutageConfig)


def as_whole_days(value: Any) -> timedelta:
    """A duration of 1 to 365 whole days."""
    allowed = 'a whole number of days from 1d to 365d'
    duration = as_duration(value)
    if (duration.seconds or duration.microseconds
            or not 1 <= duration.days <= 365):
        raise InvalidValue(allowed)
    return duration


_GENERAL: dict[str, Parser] = {
    'pass_interval': as_duration,
    'batch_size': as_int(1, 100000),
    'ignored_summary_period': as_whole_days,
    'store_messages': as_bool,
    'max_message_size': as_int(1024),
    'site_admin': as_optional(str),
    'reenable_url': as_optional(str),
    'reenable_token_lifetime': as_duration,
    'lmtp_runner': as_bool,
}

_OUTAGE: dict[str, Parser] = {
    'enabled': as_bool,
    'window': as_duration,
    'share': as_float(0.0, 1.0, exclusive_minimum=True),
    'count': as_int(0),
    'min_members': as_int(1),
    'scope': as_choice(('list', 'site', 'both')),
    'key': as_choice(('domain', 'mx', 'both')),
    'notify_owners': as_bool,
    'notify_site_admin': as_bool,
}

_WEIGHT = as_float(0.0, 10.0)



def _schema() -> ConfigSchema:
    schema_file = files('mailman_bounces.config').joinpath('schema.cfg')
    return ConfigSchema(str(schema_file), schema_file.open(encoding='utf-8'))


def reason_names() -> tuple[str, ...]:
    """The reasons the [weights] section knows, in schema order."""
    return tuple(_schema()['weights'])


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
                            config['list_defaults'][key], field.parse)
                for key, field in PLUGIN_FIELDS.items()}
    weights_section = config['weights']
    weights = {key: _check('weights', key, weights_section[key], _WEIGHT)
               for key in weights_section}
    outage = OutageConfig(**_section(config, 'outage', _OUTAGE))
    return SiteConfig(
        list_defaults=MappingProxyType(defaults),
        weights=MappingProxyType(weights),
        outage=outage,
        **general)
