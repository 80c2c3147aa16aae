"""Which recipients of a post get a signed VERP copy (Sympa's verp_rate).

VERP costs one SMTP transaction per recipient, so a list can VERP only a
share of each post.  The share rotates: the recipients, in a stable order,
are taken in consecutive windows of ``ceil(n * rate)``, the window moving
on by its size with each post, so that every recipient gets a VERPed copy
at least once every ``ceil(1 / rate)`` posts (``ceil(n / ceil(n * rate))``
posts, which is no more).

Pure: no Mailman imports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ['rotating_share']


def rotating_share(recipients: Iterable[str], post_number: int,
                   rate: float) -> set[str]:
    """The recipients of post `post_number` to VERP, at `rate` (0 to 1)."""
    ordered = sorted(set(recipients))
    count = len(ordered)
    if not count or rate <= 0:
        return set()
    if rate >= 1:
        return set(ordered)
    size = math.ceil(count * rate)
    start = (post_number * size) % count
    return {ordered[(start + offset) % count] for offset in range(size)}
