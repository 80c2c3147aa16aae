"""Helpers for the Mailman-side tests: lists, members, bounces, the clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from mailman_bounces.tests.samples import arf, dsn


def make_list(name: str = 'test@example.com', members=(), **settings):
    """Create a list with `members` (emails) and core `settings`."""
    from mailman.app.lifecycle import create_list
    from mailman.interfaces.usermanager import IUserManager
    from zope.component import getUtility
    mlist = create_list(name)
    mlist.send_welcome_message = False
    mlist.send_goodbye_message = False
    for key, value in settings.items():
        setattr(mlist, key, value)
    users = getUtility(IUserManager)
    for email in members:
        address = users.get_address(email) or users.create_address(email)
        mlist.subscribe(address)
    commit()
    return mlist


def commit() -> None:
    from mailman.config import config
    config.db.commit()


def member(mlist, email: str):
    return mlist.members.get_member(email)


def bounce(mlist, email: str, status: str = '5.1.1',
           diagnostic: str = '550 5.1.1 <{email}>: user unknown',
           action: str = 'failed', context=None):
    """Register a DSN about `email` through the plugin's processor."""
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility
    text = dsn(email, status=status, action=action,
               diagnostic=diagnostic.format(email=email))
    msg = specialized_message_from_string(text)
    event = getUtility(IBounceProcessor).register(mlist, email, msg, context)
    commit()
    return event


def complain(mlist, email: str):
    """Register an ARF abuse complaint about `email`."""
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.testing.helpers import specialized_message_from_string
    from zope.component import getUtility
    msg = specialized_message_from_string(arf(email))
    event = getUtility(IBounceProcessor).register(mlist, email, msg)
    commit()
    return event


def run_pass():
    from mailman_bounces.app.bounce_pass import run_pass as pass_
    report = pass_()
    commit()
    return report


def fast_forward(days: float = 0, hours: float = 0) -> None:
    from mailman.utilities.datetime import factory
    factory.fast_forward(days=days + hours / 24)


def expire_pending(token: str) -> None:
    """Make the pending `token` a second past its expiration date."""
    from datetime import timedelta

    from mailman.config import config
    from mailman.model.pending import Pended
    from mailman.utilities.datetime import now
    config.db.store.query(Pended).filter_by(token=token).one(
        ).expiration_date = now() - timedelta(seconds=1)


def virgin_messages():
    """Take the messages queued for sending: [(to, subject, msg)]."""
    from mailman.testing.helpers import get_queue_messages
    items = get_queue_messages('virgin')
    return [(str(item.msg['to']), str(item.msg['subject']), item.msg)
            for item in items]


def subjects(messages) -> list[str]:
    return sorted(subject for _, subject, _ in messages)


def state(mlist, email: str):
    """The plugin's standing row of a member (or None)."""
    from mailman.config import config

    from mailman_bounces.model.member import MemberBounceState
    found = member(mlist, email)
    return None if found is None else config.db.store.get(
        MemberBounceState, found.id)


def events(**filters):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.model.event import BounceEvent
    query = select(BounceEvent).order_by(BounceEvent.id)
    for key, value in filters.items():
        query = query.where(getattr(BounceEvent, key) == value)
    return config.db.store.execute(query).scalars().all()


class SentStatement(NamedTuple):
    text: str
    parameters: Any
    many: bool


@contextmanager
def sent_statements() -> Iterator[list[SentStatement]]:
    """The SQL statements sent to the database within the block, in order
    (a statement with many parameter sets counts once)."""
    from mailman.config import config
    from sqlalchemy import event
    sent: list[SentStatement] = []

    def capture(conn, cursor, statement, parameters, context, many):
        sent.append(SentStatement(statement, parameters, many))
    engine = config.db.engine
    event.listen(engine, 'before_cursor_execute', capture)
    try:
        yield sent
    finally:
        event.remove(engine, 'before_cursor_execute', capture)
