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
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Any

from mailman.app.bounces import ProbeVERP, StandardVERP
from mailman.interfaces.bounce import BounceContext
from public import public

# The msgdata key where the LMTP runner records the envelope recipients.
ENVELOPE_KEY = 'envelope_recipients'


@public
@dataclass(frozen=True)
class VERPResult:
    """What VERP decoding found: the member addresses and the context."""

    addresses: frozenset[str]
    context: BounceContext
    source: str  # 'envelope', 'headers' or 'none'


def _as_message(address: str) -> Message:
    # Core's parsers read addresses out of a message's headers; hand them a
    # message whose only header is the envelope recipient.
    carrier = Message()
    carrier['To'] = address
    return carrier


def _decode(mlist: Any, msg: Message) -> tuple[set[str], BounceContext]:
    addresses = StandardVERP().get_verp(mlist, msg)
    if addresses:
        return set(addresses), BounceContext.normal
    # A probe token can be confirmed only once: ProbeVERP consumes it.
    addresses = ProbeVERP().get_verp(mlist, msg)
    if addresses:
        return set(addresses), BounceContext.probe
    return set(), BounceContext.normal


@public
def decode_verp(mlist: Any, msg: Message,
                msgdata: dict[str, Any]) -> VERPResult:
    """Decode the VERP address of a bounce, envelope first."""
    for recipient in msgdata.get(ENVELOPE_KEY) or ():
        addresses, context = _decode(mlist, _as_message(recipient))
        if addresses:
            return VERPResult(frozenset(addresses), context, 'envelope')
    addresses, context = _decode(mlist, msg)
    if addresses:
        return VERPResult(frozenset(addresses), context, 'headers')
    return VERPResult(frozenset(), BounceContext.normal, 'none')
