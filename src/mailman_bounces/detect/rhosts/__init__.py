"""Receiving providers' own error codes and wordings, tried before the generic
phrase tables.

Large providers word their refusals the same way in every bounce, and many add
a code of their own (Yahoo ``[TSS04]``, Orange ``OFR_506``, Cox ``AUP#CXBL``,
Microsoft ``5.7.606`` or ``(S3150)``).  One module per provider holds that
provider's table (see :mod:`.common` for what a module defines).  A provider is
selected when the remote MTA or the recipient's address is in one of its
domains, or when the diagnostic carries one of its codes or links; its table
then decides the reason if it knows the answer, and the generic tables decide
otherwise.  Selecting costs one dictionary lookup per host name label and a
substring test per marker: it runs for every failed recipient.
"""

from __future__ import annotations

import re

from ..contracts import Provider
from . import (
    amazon,
    apple,
    cox,
    docomo,
    facebook,
    godaddy,
    google,
    kddi,
    messagelabs,
    microsoft,
    mimecast,
    mxlogic,
    orange,
    spectrum,
    tencent,
    yahoo,
    zoho,
)

#: The provider modules, in the order they are tried.
PROVIDERS: tuple[Provider, ...] = (
    yahoo, google, microsoft, orange, cox, spectrum, tencent, apple, godaddy, facebook,
    kddi, docomo, messagelabs, mimecast, zoho, amazon, mxlogic,
)

# domain -> index in PROVIDERS; markers with the index of the provider writing them.
_BY_DOMAIN = {domain: number for number, provider in enumerate(PROVIDERS) for domain in provider.DOMAINS}
_MARKERS = tuple((number, marker) for number, provider in enumerate(PROVIDERS) for marker in provider.MARKERS)
_HOST_RE = re.compile(r'[a-z0-9][a-z0-9.-]*\.[a-z]{2,}')


def provider_reason(diagnostic: str | None, remote_mta: str | None = None,
                    address: str | None = None, command: str | None = None) -> str | None:
    """The reason a receiving provider's own table gives for *diagnostic*, or
    ``None`` when no provider is recognised or its table does not know it."""
    if not diagnostic:
        return None
    text = diagnostic.lower()
    selected = {number for number, marker in _MARKERS if marker in text}
    selected.update(_providers_of_hosts(f"{remote_mta or ''} {(address or '').rpartition('@')[2]}"))
    for number in sorted(selected):
        reason = PROVIDERS[number].reason(text, command)
        if reason:
            return reason
    return None


def _providers_of_hosts(hosts: str) -> set[int]:
    """Providers owning any of the host names in *hosts*, or a parent domain of one."""
    found: set[int] = set()
    for host in _HOST_RE.findall(hosts.lower()):
        labels = host.rstrip('.').split('.')
        for start in range(len(labels) - 1):
            number = _BY_DOMAIN.get('.'.join(labels[start:]))
            if number is not None:
                found.add(number)
    return found
