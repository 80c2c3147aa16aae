"""The result types of the detection engine: :class:`Report` and :class:`Recipient`.

These are the only objects other code (the Mailman runner, the CLI) sees, so they
are plain frozen dataclasses and ``str``-valued enums that serialise to JSON as-is.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Kind(str, enum.Enum):
    """What a message is, as far as bounce processing is concerned."""

    bounce = 'bounce'        # at least one recipient failed permanently
    delay = 'delay'          # only temporary failures or delay notices
    complaint = 'complaint'  # RFC 5965 abuse feedback report (ARF)
    autoreply = 'autoreply'  # RFC 3834 auto-reply, vacation, out-of-office
    none = 'none'            # not recognised, or nothing failed (success DSN)

    def __str__(self) -> str:
        return self.value


class Severity(str, enum.Enum):
    """How final a recipient's failure is."""

    hard = 'hard'  # the address itself is bad: it will never work
    soft = 'soft'  # transient, or a problem with this message rather than the address
    none = 'none'  # not a failure at all (delivered, feedback, vacation)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient a bounce (or complaint, or auto-reply) is about."""

    address: str
    original: str | None = None
    action: str | None = None
    severity: Severity = Severity.soft
    reason: str = 'undefined'
    status: str | None = None
    reply_code: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    detector: str = ''
    feedback_type: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready dict (enums as their string values)."""
        data = asdict(self)
        data['severity'] = self.severity.value
        return data


@dataclass(frozen=True, slots=True)
class Report:
    """What :func:`mailman_bounces.detect.detect` found in one message."""

    kind: Kind = Kind.none
    recipients: list[Recipient] = field(default_factory=list)
    detector: str | None = None
    feedback_type: str | None = None

    @property
    def addresses(self) -> list[str]:
        """The final recipient addresses, in report order."""
        return [recipient.address for recipient in self.recipients]

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            'kind': self.kind.value,
            'detector': self.detector,
            'feedback_type': self.feedback_type,
            'recipients': [recipient.as_dict() for recipient in self.recipients],
        }

