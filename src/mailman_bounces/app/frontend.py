"""What the web front end reads that the other resources do not show: the
subscription behind a re-enable token (without redeeming it), a stored
bounce message taken apart for people to read, and how many members each
list has bouncing.  The REST resources are `mailman_bounces.rest.frontend`,
the shapes `mailman_bounces.fields`.
"""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from mailman.config import config
from mailman.interfaces.listmanager import IListManager
from mailman.interfaces.member import DeliveryStatus
from public import public
from sqlalchemy import func, select
from zope.component import getUtility

from mailman_bounces.app.queries.callbacks import CALLBACK_STATES
from mailman_bounces.app.queries.events import stored_message
from mailman_bounces.app.queries.members import (
    STANDING_FIELDS,
    disabled_counts,
    find_members,
)
from mailman_bounces.app.reenable_tokens import peek_token
from mailman_bounces.app.settings import policy_for
from mailman_bounces.config import site_config
from mailman_bounces.model.event import BounceEvent
from mailman_bounces.model.hooks import Callback, CallbackEndpoint
from mailman_bounces.signing import EVIDENCE

# A page shows this much of a bounce's text; stored messages are already
# cut at the configured size, but that may be large.
TEXT_LIMIT = 64 * 1024
# The most addresses one evidence query takes (a page of members).
MAX_ADDRESSES = 100
# And no more headers than this (a forged message can have thousands).
HEADER_LIMIT = 200
# What a header value is cut to.
HEADER_VALUE_LIMIT = 2000


@public
def token_preview(token: str) -> dict[str, Any] | None:
    """The subscription a re-enable token would re-enable, the token left
    in place; None if it is unknown, used, expired or of another kind."""
    found = peek_token(token)
    if found is None:
        return None
    mlist, member = found
    email = member.address.email
    rows = find_members(mlist.list_id, email=email).rows
    scoring = list_scoring(mlist)
    standing = STANDING_FIELDS.values(rows[0]) if rows else {}
    return {
        'list_id': mlist.list_id,
        'fqdn_listname': mlist.fqdn_listname,
        'list_name': mlist.display_name or mlist.list_name,
        'email': email,
        'delivery_status': standing.get('delivery_status',
                                        DeliveryStatus.enabled.name),
        'disabled_reason': standing.get('disabled_reason'),
        'last_reason': standing.get('last_reason'),
        'score': float(standing.get('score', 0)),
        'threshold': scoring['threshold'],
        'total_warnings_sent': member.total_warnings_sent or 0,
        'warnings': scoring['warnings'],
    }


@public
def list_scoring(mlist) -> dict[str, Any]:
    """What `mlist`'s members are measured against: its policy's
    threshold and how many warnings come before removal."""
    policy = policy_for(mlist)
    return {'list_id': mlist.list_id, 'threshold': float(policy.threshold),
            'warnings': policy.bounce_you_are_disabled_warnings}


def _header_value(value: Any) -> str:
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError):
        # An unknown charset or broken encoded word: shown as sent.
        text = str(value)
    return text[:HEADER_VALUE_LIMIT]


def _readable_part(message: Message) -> Message | None:
    """The part a person reads: the first text/plain one (the explanation
    of a DSN, which comes first in multipart/report)."""
    for part in message.walk():
        if part.get_content_type() == 'text/plain' and (
                not part.is_multipart()):
            return part
    return None


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True) or b''
    charset = part.get_content_charset() or 'us-ascii'
    try:
        return payload.decode(charset, errors='replace')
    except LookupError:
        return payload.decode('us-ascii', errors='replace')


@public
def readable_message(event_id: int) -> dict[str, Any] | None:
    """The stored message of an event: its headers and readable text,
    bounded; None once it is not stored."""
    stored = stored_message(event_id)
    if stored is None:
        return None
    content = bytes(stored.content)
    message = message_from_bytes(content)
    part = _readable_part(message)
    text = _decoded(part) if part is not None else ''
    return {
        'event_id': event_id,
        'size': len(content),
        'headers': [[name, _header_value(value)] for name, value
                    in message.items()[:HEADER_LIMIT]],
        'text': text[:TEXT_LIMIT],
        'truncated': len(text) > TEXT_LIMIT,
    }


@public
def bouncing_lists() -> list[dict[str, Any]]:
    """The lists with bouncing members, most first."""
    disabled = disabled_counts()
    entries = []
    for mlist in getUtility(IListManager).mailing_lists:
        bouncing = find_members(mlist.list_id, bouncing=True,
                                count=1, page=1).total_size
        if not bouncing:
            continue
        entries.append({
            'list_id': mlist.list_id,
            'fqdn_listname': mlist.fqdn_listname,
            'members': mlist.members.member_count,
            'bouncing': bouncing,
            'disabled': disabled.get(mlist.list_id, 0),
        })
    entries.sort(key=lambda entry: (-entry['bouncing'], entry['list_id']))
    return entries


@public
def members_evidence(list_id: str, emails: list[str]
                     ) -> list[dict[str, Any]]:
    """For each of `emails` with events on the list: how many of its
    events were on verified, unverified and forged evidence, and the
    newest event's evidence.  One query, grouped by address and
    evidence; the newest event is the group with the highest id."""
    wanted = sorted({email.lower() for email in emails[:MAX_ADDRESSES]})
    event = BounceEvent
    query = (select(event.email, event.evidence, func.count(event.id),
                    func.max(event.id))
             .where(event.list_id == list_id, event.email.in_(wanted))
             .group_by(event.email, event.evidence))
    found: dict[str, dict[str, Any]] = {}
    newest: dict[str, int] = {}
    for email, evidence, count, last_id in config.db.store.execute(query):
        entry = found.setdefault(email, {
            'email': email, **dict.fromkeys(EVIDENCE, 0)})
        entry[evidence] = count
        if last_id > newest.get(email, -1):
            newest[email] = last_id
            entry['last'] = evidence
    return [found[email] for email in sorted(found)]


def _outbox_counts() -> dict[str, dict[str, int]]:
    """Callbacks per endpoint key and state."""
    query = (select(Callback.endpoint, Callback.state, func.count())
             .group_by(Callback.endpoint, Callback.state))
    counts: dict[str, dict[str, int]] = {}
    for key, state, count in config.db.store.execute(query):
        counts.setdefault(key, {})[state] = count
    return counts


@public
def callback_outbox() -> list[dict[str, Any]]:
    """Every callback endpoint (site-wide ones from the configuration,
    the lists' from the database) with its callbacks pending, delivered
    and dead; then keys the outbox still names whose endpoint is gone."""
    counts = _outbox_counts()
    entries = [
        {'endpoint': f'site:{endpoint.name}', 'url': endpoint.url,
         'list_id': None, 'enabled': True}
        for endpoint in sorted(site_config().callbacks.endpoints,
                               key=lambda endpoint: endpoint.name)]
    rows = config.db.store.execute(
        select(CallbackEndpoint).order_by(CallbackEndpoint.id)).scalars()
    entries.extend(
        {'endpoint': f'list:{row.id}', 'url': row.url,
         'list_id': row.list_id, 'enabled': bool(row.enabled)}
        for row in rows)
    known = {entry['endpoint'] for entry in entries}
    entries.extend(
        {'endpoint': key, 'url': None, 'list_id': None, 'enabled': False}
        for key in sorted(set(counts) - known))
    for entry in entries:
        states = counts.get(entry['endpoint'], {})
        for state in CALLBACK_STATES:
            entry[state] = states.get(state, 0)
    return entries
