"""The plugin's configuration: schema, defaults, the site loader and the
configuration this process runs with."""

from mailman_bounces.config.active import (
    plugin_name,
    set_plugin_name,
    set_site_config,
    site_config,
)
from mailman_bounces.config.mailboxes import MailboxConfig
from mailman_bounces.config.site import (
    ConfigurationError,
    OutageConfig,
    SiteConfig,
    load_site_config,
)

__all__ = [
    'ConfigurationError',
    'MailboxConfig',
    'OutageConfig',
    'SiteConfig',
    'load_site_config',
    'plugin_name',
    'set_plugin_name',
    'set_site_config',
    'site_config',
]
