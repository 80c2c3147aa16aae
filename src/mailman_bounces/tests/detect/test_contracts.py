"""Every registered module keeps the contract its registry is typed with."""

from __future__ import annotations

import pytest

from mailman_bounces.detect import registry, rhosts
from mailman_bounces.detect.contracts import DSNSender, Format, Provider


@pytest.mark.parametrize('module', registry.MODULES, ids=lambda module: module.NAME)
def test_formats_keep_the_format_contract(module) -> None:
    assert isinstance(module, Format)


@pytest.mark.parametrize('module', registry.DSN_SENDER_MODULES, ids=lambda module: module.NAME)
def test_dsn_senders_keep_their_contract(module) -> None:
    assert isinstance(module, DSNSender)


@pytest.mark.parametrize('provider', rhosts.PROVIDERS, ids=lambda provider: provider.NAME)
def test_providers_keep_the_provider_contract(provider) -> None:
    assert isinstance(provider, Provider)
    assert all(marker == marker.lower() for marker in provider.MARKERS)


def test_format_names_are_unique_and_say_what_they_read() -> None:
    names = [module.NAME for module in registry.MODULES]
    assert len(names) == len(set(names))
    # No placeholder names such as x1 ... x6.
    assert not [name for name in names if name[0] == 'x' and name[1:].isdigit()]
