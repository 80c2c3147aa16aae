"""Naming mailing lists, and text that cannot match anything stored."""

from __future__ import annotations

from mailman.config import config
from mailman.interfaces.listmanager import IListManager
from public import public
from zope.component import getUtility


@public
def unmatchable(text: str | None) -> bool:
    """Whether `text` cannot match anything stored, so that no query is
    made with it: PostgreSQL refuses NUL characters, and Mailman creates
    its MySQL tables with the 3-byte utf8 character set, whose columns
    hold no character outside the BMP and which MySQL refuses to even
    compare with one."""
    if text is None:
        return False
    if '\x00' in text:
        return True
    return (config.db.engine.dialect.name == 'mysql'
            and any(ord(character) > 0xFFFF for character in text))


@public
def find_list(spec: str):
    """The mailing list named by `spec`, a list-id or a posting address,
    as core's REST API and commands take it (`IListManager.get`), or
    None."""
    if unmatchable(spec):
        # Core's lookup would send it to the database, which refuses it.
        return None
    return getUtility(IListManager).get(spec)


@public
def list_id_of(spec: str) -> str:
    """The list-id named by `spec`, a list-id or a posting address, even
    for a list that no longer exists (its events stay): Mailman's list-id
    is the posting address with a dot for the @."""
    spec = spec.strip()
    local, at, domain = spec.partition('@')
    return f'{local}.{domain}' if at else spec
