"""The one way a received bounce becomes registrations.

The bounce runner (mail queued by the LMTP runner) and the bouncemail
runner (mail fetched from IMAP or POP3 mailboxes) both turn a received
message into the `Registration`\\s of `BounceProcessor.record_all` here, so
VERP decoding, detection, member matching and the fingerprint that makes
registration idempotent are the same whichever way a bounce came in.
Message tracking's reports (`mailman_bounces.app.tracking`) are matched
here too, on the same way in: success, delay and read reports stop here,
failures go on to be registered.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid, parseaddr
from typing import Any

from mailman.email.message import Message
from mailman.runners.lmtp import split_recipient
from mailman.utilities.email import add_message_hash
from public import public

from mailman_bounces.app.classify import REGISTERED_KINDS, safe_detect
from mailman_bounces.app.matching import affected_members
from mailman_bounces.app.processor import Registration
from mailman_bounces.app.rules import (
    message_facts,
    recipient_facts,
    rule_columns,
    rules_for,
)
from mailman_bounces.app.store import (
    FINGERPRINT_KEY,
    RAW_KEY,
    fingerprint,
    fingerprint_bytes,
    received_bytes,
    received_content,
)
from mailman_bounces.app.tracking import TrackingUpdate, match_tracking
from mailman_bounces.app.verp import (
    ENVELOPE_KEY,
    VERPResult,
    decode_verp,
    verify_complaint,
)
from mailman_bounces.detect import MAX_INPUT_BYTES, Kind, Report
from mailman_bounces.detect.tracking import (
    MDN,
    SUCCESS_ACTIONS,
    TrackingReport,
    parse_report,
)
from mailman_bounces.signing import VERIFIED

log = logging.getLogger('mailman.bounce')


@public
def bounces_list(recipient: str, listnames: set[str]) -> str | None:
    """The list whose -bounces address `recipient` is, or None."""
    address = parseaddr(recipient)[1].lower()
    if '@' not in address:
        return None
    local, subaddress, domain = split_recipient(address)
    if subaddress != 'bounces':
        return None
    if f'{local}-{subaddress}@{domain}' in listnames:
        # A list really named "something-bounces": a posting address.
        return None
    listname = f'{local}@{domain}'
    return listname if listname in listnames else None


@public
def received_message(content: bytes, mail_from: str | None) -> Message:
    """Parse a message as received; what Mailman adds on receipt is added.

    :raises Exception: whatever the parser raises on hopeless input.
    """
    msg = email.message_from_bytes(content, Message)
    msg.set_unixfrom(mail_from)
    if msg.get('message-id') is None:
        # Many DSNs carry no Message-ID; Mailman needs one.
        msg['Message-ID'] = make_msgid()
    msg.original_size = len(content)
    add_message_hash(msg)
    del msg['X-MailFrom']
    msg['X-MailFrom'] = mail_from or ''
    return msg


@public
def received_metadata(list_id: str, content: bytes, envelope: str | None,
                      received: datetime, max_size: int) -> dict[str, Any]:
    """The queue metadata of a bounce received as `content` for the list,
    at its -bounces address `envelope` (VERP or not) if known."""
    return {
        'listid': list_id,
        'original_size': len(content),
        'received_time': received,
        'subaddress': 'bounces',
        ENVELOPE_KEY: [parseaddr(envelope)[1].lower()] if envelope else [],
        # The fingerprint of the bytes as received: the same message
        # received twice (redelivered, fetched again after a crash) is
        # registered once.
        FINGERPRINT_KEY: fingerprint_bytes(content),
        # As received: what detection reads (never the parsed message
        # serialised again) and what is stored, so no more than the larger
        # of the two.
        RAW_KEY: content[:max(max_size, MAX_INPUT_BYTES)],
    }


@public
@dataclass
class Intake:
    """What a received message is, and the registrations it makes."""

    report: Report
    verp: VERPResult
    # 'bounce' (registrations made), 'autoreply', 'unrecognised' (not a
    # readable failure report), 'no-address' (names no member),
    # 'not-bounce' (a rule said so) or 'tracking' (a success or delay DSN
    # or an MDN: tracking only, never a bounce).
    outcome: str
    registrations: list[Registration] = field(default_factory=list)
    # What message tracking stores (`mailman_bounces.app.tracking`).
    tracking: list[TrackingUpdate] = field(default_factory=list)


@public
def intake(mlist: Any, msg: Message, msgdata: dict[str, Any]) -> Intake:
    """Decode, detect and match the bounce `msg` received for `mlist`."""
    verp = decode_verp(mlist, msg, msgdata)
    # The message as parsed already: most bounces are no multipart/report
    # of these types and cost one look at their Content-Type.
    tracking = parse_report(msg)
    updates: list[TrackingUpdate] = []
    if tracking is not None:
        tracked, updates = match_tracking(
            mlist, verp, tracking, msg, msgdata.get('received_time'),
            fingerprint(received_content(msg, msgdata), msgdata))
        if _tracking_only(tracking, tracked is not None):
            # Success, delay and read reports of tracked copies, and
            # success and read reports anywhere: never a bounce (and
            # not worth the bounce engine's time).
            return Intake(Report(), verp, 'tracking', tracking=updates)
        verp = tracked or verp
    found = _bounce_intake(mlist, msg, msgdata, verp)
    found.tracking = updates
    return found


def _tracking_only(report: TrackingReport, tracked: bool) -> bool:
    """Whether `report` is for tracking only, never a bounce: a read
    receipt; a DSN saying only that mail arrived; for a tracked copy, also
    one saying it is delayed.  (A delay report outside tracking is still a
    temporary failure; a DSN whose records were not all read goes to the
    bounce engine, which reads more layouts.)"""
    if report.kind == MDN:
        return True
    if not report.records or report.unread or report.failures:
        return False
    allowed = (*SUCCESS_ACTIONS, 'delayed') if tracked else SUCCESS_ACTIONS
    return all(record.value in allowed for record in report.records)


def _bounce_intake(mlist: Any, msg: Message, msgdata: dict[str, Any],
                   verp: VERPResult) -> Intake:
    report = safe_detect(msg, received_bytes(msgdata))
    if report.kind == Kind.autoreply:
        return Intake(report, verp, 'autoreply')
    if report.kind not in REGISTERED_KINDS:
        return Intake(report, verp, 'unrecognised')
    if report.kind == Kind.complaint and verp.evidence != VERIFIED:
        # An ARF report is verified by the signed return path or header of
        # the original it returns.
        verp = verify_complaint(mlist, msg) or verp
    affected = affected_members(mlist, report, verp)
    if not affected:
        return Intake(report, verp, 'no-address')
    registrations = _ruled(mlist.list_id, msg, [
        Registration(mlist.list_id, email, msg, verp.context, report,
                     recipient, msgdata, verp.evidence)
        for email, recipient in affected])
    if not registrations:
        return Intake(report, verp, 'not-bounce')
    return Intake(report, verp, 'bounce', registrations)


def _ruled(list_id: str, msg: Message,
           registrations: list[Registration]) -> list[Registration]:
    """The registrations after the site's and the list's rules: changed,
    or dropped (not a bounce)."""
    rules = rules_for(list_id)
    if not rules:
        return registrations
    shared = message_facts(msg)
    where = (msg.get('message-id') or 'n/a').strip()
    kept = []
    for registration in registrations:
        columns = rule_columns(
            rules, recipient_facts(shared, registration.recipient),
            registration.email, list_id, where)
        if columns is not None:
            registration.ruled = columns
            kept.append(registration)
    return kept
