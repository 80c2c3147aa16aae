"""VERP decoding that tries the envelope recipient first.

Mailman sends each member's copy from ``list-bounces+member=domain@host``
(and probes from ``list-bounces+token@host``).  The bounce comes back to that
address as its envelope recipient; core looks for it only in the To:,
Delivered-To:, Envelope-To: and Apparently-To: headers, so a bounce whose
headers were rewritten on the way (SRS forwarding, some MTAs' own bounce
formats) cannot be decoded.  The plugin's LMTP runner keeps the envelope
recipient in the message metadata; this module tries it before the headers,
using core's own VERP parsers so the site's ``verp_regexp`` and
``verp_probe_regexp`` settings keep their meaning.

Signed return paths (`mailman_bounces.app.signing`) are looked for first,
in the envelope and then in the same headers.  What was found decides the
evidence every event of the bounce rests on:

* a valid signed address: *verified*;
* a signed-looking address whose MAC, key or expiry is wrong: *forged*;
* core's probe token: *verified* (a random token only the member's
  mailbox received);
* core's unsigned VERP or the plain ``-bounces`` address: *unverified*
  (anyone can write a DSN to them, naming anyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.utils import getaddresses
from typing import Any

from mailman.app.bounces import ProbeVERP, StandardVERP
from mailman.interfaces.bounce import BounceContext
from public import public

from mailman_bounces.app.signing import (
    SIGNATURE_HEADER,
    CheckedAddress,
    check_address,
    check_token,
)
from mailman_bounces.signing import (
    PROBE,
    UNVERIFIED,
    VERIFIED,
)

# The msgdata key where the LMTP runner records the envelope recipients.
ENVELOPE_KEY = 'envelope_recipients'
# The headers core reads VERP addresses from.
_VERP_HEADERS = ('to', 'delivered-to', 'envelope-to', 'apparently-to')


@public
@dataclass(frozen=True)
class VERPResult:
    """What VERP decoding found: the member addresses and the context."""

    addresses: frozenset[str]
    context: BounceContext
    source: str  # 'envelope', 'headers', 'envid' or 'none'
    evidence: str = UNVERIFIED
    # The kind and ident of the signed token found, if one was.
    kind: str | None = None
    ident: int | None = None


def _as_message(address: str) -> Message:
    # Core's parsers read addresses out of a message's headers; hand them a
    # message whose only header is the envelope recipient.
    carrier = Message()
    carrier['To'] = address
    return carrier


def _decode(mlist: Any, msg: Message) -> tuple[set[str], BounceContext,
                                              str]:
    addresses = StandardVERP().get_verp(mlist, msg)
    if addresses:
        return set(addresses), BounceContext.normal, UNVERIFIED
    # A probe token can be confirmed only once: ProbeVERP consumes it.
    addresses = ProbeVERP().get_verp(mlist, msg)
    if addresses:
        return set(addresses), BounceContext.probe, VERIFIED
    return set(), BounceContext.normal, UNVERIFIED


def _signed(mlist: Any, addresses, source: str) -> VERPResult | None:
    """The result of the first signed-looking address, or None."""
    for address in addresses:
        checked = check_address(mlist, address)
        if checked is not None:
            return from_checked(checked, source)
    return None


@public
def from_checked(checked: CheckedAddress, source: str) -> VERPResult:
    """What a checked signed address says, found at `source`."""
    # A forged address names its member too (when the id is one of the
    # list's): the event is recorded against them, never scored.
    found = frozenset([checked.email] if checked.email else [])
    context = (BounceContext.probe if checked.kind == PROBE
               and checked.evidence == VERIFIED else BounceContext.normal)
    return VERPResult(found, context, source, checked.evidence,
                      checked.kind, checked.ident)


def _header_addresses(msg: Message) -> list[str]:
    found = []
    for name in _VERP_HEADERS:
        for value in msg.get_all(name) or ():
            found.extend(address for _, address in getaddresses([str(value)])
                         if address)
    return found


@public
def decode_verp(mlist: Any, msg: Message,
                msgdata: dict[str, Any]) -> VERPResult:
    """Decode the VERP address of a bounce, envelope first, signed
    addresses before core's."""
    envelope = list(msgdata.get(ENVELOPE_KEY) or ())
    signed = (_signed(mlist, envelope, 'envelope')
              or _signed(mlist, _header_addresses(msg), 'headers'))
    if signed is not None:
        return signed
    for recipient in envelope:
        addresses, context, evidence = _decode(mlist, _as_message(recipient))
        if addresses:
            return VERPResult(frozenset(addresses), context, 'envelope',
                              evidence)
    addresses, context, evidence = _decode(mlist, msg)
    if addresses:
        return VERPResult(frozenset(addresses), context, 'headers', evidence)
    return VERPResult(frozenset(), BounceContext.normal, 'none', UNVERIFIED)


# Parts of a message that can return the original message (ARF's third
# part, a DSN's returned message or headers).
_RETURNED_TYPES = ('message/rfc822', 'text/rfc822-headers')
# A complaint's original is looked at this deep, and no more of its parts:
# a stranger writes the message.
_MAX_PARTS = 50


def _returned_originals(msg: Message) -> list[Message]:
    found = []
    for count, part in enumerate(msg.walk()):
        if count >= _MAX_PARTS:
            break
        content_type = part.get_content_type()
        if content_type == 'message/rfc822':
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                found.append(payload[0])
        elif content_type == 'text/rfc822-headers':
            text = part.get_payload(decode=True) or b''
            found.append(message_from_bytes(text.split(b'\n\n')[0]))
    return found


@public
def verify_complaint(mlist: Any, msg: Message) -> VERPResult | None:
    """A complaint is verified when the original it returns carries a valid
    signed return path (Return-Path) or the plugin's signature header; the
    result names the member they sign for.  None if the original carries
    neither (forged signatures included: a complaint that is not verified
    is only reported, whatever its original says)."""
    for original in _returned_originals(msg):
        for name in ('return-path', SIGNATURE_HEADER):
            for value in original.get_all(name) or ():
                value = str(value).strip()
                checked = (check_address(mlist, value) if '@' in value
                           else check_token(mlist, value))
                if (checked is not None and checked.evidence == VERIFIED
                        and checked.email):
                    return VERPResult(frozenset([checked.email]),
                                      BounceContext.normal, 'original',
                                      VERIFIED)
    return None
