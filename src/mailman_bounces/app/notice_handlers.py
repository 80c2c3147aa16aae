"""Every kind of notice, with the handler that carries it out.

Each handler says which `NoticeKind` it carries out (`INoticeHandler`); this
module lists them, and refuses to load unless every kind has exactly one.
The handlers render and send, they never record notices: the outbox
(`mailman_bounces.app.notices`) depends on them, not the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from public import public

from mailman_bounces.app.forged_notice import ForgedNotice
from mailman_bounces.app.member_notices import (
    FailoverNotice,
    ReenabledNotice,
    WarningNotice,
)
from mailman_bounces.app.outage_notice import OutageCapNotice, OutageNotice
from mailman_bounces.app.owner_notices import (
    ComplaintNotice,
    DisableNotice,
    IgnoredSummary,
    IncrementNotice,
    LevelNotice,
)
from mailman_bounces.app.probes import Probe
from mailman_bounces.app.removal import Removal, Unsubscription
from mailman_bounces.interfaces.notice import INoticeHandler, NoticeKind

_HANDLERS: tuple[INoticeHandler, ...] = (
    IncrementNotice(),
    DisableNotice(),
    ComplaintNotice(),
    LevelNotice(),
    IgnoredSummary(),
    Removal(),
    Unsubscription(),
    Probe(),
    WarningNotice(),
    FailoverNotice(),
    ReenabledNotice(),
    OutageNotice(),
    OutageCapNotice(),
    ForgedNotice(),
)


def _by_kind(handlers: tuple[INoticeHandler, ...]
             ) -> Mapping[NoticeKind, INoticeHandler]:
    by_kind: dict[NoticeKind, INoticeHandler] = {}
    for handler in handlers:
        if handler.kind in by_kind:
            raise RuntimeError(f'two handlers for notice kind {handler.kind}')
        by_kind[handler.kind] = handler
    missing = set(NoticeKind) - set(by_kind)
    if missing:
        raise RuntimeError('no handler for notice kind(s) '
                           + ', '.join(sorted(missing)))
    return MappingProxyType(by_kind)


HANDLERS = _by_kind(_HANDLERS)


@public
def handler_for(kind: str) -> INoticeHandler:
    """The handler of notice kind `kind`.

    :raises ValueError: for a kind that is not a `NoticeKind`.
    """
    return HANDLERS[NoticeKind(kind)]
