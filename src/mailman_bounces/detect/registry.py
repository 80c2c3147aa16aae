"""The ordered list of format modules the engine tries.

Order matters: cheap, unambiguous checks first (a feedback report, a standard
DSN), then the plain-text formats of specific MTAs and providers, then
auto-replies, and last the generic heuristics that only apply when nothing
more specific did.
"""

from __future__ import annotations

from collections.abc import Callable

from .formats import (
    amazonses,
    arf,
    au,
    domino,
    dragonfly,
    exchange2003,
    exim,
    fml,
    generic,
    gmail,
    gmx,
    james,
    mailmarshal,
    mfilter,
    qmail,
    rfc3464,
    rfc3834,
    sendmail,
    yahoo,
)
from .mail import Finding, Mail

Parser = Callable[[Mail], Finding | None]

_MODULES = (
    arf,
    amazonses,
    rfc3464,
    gmx,
    exim,
    qmail,
    yahoo,
    dragonfly,
    gmail,
    sendmail,
    exchange2003,
    domino,
    au,
    fml,
    james,
    mailmarshal,
    mfilter,
    rfc3834,
    generic,
)

#: (detector name, parse function), in the order they are tried.
FORMATS: tuple[tuple[str, Parser], ...] = tuple((module.NAME, module.parse) for module in _MODULES)
