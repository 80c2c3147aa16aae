"""The plugin's configuration: schema, defaults and the site loader."""

from mailman_bounces.config.site import (
    ConfigurationError,
    OutageConfig,
    SiteConfig,
    load_site_config,
)

__all__ = [
    'ConfigurationError',
    'OutageConfig',
    'SiteConfig',
    'load_site_config',
]
