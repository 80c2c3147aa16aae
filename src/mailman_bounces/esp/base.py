"""What every provider module works with."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from mailman_bounces.config.hooks import EndpointConfig
from mailman_bounces.detect.reasons import classify, severity_of

# Longest stored diagnostic text; ESPs echo whole SMTP transcripts.
MAX_DIAGNOSTIC = 2000
# Most notifications one request may carry (SendGrid and SparkPost batch).
MAX_EVENTS = 5000


# The engine's reasons for a refusal of the sender, its host or the message
# rather than of the address (blocks, reputation, policy, content): what
# an ESP's "blocked" answer may be.  All weigh 0 by default
# (``[weights]``): recorded, never held against the member unless the list
# gives them a weight.
BLOCK_REASONS = frozenset({
    'rejected', 'blocked', 'spamdetected', 'virusdetected',
    'policyviolation', 'securityerror', 'authfailure', 'badreputation',
    'requireptr', 'notcompliantrfc', 'norelaying', 'toomanyconn',
    'speeding', 'contenterror'})


class Unverified(Exception):
    """The request's signature or credentials do not check out (401)."""


class Stale(Unverified):
    """The request's signed time is outside the window: a captured request
    replayed, or a clock far off (401, logged as such)."""


class Malformed(Exception):
    """The request cannot be read (400)."""


@dataclass(frozen=True)
class HookRequest:
    """One POST to /webhooks/<provider>/<endpoint>."""

    headers: dict[str, str]      # names lower-cased
    body: bytes
    now: float                   # seconds since the epoch (Mailman's now())

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), '')


@dataclass(frozen=True)
class HookEvent:
    """One notification about one recipient, normalised like a bounce
    message's recipient record."""

    event_id: str
    recipient: str
    kind: str                    # bounce, delay or complaint
    severity: str                # hard, soft or none
    reason: str                  # detect.reasons vocabulary
    status: str | None = None
    diagnostic: str | None = None
    list_hint: str | None = None
    message_id: str | None = None
    remote_mta: str | None = None
    feedback_type: str | None = None


@dataclass
class Parsed:
    """What a verified request carries."""

    events: list[HookEvent] = field(default_factory=list)
    # Notifications deliberately ignored (opens, deliveries ...).
    ignored: int = 0
    # Keys that must never be seen twice: (kind, key).  A replayed Mailgun
    # token is refused; a SparkPost batch seen before is acknowledged.
    once: list[tuple[str, str]] = field(default_factory=list)
    # SNS: the URL to call to confirm a subscription to an allowed topic.
    subscribe_url: str | None = None


class Provider(Protocol):
    """A provider module."""

    NAME: str

    def verify(self, request: HookRequest, endpoint: EndpointConfig,
               window: float) -> None:
        """Raise `Unverified` unless the request is authentic."""

    def parse(self, request: HookRequest) -> Parsed:
        """The notifications of a verified request; `Malformed` if none
        can be read."""


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise Malformed('the body is not JSON') from None


def text(value: Any, size: int = 255) -> str | None:
    """`value` as text cut to `size`, or None when it is not a string or
    number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    result = str(value).strip()
    return result[:size] or None


def address(value: Any) -> str | None:
    found = text(value)
    if found is None or '@' not in found:
        return None
    return found.strip('<>').lower()


def status_of(value: Any) -> str | None:
    """An RFC 3463 status code, if `value` is one."""
    found = text(value, 16)
    if found and len(found.split('.')) == 3 and found[0] in '245':
        return found
    return None


def event(event_id: str, recipient: str, *, kind: str = 'bounce',
          reason: str | None = None, status: str | None = None,
          diagnostic: str | None = None, permanent: bool | None = None,
          **extra: Any) -> HookEvent:
    """A normalised event.  Without a provider-given `reason`, the engine's
    classifier decides it from the status and the diagnostic text."""
    diagnostic = text(diagnostic, MAX_DIAGNOSTIC)
    if permanent is None:
        permanent = bool(status and status.startswith('5'))
    if kind == 'complaint':
        reason, severity = 'feedback', 'none'
    else:
        reason = reason or classify(status, diagnostic)
        severity = severity_of(reason, permanent).value
    return HookEvent(event_id=event_id[:255], recipient=recipient, kind=kind,
                     severity=severity, reason=reason, status=status,
                     diagnostic=diagnostic, **extra)


def list_from_header(value: Any) -> str | None:
    """The list id in a List-Id header value (``Name <list.example.com>``)."""
    found = text(value, 1000)
    if not found:
        return None
    if '<' in found and '>' in found:
        found = found[found.rindex('<') + 1:found.rindex('>')]
    return found.strip().lower() or None


def basic_auth(request: HookRequest, secret: str | None) -> None:
    """Check the basic auth password against the endpoint's secret."""
    value = request.header('authorization')
    scheme, _, token = value.partition(' ')
    if not secret or scheme.lower() != 'basic':
        raise Unverified('no basic auth')
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unverified('bad basic auth') from None
    password = decoded.partition(':')[2]
    if not hmac.compare_digest(password.encode(), secret.encode()):
        raise Unverified('wrong password')


def in_window(timestamp: str, now: float, window: float) -> None:
    try:
        value = float(timestamp)
    except ValueError:
        raise Unverified('bad timestamp') from None
    check_age(now - value, window, window, f'timestamp {timestamp}')


def check_age(age: float, oldest: float, ahead: float, what: str) -> None:
    """Raise `Stale` unless a signed time `age` seconds ago (negative: in
    the future) is at most `oldest` seconds old and `ahead` seconds
    ahead."""
    if age > oldest:
        raise Stale(f'{what} is {age:.0f} s old, more than {oldest:.0f} s')
    if -age > ahead:
        raise Stale(f'{what} is {-age:.0f} s ahead, more than '
                    f'{ahead:.0f} s')
