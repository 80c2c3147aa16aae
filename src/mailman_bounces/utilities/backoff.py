"""Exponential back-off between tries of something that is down for now."""

from __future__ import annotations

from dataclasses import dataclass

from public import public

# Seconds before the first new try, and the longest wait between tries.
FIRST_RETRY = 2.0
LONGEST_RETRY = 300.0


@public
@dataclass
class Backoff:
    """When to try again after consecutive failures.

    Times are a monotonic clock's seconds (``time.monotonic``): the wait is
    real time, whatever Mailman's (possibly shifted) wall clock says.
    """

    first: float = FIRST_RETRY
    longest: float = LONGEST_RETRY
    failures: int = 0
    delay: float = 0.0
    retry_at: float = 0.0

    def failed(self, clock: float) -> float:
        """Record a failure at `clock`; the seconds until the next try."""
        self.failures += 1
        self.delay = (self.first if self.failures == 1
                      else min(self.longest, self.delay * 2))
        self.retry_at = clock + self.delay
        return self.delay

    def remaining(self, clock: float) -> float:
        """Seconds still to wait at `clock` (0 when a try is due)."""
        return max(0.0, self.retry_at - clock) if self.failures else 0.0

    def succeeded(self) -> int:
        """Forget the failures; how many there were."""
        failures, self.failures = self.failures, 0
        self.delay = self.retry_at = 0.0
        return failures
