"""Email service provider webhooks: verification and normalisation.

Pure: no Mailman imports.  Each provider module verifies a request the way
its ESP signs or authenticates it and turns its notifications into
`HookEvent` records in the detection engine's vocabulary; the glue
(`mailman_bounces.app.webhooks`) stores them and the `bouncehook` runner
serves them over HTTP.
"""

from mailman_bounces.esp.base import (
    HookEvent,
    HookRequest,
    Malformed,
    Parsed,
    Stale,
    Unverified,
)
from mailman_bounces.esp.registry import PROVIDER_MODULES, provider

__all__ = [
    'PROVIDER_MODULES',
    'HookEvent',
    'HookRequest',
    'Malformed',
    'Parsed',
    'Stale',
    'Unverified',
    'provider',
]
