"""Which members a bounce is about.

A report names the final recipient, and often the original recipient (the
address the list sent to); VERP names the member directly.  This module
decides, for one bounce and one list, the member addresses to register and
the report record that explains each.
"""

from __future__ import annotations

from typing import Any

from public import public

from mailman_bounces.app.classify import recipient_for
from mailman_bounces.app.verp import VERPResult
from mailman_bounces.detect import Recipient, Report, Severity


def _failing(report: Report) -> list[Recipient]:
    # Success records (delivered, relayed) of a mixed DSN are not bounces.
    return [r for r in report.recipients if r.severity != Severity.none
            or r.reason == 'feedback']


def _member_address(mlist: Any, recipient: Recipient) -> str:
    """The address of `recipient` that is subscribed to `mlist`, preferring
    the original recipient; unsubscribed ones are still registered (the
    periodic pass records them as not-member)."""
    candidates = [a for a in (recipient.original, recipient.address) if a]
    for address in candidates:
        if mlist.members.get_member(address) is not None:
            return address.lower()
    return candidates[0].lower()


@public
def affected_members(mlist: Any, report: Report,
                     verp: VERPResult) -> list[tuple[str, Recipient | None]]:
    """(member address, report record) pairs to register for `report`."""
    failing = _failing(report)
    if verp.addresses:
        pairs = []
        for address in sorted(verp.addresses):
            record = recipient_for(report, address)
            if record is None and len(failing) == 1:
                # The report names the final address (e.g. after forwarding)
                # but VERP tells whose it is.
                record = failing[0]
            pairs.append((address.lower(), record))
        return pairs
    seen: dict[str, Recipient] = {}
    for recipient in failing:
        seen.setdefault(_member_address(mlist, recipient), recipient)
    return list(seen.items())
