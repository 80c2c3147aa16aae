"""The provider modules, by the name in the listener's paths."""

from __future__ import annotations

from types import MappingProxyType

from mailman_bounces.esp import mailgun, postmark, sendgrid, ses, sparkpost
from mailman_bounces.esp.base import Provider

PROVIDER_MODULES = MappingProxyType({
    module.NAME: module
    for module in (ses, sendgrid, mailgun, postmark, sparkpost)})


def provider(name: str) -> Provider | None:
    return PROVIDER_MODULES.get(name)
