"""How the configured bounce mailboxes are doing (for REST and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailman.config import config
from public import public
from sqlalchemy import select

from mailman_bounces.config import MailboxConfig, site_config
from mailman_bounces.model.mailbox import MailboxState


@public
@dataclass(frozen=True)
class MailboxStatus:
    """A mailbox's configuration and polling state (`fields.MAILBOX`)."""

    name: str
    protocol: str
    host: str
    port: int
    security: str
    user: str
    folder: str
    enabled: bool
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    next_poll: datetime | None = None
    seen: int = 0
    registered: int = 0
    unparsed: int = 0


def _status(box: MailboxConfig, state: MailboxState | None) -> MailboxStatus:
    polled = {} if state is None else {
        key: getattr(state, key) for key in (
            'last_poll', 'last_success', 'last_error', 'failures',
            'next_poll', 'seen', 'registered', 'unparsed')}
    return MailboxStatus(
        name=box.name, protocol=box.protocol, host=box.host,
        port=box.effective_port, security=box.security, user=box.user,
        folder=box.folder, enabled=box.enabled, **polled)


@public
def mailbox_statuses() -> list[MailboxStatus]:
    """Every configured mailbox, by name (read only: never polled ones
    show no state)."""
    boxes = site_config().mailboxes
    states = {state.name: state for state in config.db.store.execute(
        select(MailboxState).where(MailboxState.name.in_(sorted(boxes)))
    ).scalars()}
    return [_status(boxes[name], states.get(name)) for name in sorted(boxes)]
