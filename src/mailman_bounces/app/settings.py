"""Reading and changing a list's bounce settings.

A list's bounce settings are core's (attributes of the mailing list, which
stay the source of truth so Postorius shows them) and the plugin's (a row
in ``bounces_list_settings``; NULL means "the site default").  This module
resolves them into a `ListPolicy` for the policy code, and changes them
atomically: every value is checked first, and nothing is written unless
all of them are valid.  Values are typed (durations are timedeltas); the
REST API and the command show them with Mailman's own JSON encoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from mailman.config import config
from mailman.interfaces.bounce import UnrecognizedBounceDisposition
from mailman.model.mailinglist import MailingList
from public import public
from sqlalchemy import select

from mailman_bounces.config import site_config
from mailman_bounces.model.settings import ListBounceSettings
from mailman_bounces.policy.settings import (
    CORE_SETTINGS,
    PLUGIN_SETTINGS,
    RESETTABLE,
    SETTINGS,
    WEIGHTS,
    ListPolicy,
    SettingError,
)

# Core columns of the mailing list table, for set-based loading.
_CORE_COLUMNS = tuple(getattr(MailingList, name) for name in CORE_SETTINGS
                      if name != 'forward_unrecognized_bounces_to')


def _weights(row: ListBounceSettings | None) -> dict[str, float]:
    weights = dict(site_config().weights)
    if row is not None and row.weights:
        weights.update(json.loads(row.weights))
    return weights


def _plugin_values(row: ListBounceSettings | None) -> dict[str, Any]:
    values = dict(site_config().list_defaults)
    if row is not None:
        for name in PLUGIN_SETTINGS:
            value = getattr(row, name)
            if value is not None:
                values[name] = value
    return values


@public
def policies_for(list_ids: Iterable[str]) -> dict[str, ListPolicy]:
    """The resolved policies of `list_ids` (missing lists are left out),
    loaded with two queries whatever the number of lists."""
    wanted = sorted(set(list_ids))
    if not wanted:
        return {}
    store = config.db.store
    core_rows = store.execute(
        select(MailingList._list_id, *_CORE_COLUMNS)
        .where(MailingList._list_id.in_(wanted))).all()
    overrides = {
        row.list_id: row for row in store.execute(
            select(ListBounceSettings)
            .where(ListBounceSettings.list_id.in_(wanted))).scalars()}
    policies = {}
    for row in core_rows:
        list_id = row[0]
        core = dict(zip((c.key for c in _CORE_COLUMNS), row[1:], strict=True))
        core = {name: value for name, value in core.items()
                if value is not None}
        override = overrides.get(list_id)
        policies[list_id] = ListPolicy(
            list_id=list_id, weights=_weights(override),
            **core, **_plugin_values(override))
    return policies


@public
def policy_for(mlist) -> ListPolicy:
    """The resolved policy of one mailing list."""
    return policies_for([mlist.list_id])[mlist.list_id]


def _override_row(list_id: str) -> ListBounceSettings | None:
    return config.db.store.get(ListBounceSettings, list_id)


@public
def get_settings(mlist) -> dict[str, Any]:
    """Every bounce setting of `mlist` (see `SETTINGS`), typed."""
    row = _override_row(mlist.list_id)
    values = {name: getattr(mlist, name) for name in CORE_SETTINGS}
    values.update(_plugin_values(row))
    values[WEIGHTS.name] = _weights(row)
    return values


@public
def overridden_settings(mlist) -> list[str]:
    """The plugin settings `mlist` set itself (the rest follow the site)."""
    row = _override_row(mlist.list_id)
    if row is None:
        return []
    return [name for name in RESETTABLE if getattr(row, name) is not None]


@public
def check_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Parse every value of `changes`; raise `SettingError` for the first
    unknown name or bad value.  Nothing is written.  A plugin setting given
    as None or '' parses to None: back to the site default."""
    parsed = {}
    for name, value in changes.items():
        setting = SETTINGS.get(name)
        if setting is None:
            raise SettingError(name, value, 'one of the bounce settings: '
                               + ', '.join(SETTINGS))
        if name in RESETTABLE and (value is None or value == ''):
            parsed[name] = None
        else:
            parsed[name] = setting.check(value)
    _check_levels(parsed)
    return parsed


def _check_levels(parsed: Mapping[str, Any]) -> None:
    level1, level2 = parsed.get('sympa_level1'), parsed.get('sympa_level2')
    if level1 is not None and level2 is not None and level1 > level2:
        raise SettingError('sympa_level1', level1,
                           f'a level no higher than sympa_level2 ({level2})')


@public
def change_settings(mlist, changes: Mapping[str, Any], *,
                    replace_weights: bool = False) -> dict[str, Any]:
    """Validate and apply `changes` to `mlist` all together.

    Plugin settings given as None (or an empty string) go back to the site
    default.  Weights are merged into the list's own weights unless
    `replace_weights`.  Returns the list's settings afterwards.
    :raises SettingError: naming the first bad field; nothing is applied.
    """
    parsed = check_settings(changes)
    row = _override_row(mlist.list_id)
    defaults = site_config().list_defaults
    # The levels as they will be: a reset one goes back to the default.
    _check_levels({**_plugin_values(row), **{
        name: defaults.get(name) if value is None else value
        for name, value in parsed.items()}})
    for name, value in parsed.items():
        if name in CORE_SETTINGS:
            if name == 'forward_unrecognized_bounces_to':
                value = UnrecognizedBounceDisposition[value]
            setattr(mlist, name, value)
            continue
        if row is None:
            row = ListBounceSettings(mlist.list_id)
            config.db.store.add(row)
        if name == WEIGHTS.name:
            current = {} if replace_weights or not row.weights else (
                json.loads(row.weights))
            current.update(value or {})
            row.weights = json.dumps(current, sort_keys=True) if (
                current and value is not None) else None
        else:
            setattr(row, name, value)
    return get_settings(mlist)


@public
def list_retentions(name: str = 'retention'
                    ) -> tuple[timedelta, dict[str, timedelta]]:
    """The site's default retention (setting `name`: ``retention`` or
    ``tracking_retention``) and the lists that override it."""
    default = site_config().list_defaults[name]
    column = getattr(ListBounceSettings, name)
    rows = config.db.store.execute(
        select(ListBounceSettings.list_id, column)
        .where(column.is_not(None))).all()
    return default, {list_id: retention for list_id, retention in rows}
