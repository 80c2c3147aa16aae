"""The site configuration this process runs with.

The plugin's ``pre_hook`` loads and checks the site's file and installs the
result here; everything else reads it through `site_config`.  Until then
(tools and tests that never start the plugin) the defaults apply.
"""

from __future__ import annotations

from mailman_bounces.config.site import SiteConfig, load_site_config

__all__ = ['plugin_name', 'set_plugin_name', 'set_site_config',
           'site_config']

_active: SiteConfig | None = None
# The name of the site's [plugin.NAME] section enabling the plugin; Mailman
# tells the plugin before pre_hook, and REST paths are made with it.
_plugin_name = 'bounces'


def site_config() -> SiteConfig:
    """The plugin's validated site configuration (defaults if not loaded)."""
    global _active
    if _active is None:
        _active = load_site_config()
    return _active


def set_site_config(value: SiteConfig) -> SiteConfig:
    """Install `value` as the site configuration; return the previous one."""
    global _active
    previous = site_config()
    _active = value
    return previous


def plugin_name() -> str:
    """The name the site gave the plugin (its [plugin.<name>] section)."""
    return _plugin_name


def set_plugin_name(name: str) -> None:
    global _plugin_name
    _plugin_name = name
