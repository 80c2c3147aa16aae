"""What happens in the demo (``./run-demo``), scene by scene.

A scene is one strand of the story: the members it subscribes, the mail
that arrives for them day after day (real-looking bounces of several mail
servers, delivered to the instance over LMTP), and what must have come of
it.  After the last day the demo gathers what the instance reports (REST,
and the mail it sent, in the outbox) into a `Seen`, and each scene tells its
part of the story from it: sentences computed from what was seen, and
`Check`s comparing what was seen with what should have happened.  The demo
fails, naming the difference, when a check is not met.

To add a scene: subclass `Scene` (or `OneMember`), say what it subscribes
(`members`), prepares (`setup`), does each day (`mail_on`, or `act` for
anything else than mail over LMTP: a post to the list, an HTTP call), what
it needs to see beyond the common observations (`observe`), and what came of
it (`tell`); and add an instance to `SCENES`.  Every day a scene acts on
must be one of `PASS_DAYS`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

DOMAIN = 'lists.demo.example'
LIST = f'members@{DOMAIN}'
LIST_ID = f'members.{DOMAIN}'
OWNER = f'owner@{DOMAIN}'
SITE_ADMIN = f'postmaster@{DOMAIN}'
BOUNCES = f'members-bounces@{DOMAIN}'

# The days on which the demo runs a bounce pass: every day while bounces
# arrive, then once a week, when warnings fall due (core's default warning
# interval is 7 days).
PASS_DAYS = (*range(1, 13), 19, 26)

# Core's defaults for a new list, which the demo keeps.
THRESHOLD = 5.0              # bounce_score_threshold
WARNINGS = 3                 # bounce_you_are_disabled_warnings
WARNING_INTERVAL = 7         # bounce_you_are_disabled_warnings_interval, days


# --------------------------------------------------------------------------
# What was seen, and what was expected.

@dataclass(frozen=True)
class Delivery:
    """A message arriving at the instance's LMTP port."""

    recipient: str
    text: str


@dataclass(frozen=True)
class Mail:
    """A message the instance sent (a file in the outbox)."""

    to: tuple[str, ...]
    subject: str
    received: datetime        # on the demo's clock
    text: str                 # every text part, attachments included

    def mentions(self, email: str) -> bool:
        return email in self.subject or email in self.text


@dataclass(frozen=True)
class Check:
    """One expected outcome: what it is about, what was expected (and why,
    in `what`), and what the instance reported."""

    what: str
    expected: Any
    observed: Any

    @property
    def met(self) -> bool:
        return self.observed == self.expected

    def __str__(self) -> str:
        if self.met:
            return f'ok      {self.what}: {self.observed}'
        return (f'FAILED  {self.what}: expected {self.expected}, '
                f'observed {self.observed}')


@dataclass
class Told:
    """A scene's part of the story: sentences and checks."""

    sentences: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


@dataclass
class Seen:
    """What the instance reported after the last day."""

    day_one: datetime                 # day 1, 00:00, on the demo's clock
    events: list[dict]                # REST: the list's events, oldest first
    members: dict[str, dict]          # REST: members' standing, by address
    freezes: list[dict]               # REST: every outage freeze
    outbox: list[Mail]                # the mail sent, in order
    stuck: dict[str, int]             # messages in shunt, bad and retry
    # What each scene observed itself (`Scene.observe`), by scene class.
    extra: dict[str, Any] = field(default_factory=dict)

    def day(self, when: datetime | str) -> int:
        """The story's day number of a time on the demo's clock."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when).replace(tzinfo=None)
        return (when - self.day_one) // timedelta(days=1) + 1

    def events_of(self, email: str) -> list[dict]:
        return [event for event in self.events if event['email'] == email]

    def outcomes_of(self, email: str) -> dict[str, int]:
        return dict(Counter(event['outcome'] or 'pending'
                            for event in self.events_of(email)))

    def mail_to(self, email: str) -> list[Mail]:
        return [mail for mail in self.outbox if email in mail.to]

    def notices_about(self, email: str, kind: str,
                      to: str = OWNER) -> list[Mail]:
        """Notices of `kind` (see `NOTICE_SUBJECTS`) to `to` about `email`."""
        pattern = NOTICE_SUBJECTS[kind]
        return [mail for mail in self.mail_to(to)
                if pattern.search(mail.subject) and mail.mentions(email)]


# How the notices are told apart: by their subjects.
NOTICE_SUBJECTS = {
    'warning': re.compile(r'^reenable \S+ '),     # the token, for replies
    'disabled': re.compile(r'subscription disabled', re.IGNORECASE),
    'removed': re.compile(r'unsubscribed|removed', re.IGNORECASE),
    'complaint': re.compile(r'complaint', re.IGNORECASE),
    'frozen': re.compile(r'frozen', re.IGNORECASE),
    'ignored': re.compile(r'not held against', re.IGNORECASE),
}


def times(count: int, what: str = 'time') -> str:
    return f'{count} {what}' + ('' if count == 1 else 's')


def days_text(days: Iterable[int]) -> str:
    days = list(days)
    if not days:
        return 'no day'
    return ('day ' if len(days) == 1 else 'days ') + ', '.join(map(str, days))


def tally(counts: dict[str, int]) -> str:
    """Counts as text: 'scored 4, disabled 1'."""
    return ', '.join(f'{key} {value}'
                     for key, value in sorted(counts.items())) or 'none'


def reasons(events: list[dict]) -> str:
    return ', '.join(sorted({event['reason'] or '-' for event in events})
                     ) or 'no reason'


# --------------------------------------------------------------------------
# Scenes.

class Instance(Protocol):
    """What a scene may use of the running demo instance."""

    def deliver(self, deliveries: list[Delivery]) -> None: ...

    def rest(self, method: str, path: str, data: dict | None = None): ...

    def post_webhook(self, path: str, body: bytes,
                     headers: dict[str, str]) -> int: ...

    def mailbox(self) -> Any:
        """The demo's Dovecot (`mailman_bounces.testing.dovecot.Dovecot`),
        or None when Dovecot is not installed."""

    def poll_mailbox(self, name: str) -> None: ...

    def settle(self) -> None:
        """Until the runners handled every message in their queues."""

    def sent_files(self) -> list[Any]:
        """The mail the instance sent, as parsed messages, oldest first
        (headers included)."""


class Scene:
    """One strand of the story (see the module documentation)."""

    def members(self) -> dict[str, str]:
        """The addresses the scene subscribes, with display names."""
        return {}

    def featured(self) -> list[str]:
        """The addresses shown in the demo's table of who bounced."""
        return list(self.members())

    def setup(self, instance: Instance) -> None:
        """Anything the scene needs once the list and members exist."""

    def mail_on(self, day: int) -> list[Delivery]:
        """The bounces (and other mail) arriving on `day`."""
        return []

    def act(self, day: int, instance: Instance) -> int:
        """What happens on `day` before the pass; returns how many messages
        came in.  Scenes acting otherwise than by mail override this."""
        deliveries = self.mail_on(day)
        instance.deliver(deliveries)
        return len(deliveries)

    def observe(self, instance: Instance) -> Any:
        """After the last day: what the scene needs to see beyond the
        common observations; `tell` finds it as ``seen.extra[name]``."""
        return None

    def tell(self, seen: Seen) -> Told:
        """The scene's sentences and checks, from what was seen."""
        raise NotImplementedError


def verp(email: str) -> str:
    """The list's VERP bounce address for `email`."""
    local, domain = email.split('@')
    return f'members-bounces+{local}={domain}@{DOMAIN}'


def message_id(day: int, email: str, host: str) -> str:
    return f'<day{day}.{email.replace("@", ".")}@{host}>'


class OneMember(Scene):
    """A scene about one member, for whom the same kind of message comes
    back on some days."""

    email = ''
    name = ''
    days: Collection[int] = ()
    # Where the messages come: the member's VERP address, or the list's
    # plain bounce address (a report that must name the member itself).
    to_verp = True

    def message(self, day: int) -> str:
        """The message that comes back on `day`."""
        raise NotImplementedError

    def members(self) -> dict[str, str]:
        return {self.email: self.name}

    def mail_on(self, day: int) -> list[Delivery]:
        if day not in self.days:
            return []
        return [Delivery(verp(self.email) if self.to_verp else BOUNCES,
                         self.message(day))]


class ClosedMailbox(OneMember):
    """Anne's mailbox was closed: a hard bounce every day."""

    email = 'anne@dead-mailbox.example'
    name = 'Anne (her mailbox was closed)'
    days = range(1, 7)

    def message(self, day: int) -> str:
        return postfix_dsn(self.email, day)

    def tell(self, seen: Seen) -> Told:
        anne = self.email
        events = seen.events_of(anne)
        disabled = [seen.day(e['timestamp']) for e in events
                    if e['outcome'] == 'disabled']
        first_disabled = disabled[0] if disabled else None
        warnings = [seen.day(m.received) for m in seen.mail_to(anne)
                    if NOTICE_SUBJECTS['warning'].search(m.subject)]
        disable_notices = seen.notices_about(anne, 'disabled')
        removals = [seen.day(m.received)
                    for m in seen.notices_about(anne, 'removed')]
        still = seen.members.get(anne)
        sentence = (
            f"anne's mailbox was closed: {times(len(events), 'hard bounce')}"
            f" ({reasons(events)}), one a day; "
            + (f'disabled on day {first_disabled}' if first_disabled
               else 'never disabled')
            + f'; warned {times(len(warnings))} ({days_text(warnings)}),'
            f' each warning with a re-enable token; '
            + (f'removed on {days_text(removals)}' if still is None
               else f"still a member ({still['delivery_status']})")
            + f'; the owners got {times(len(disable_notices), "notice")} of'
            f' the disabling and {times(len(removals), "notice")} of the'
            f' removal.')
        # From the input and core's defaults: one point a day (userunknown
        # weighs 1), disabled at the threshold; a warning then and every
        # interval until WARNINGS were sent; removal an interval later.
        disabled_day = self.days[0] + int(THRESHOLD) - 1
        warning_days = [disabled_day + n * WARNING_INTERVAL
                        for n in range(WARNINGS)]
        return Told([sentence], [
            Check('anne: bounces registered', len(self.days),
                  len(events)),
            Check('anne: day she was disabled (threshold 5, 1 a day)',
                  disabled_day, first_disabled),
            Check('anne: days of her warnings (3, a week apart)',
                  warning_days, warnings),
            Check('anne: still a member', False, still is not None),
            Check('anne: days of the owners\' removal notices (a week after '
                  'the last warning)',
                  [warning_days[-1] + WARNING_INTERVAL], removals),
            Check('anne: notices of her disabling to the owners', 1,
                  len(disable_notices)),
        ])


class DmarcRejections(OneMember):
    """Bart's provider refuses the list's mail for DMARC."""

    email = 'bart@strict-dmarc.example'
    name = 'Bart (his provider enforces DMARC)'
    days = range(1, 11)
    to_verp = False

    def message(self, day: int) -> str:
        return dmarc_dsn(self.email, day)

    def tell(self, seen: Seen) -> Told:
        bart = self.email
        events = seen.events_of(bart)
        outcomes = seen.outcomes_of(bart)
        standing = seen.members.get(bart, {})
        summaries = [seen.day(m.received)
                     for m in seen.notices_about(bart, 'ignored')]
        sentence = (
            f"bart's provider refused the list's mail for DMARC on "
            f"{times(len(events), 'day')} ({reasons(events)}): outcomes "
            f'{tally(outcomes)}, never held against him (score '
            f"{standing.get('score', '-')}, delivery "
            f"{standing.get('delivery_status', 'gone')}); summarised to the "
            f"owners in {times(len(summaries), 'weekly notice')} "
            f'({days_text(summaries)}).')
        # The owners' summaries cover a week, Monday to Sunday, and go out
        # at the first pass of the next week.  Day 1 is a Monday: days 1-10
        # fall in two weeks, summed up on days 8 and 19 (the first pass of
        # the third week).
        return Told([sentence], [
            Check('bart: bounces registered', len(self.days),
                  len(events)),
            Check('bart: outcomes (DMARC weighs 0)',
                  {'ignored': len(self.days)}, outcomes),
            Check('bart: delivery', 'enabled',
                  standing.get('delivery_status')),
            Check('bart: score', 0.0, standing.get('score')),
            Check("bart: days of the owners' summaries naming him", [8, 19],
                  summaries),
        ])


class FullMailbox(OneMember):
    """Cris's mailbox is full for six days (Exim's plain-text bounce)."""

    email = 'cris@full-mailbox.example'
    name = 'Cris (her mailbox is often full)'
    days = range(1, 7)
    weight = 0.5                 # mailboxfull, the plugin's default

    def message(self, day: int) -> str:
        return exim_full(self.email, day)

    def tell(self, seen: Seen) -> Told:
        cris = self.email
        events = seen.events_of(cris)
        standing = seen.members.get(cris, {})
        sentence = (
            f"cris's mailbox was full on {times(len(events), 'day')} (an "
            f'Exim text bounce, no DSN; {reasons(events)}): outcomes '
            f'{tally(seen.outcomes_of(cris))}, score '
            f"{standing.get('score', '-')} of {THRESHOLD:g}, delivery "
            f"{standing.get('delivery_status', 'gone: removed')}.")
        return Told([sentence], [
            Check('cris: bounces registered', len(self.days),
                  len(events)),
            Check('cris: outcomes', {'scored': len(self.days)},
                  seen.outcomes_of(cris)),
            Check('cris: score (0.5 a day for a full mailbox)',
                  self.weight * len(self.days), standing.get('score')),
            Check('cris: delivery', 'enabled',
                  standing.get('delivery_status')),
            Check('cris: mail to her', 0, len(seen.mail_to(cris))),
        ])


class GmailOutage(Scene):
    """Gmail fails for every reader on day 2; one address really is gone
    and keeps bouncing."""

    readers = tuple(f'reader{n}@gmail.com' for n in range(40))
    dead = readers[0]
    outage_day = 2
    dead_days = range(2, 8)
    keys = (('domain', 'gmail.com'), ('mx', 'gmail-smtp-in.l.google.com'))

    def members(self) -> dict[str, str]:
        return dict.fromkeys(self.readers, '')

    def featured(self) -> list[str]:
        return [self.dead, self.readers[1]]

    def mail_on(self, day: int) -> list[Delivery]:
        bouncing = (self.readers if day == self.outage_day else
                    [self.dead] if day in self.dead_days else [])
        return [Delivery(verp(email), gmail_dsn(email, day))
                for email in bouncing]

    def tell(self, seen: Seen) -> Told:
        others = self.readers[1:]
        freezes = sorted((f['key_type'], f['key'], f['list_id'] or 'site',
                          seen.day(f['started'])) for f in seen.freezes)
        other_outcomes: Counter[str] = Counter()
        unharmed = 0
        for email in others:
            other_outcomes.update(seen.outcomes_of(email))
            standing = seen.members.get(email, {})
            if (standing.get('delivery_status') == 'enabled'
                    and standing.get('score') == 0):
                unharmed += 1
        dead = seen.members.get(self.dead, {})
        dead_outcomes = seen.outcomes_of(self.dead)
        counted = sum(count for outcome, count in dead_outcomes.items()
                      if outcome not in ('outage', 'pending'))
        told = {to: [mail for key_type, key in self.keys
                     for mail in seen.notices_about(key, 'frozen', to)]
                for to in (OWNER, SITE_ADMIN)}
        sentence = (
            f'on day {self.outage_day} Gmail failed for all '
            f'{len(self.readers)} Gmail readers within minutes: scoring was '
            f'frozen ({"; ".join(f"{k} {v} on {s}, day {d}" for k, v, s, d in freezes) or "no freeze"}),'
            f' and the owners and the site admin were told '
            f'({len(told[OWNER])} and {len(told[SITE_ADMIN])} notices).  The'
            f' bounces of the {len(others)} readers who did not bounce again '
            f"were recorded as the outage's (outcomes "
            f'{tally(other_outcomes)}; {unharmed} of them enabled with score '
            f'0); only {self.dead}, which kept bouncing, was counted '
            f'({tally(dead_outcomes)}; delivery '
            f"{dead.get('delivery_status', 'gone: removed')}).")
        # The plugin's defaults freeze by domain and by receiving server
        # (key: both), per list and site-wide (scope: both); each freeze is
        # announced, a list's to its owners, a site-wide one to the admin.
        expected = sorted((key_type, key, scope, self.outage_day)
                          for key_type, key in self.keys
                          for scope in (LIST_ID, 'site'))
        return Told([sentence], [
            Check('gmail: freezes (key, scope, day started)', expected,
                  freezes),
            Check('gmail: freeze notices to the owners', len(self.keys),
                  len(told[OWNER])),
            Check('gmail: freeze notices to the site admin', len(self.keys),
                  len(told[SITE_ADMIN])),
            Check(f'gmail: outcomes of the {len(others)} who bounced once',
                  {'outage': len(others)}, dict(other_outcomes)),
            Check(f'gmail: of the {len(others)}, enabled with score 0',
                  len(others), unharmed),
            Check(f'gmail: bounces of {self.dead} counted (6 days)',
                  len(self.dead_days), counted),
            Check(f'gmail: {self.dead} disabled (6 hard bounces)',
                  'by_bounces', dead.get('delivery_status')),
        ])


class Complaint(OneMember):
    """Dave reports the list's mail as spam (an ARF report)."""

    email = 'dave@complainer.example'
    name = 'Dave (reports the list as spam)'
    days = (2,)
    to_verp = False

    def message(self, day: int) -> str:
        return complaint(self.email, day)

    def tell(self, seen: Seen) -> Told:
        dave = self.email
        notices = seen.notices_about(dave, 'complaint')
        standing = seen.members.get(dave, {})
        sentence = (
            f"dave's abuse complaint (outcomes "
            f'{tally(seen.outcomes_of(dave))}) was reported to the owners '
            f"({times(len(notices), 'notice')}); the list's complaint_action"
            f" is none, so his delivery stayed "
            f"{standing.get('delivery_status', 'gone')}.")
        return Told([sentence], [
            Check('dave: outcomes', {'complaint': 1},
                  seen.outcomes_of(dave)),
            Check('dave: complaint notices to the owners', 1, len(notices)),
            Check('dave: delivery (complaint_action none)', 'enabled',
                  standing.get('delivery_status')),
        ])


class AutoReply(OneMember):
    """Erin is on holiday; her auto-reply comes to the bounce address."""

    email = 'erin@away.example'
    name = 'Erin (on holiday, auto-replies)'
    days = (2,)
    to_verp = False

    def message(self, day: int) -> str:
        return vacation(self.email, day)

    def tell(self, seen: Seen) -> Told:
        erin = self.email
        events = seen.events_of(erin)
        forwarded = [m for m in seen.mail_to(OWNER) if m.mentions(erin)]
        standing = seen.members.get(erin, {})
        sentence = (
            f"erin's holiday auto-reply was not a bounce: "
            f"{times(len(events), 'event')} registered, "
            f"{times(len(forwarded), 'message')} to the owners about it, "
            f"delivery {standing.get('delivery_status', 'gone')}.")
        return Told([sentence], [
            Check('erin: events (an auto-reply is never a bounce)', 0,
                  len(events)),
            Check('erin: mail to the owners about her', 0, len(forwarded)),
            Check('erin: delivery', 'enabled',
                  standing.get('delivery_status')),
        ])


class NeverBounces(OneMember):
    """Fred's mail is fine: nothing may happen to him."""

    email = 'fred@fine.example'
    name = 'Fred (never bounces)'

    def tell(self, seen: Seen) -> Told:
        standing = seen.members.get(self.email, {})
        return Told(checks=[
            Check('fred: events', 0, len(seen.events_of(self.email))),
            Check('fred: delivery', 'enabled',
                  standing.get('delivery_status')),
        ])


class ForgedBounce(OneMember):
    """Someone sends bounces naming Gina to a return path that looks like
    one the plugin signs, with a made-up signature."""

    email = 'gina@targeted.example'
    name = 'Gina (named by forged bounces)'
    days = (2, 3, 4, 5, 6, 7)
    # A signed-looking local part (version a, key 1, member id far beyond
    # any real one, an expiry, a 16-character MAC nobody computed).
    forged_to = f'members-bounces+ab.m7777777.u3w.aaaaaaaaaaaaaaaa@{DOMAIN}'

    def message(self, day: int) -> str:
        return postfix_dsn(self.email, day)

    def mail_on(self, day: int) -> list[Delivery]:
        if day not in self.days:
            return []
        return [Delivery(self.forged_to, self.message(day))]

    def tell(self, seen: Seen) -> Told:
        gina = self.email
        events = seen.events_of(gina)
        evidence = Counter(e.get('evidence') for e in events)
        standing = seen.members.get(gina, {})
        probes = [m for m in seen.mail_to(gina)
                  if 'probe' in m.subject.lower()]
        sentence = (
            f"{times(len(events), 'forged bounce')} named gina, sent to a "
            f'signed-looking return path with a made-up signature: recorded '
            f'({tally(dict(evidence))}; outcomes '
            f'{tally(seen.outcomes_of(gina))}), never scored: delivery '
            f"{standing.get('delivery_status', 'gone')}, score "
            f"{standing.get('score', '-')}, "
            f"{times(len(probes), 'probe')} sent to her.")
        # Six hard bounces would pass the threshold of 5; forged ones
        # count for nothing.
        return Told([sentence], [
            Check('gina: evidence of her events', {'forged': len(self.days)},
                  dict(evidence)),
            Check('gina: outcomes', {'forged': len(self.days)},
                  seen.outcomes_of(gina)),
            Check('gina: delivery', 'enabled',
                  standing.get('delivery_status')),
            Check('gina: score', 0, standing.get('score')),
            Check('gina: probes sent to her', 0, len(probes)),
        ])


# The ESP endpoint the demo's Postmark posts to, and the callback secret.
POSTMARK_ENDPOINT = 'postmark-demo'
POSTMARK_PASSWORD = 'demo-webhook-password'
CALLBACK_KEY = b'demo callback key, 32 bytes long'
CALLBACK_SECRET = 'whsec_' + base64.b64encode(CALLBACK_KEY).decode()


def webhook_endpoints() -> str:
    """The plugin configuration of the demo's ESP endpoint."""
    return (f'\n[webhook.{POSTMARK_ENDPOINT}]\nprovider: postmark\n'
            f'list: {LIST_ID}\nsecret: {POSTMARK_PASSWORD}\n')


class _Receiver:
    """The application next to Mailman: an HTTP server on loopback that
    records the callbacks it receives and checks their signatures."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                signed = '{}.{}.'.format(self.headers['webhook-id'],
                                         self.headers['webhook-timestamp'])
                mac = hmac.new(CALLBACK_KEY, signed.encode() + body,
                               hashlib.sha256).digest()
                outer.received.append({
                    'id': self.headers['webhook-id'],
                    'signed': self.headers['webhook-signature'] == (
                        'v1,' + base64.b64encode(mac).decode()),
                    'payload': json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/hook'
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()


class EspBounce(OneMember):
    """Hana's address is gone; the list sends through Postmark, which
    reports her hard bounce as a webhook.  An application next to Mailman
    hears about it through a signed callback."""

    email = 'hana@esp-gone.example'
    name = 'Hana (her bounce comes as a Postmark webhook)'
    days = (3,)
    # How long the callback runner may take to send (it looks every 1s).
    WAIT = 60

    def __init__(self) -> None:
        self.receiver: _Receiver | None = None
        self.answers: list[int] = []

    def setup(self, instance: Instance) -> None:
        self.receiver = _Receiver()
        instance.rest('POST', f'/plugins/bounces/lists/{LIST_ID}/callbacks',
                      {'url': self.receiver.url, 'secret': CALLBACK_SECRET,
                       'events': 'bounce.registered'})

    def mail_on(self, day: int) -> list[Delivery]:
        return []           # no bounce mail: the ESP posts instead

    def act(self, day: int, instance: Instance) -> int:
        if day not in self.days:
            return 0
        record = {'RecordType': 'Bounce', 'ID': 4100 + day,
                  'Type': 'HardBounce', 'Email': self.email,
                  'Description': 'The server was unable to deliver your '
                                 'message (ex: unknown user, mailbox not '
                                 'found).',
                  'Details': '550 5.1.1 <hana@esp-gone.example>: Recipient '
                             'address rejected: User unknown'}
        auth = base64.b64encode(
            f'bounces:{POSTMARK_PASSWORD}'.encode()).decode()
        # Postmark retries until it gets a 200: the second post is a retry.
        for _ in range(2):
            self.answers.append(instance.post_webhook(
                f'/webhooks/postmark/{POSTMARK_ENDPOINT}',
                json.dumps(record).encode(),
                {'Authorization': f'Basic {auth}',
                 'Content-Type': 'application/json'}))
        return 0

    def _callbacks(self) -> list[dict]:
        return [r for r in (self.receiver.received if self.receiver else [])
                if r['payload']['data'].get('email') == self.email]

    def observe(self, instance: Instance) -> Any:
        deadline = time.monotonic() + self.WAIT
        while not self._callbacks() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)       # anything sent twice would have come by now
        return {'answers': self.answers, 'callbacks': self._callbacks(),
                'all': list(self.receiver.received if self.receiver else [])}

    def tell(self, seen: Seen) -> Told:
        hana = self.email
        seen_here = seen.extra.get(type(self).__name__) or {
            'answers': [], 'callbacks': [], 'all': []}
        events = seen.events_of(hana)
        callbacks = seen_here['callbacks']
        ids = [r['id'] for r in seen_here['all']]
        sentence = (
            f"hana's hard bounce came as a Postmark webhook (posted twice, "
            f"answered {', '.join(map(str, seen_here['answers']))}): "
            f"{times(len(events), 'event')} registered "
            f"({reasons(events)}); the application next to Mailman got "
            f"{times(len(callbacks), 'signed callback')} about it "
            f"({times(len(seen_here['all']), 'callback')} in all).")
        return Told([sentence], [
            Check('hana: webhook answers (stored, then a retry)', [200, 200],
                  seen_here['answers']),
            Check('hana: events (once per provider event id)', 1,
                  len(events)),
            Check('hana: reason', ['userunknown'],
                  [event['reason'] for event in events]),
            Check('hana: callbacks received', 1, len(callbacks)),
            Check('hana: callback signatures valid', [True],
                  [r['signed'] for r in callbacks]),
            Check('callbacks: none received twice', len(ids), len(set(ids))),
        ])


# The bounce mailbox the demo polls (a ``[mailbox.NAME]`` section), when
# Dovecot is installed: a private Dovecot on a demo port.
MAILBOX = 'demo'
MAILBOX_FOLDERS = ('INBOX', 'Processed', 'Unparsed')


def mailbox_section(port: int, user: str, password_file: str,
                    live: bool) -> str:
    """The plugin configuration of the demo's bounce mailbox.  While the
    story plays it is disabled (no bouncemail runner: the demo polls it
    itself, each day after the day's mail is in, like it runs the pass);
    once live the runner polls it every 10 seconds."""
    return (f'\n[mailbox.{MAILBOX}]\nprotocol: imap\nhost: 127.0.0.1\n'
            f'port: {port}\n# Plain IMAP: allowed on loopback only.\n'
            f'security: none\nuser: {user}\npassword_file: {password_file}\n'
            f'poll_interval: 10s\nenabled: {"yes" if live else "no"}\n')


class MailboxBounces(OneMember):
    """Ivan's bounces do not come to the LMTP port: his old provider's
    bounces land in an ordinary IMAP mailbox (a private Dovecot), which the
    plugin polls, moving what it read to Processed or Unparsed.  A
    subscriber's question lands there too: it is no bounce."""

    email = 'ivan@old-isp.example'
    name = 'Ivan (his bounces land in a mailbox)'
    days = (3, 4, 5)
    host = 'mx.old-isp.example'
    note_day = 4
    note_subject = 'Question about the digest'

    def __init__(self) -> None:
        self.put: Counter[str] = Counter()

    def message(self, day: int) -> str:
        # As the MTA delivered it into the mailbox: the VERP address it
        # came for is kept in X-Original-To.
        return (f'Return-Path: <>\nDelivered-To: bounces@mail.{DOMAIN}\n'
                f'X-Original-To: {verp(self.email)}\n'
                + postfix_dsn(self.email, day, self.host))

    def note(self, day: int) -> str:
        jo = 'jo@old-isp.example'
        return (f'Return-Path: <{jo}>\n'
                f'Delivered-To: bounces@mail.{DOMAIN}\n'
                f'From: Jo <{jo}>\nTo: {BOUNCES}\n'
                f'Subject: {self.note_subject}\n'
                f'Message-ID: {message_id(day, jo, "old-isp.example")}\n\n'
                'Hello, how do I get the list as a digest?  Thanks, Jo\n')

    def mail_on(self, day: int) -> list[Delivery]:
        return []           # nothing over LMTP: it goes to the mailbox

    def act(self, day: int, instance: Instance) -> int:
        box = instance.mailbox()
        if box is None or day not in self.days:
            return 0
        messages = [self.message(day)]
        self.put['bounce'] += 1
        if day == self.note_day:
            messages.append(self.note(day))
            self.put['other'] += 1
        for text in messages:
            box.save(text)
        instance.poll_mailbox(MAILBOX)
        return len(messages)

    def observe(self, instance: Instance) -> Any:
        box = instance.mailbox()
        if box is None:
            return None
        unparsed = box.doveadm('-f', 'tab', 'fetch', '-u', box.user,
                               'hdr.subject', 'mailbox', 'Unparsed')
        return {
            'status': instance.rest(
                'GET', f'/plugins/bounces/mailboxes/{MAILBOX}'),
            'folders': {folder: box.count(folder)
                        for folder in MAILBOX_FOLDERS},
            'unparsed': unparsed.splitlines()[1:]}

    def tell(self, seen: Seen) -> Told:
        here = seen.extra.get(type(self).__name__)
        if here is None:
            return Told([(
                'the mailbox strand was skipped: Dovecot is not installed '
                '(/usr/sbin/dovecot), so no bounce mailbox was polled; its '
                'checks are not counted.')])
        ivan = self.email
        events = seen.events_of(ivan)
        status, folders = here['status'], here['folders']
        standing = seen.members.get(ivan, {})
        counts = {key: status[key]
                  for key in ('seen', 'registered', 'unparsed')}
        sentence = (
            f"ivan's bounces landed in an IMAP mailbox (a private Dovecot), "
            f"not at the LMTP port: {times(self.put['bounce'], 'bounce')} "
            f"and {times(self.put['other'], 'other message')} were put in "
            f"its INBOX; polling it read {status['seen']}, registered "
            f"{status['registered']} and left {status['unparsed']} "
            f"unparsed; ivan has {times(len(events), 'event')} "
            f'({reasons(events)}; {tally(seen.outcomes_of(ivan))}), delivery '
            f"{standing.get('delivery_status', 'gone')}; the folders now "
            f"hold {tally(folders)}; Unparsed: "
            f"{'; '.join(here['unparsed']) or 'nothing'}.")
        bounces, others = len(self.days), 1
        return Told([sentence], [
            Check('ivan: events registered from the mailbox', bounces,
                  len(events)),
            Check('ivan: reasons', ['userunknown'] * bounces,
                  [event['reason'] for event in events]),
            Check('ivan: delivery (3 hard bounces, threshold 5)', 'enabled',
                  standing.get('delivery_status')),
            Check(f'mailbox {MAILBOX}: seen, registered, unparsed (REST)',
                  {'seen': bounces + others, 'registered': bounces,
                   'unparsed': others}, counts),
            Check(f'mailbox {MAILBOX}: last error (REST)', None,
                  status['last_error']),
            Check(f'mailbox {MAILBOX}: messages per folder',
                  {'INBOX': 0, 'Processed': bounces, 'Unparsed': others},
                  folders),
            Check(f'mailbox {MAILBOX}: what is in Unparsed',
                  [self.note_subject], here['unparsed']),
        ])


# A second list, tracking its posts with read receipts (list setting
# tracking: mdn), so that the post goes to none of the main list's members.
READERS = f'readers@{DOMAIN}'
READERS_ID = f'readers.{DOMAIN}'


class TrackedPost(Scene):
    """Nora posts to the readers list, which tracks its posts (``mdn``):
    some readers' clients send read receipts, one address does not exist,
    one reader never answers."""

    poster = 'nora@readers.example'
    # What comes back for each copy: an MDN's disposition, a failure DSN,
    # or nothing.
    answers: ClassVar[dict[str, str | None]] = {
        'ivo@readers.example': 'displayed',
        'jana@readers.example': 'deleted',
        'karl@gone.example': 'failed',
        'lena@readers.example': 'displayed',
        'mia@readers.example': None,
        poster: None,
    }
    day = 2
    subject = 'Reading group on Thursday'

    def setup(self, instance: Instance) -> None:
        instance.rest('POST', '/lists', {'fqdn_listname': READERS})
        instance.rest('PATCH', f'/lists/{READERS_ID}/config',
                      {'send_welcome_message': False})
        for email in self.answers:
            instance.rest('POST', '/members', {
                'list_id': READERS_ID, 'subscriber': email,
                'pre_verified': True, 'pre_confirmed': True,
                'pre_approved': True, 'send_welcome_message': False})
        instance.rest('PATCH', f'/plugins/bounces/lists/{READERS_ID}/settings',
                      {'tracking': 'mdn'})

    def act(self, day: int, instance: Instance) -> int:
        if day != self.day:
            return 0
        instance.deliver([Delivery(READERS, tracked_post(
            self.poster, self.subject))])
        instance.settle()
        # Each copy's read-receipt address is its signed tracking address.
        signed = {}
        for message in instance.sent_files():
            if self.subject in str(message['subject']):
                to = message['x-demo-envelope-to']
                signed[to] = ''.join(
                    message['disposition-notification-to'].split())
        replies = []
        for email, answer in self.answers.items():
            if answer == 'failed':
                replies.append(Delivery(signed[email], postfix_dsn(
                    email, day, 'mx.gone.example').replace(
                        verp(email), signed[email])))
            elif answer is not None:
                replies.append(Delivery(signed[email], mdn(
                    email, signed[email], answer, self.subject)))
        instance.deliver(replies)
        return 1 + len(replies)

    def observe(self, instance: Instance) -> Any:
        posts = instance.rest(
            'GET', f'/plugins/bounces/lists/{READERS_ID}/tracking')
        copies = instance.rest(
            'GET', f'/plugins/bounces/lists/{READERS_ID}/tracking/'
            f'{posts["entries"][0]["message_id"].strip("<>")}'
        ) if posts['entries'] else {'entries': []}
        events = instance.rest('GET', '/plugins/bounces/events?list_id='
                               + READERS_ID)
        return posts['entries'], copies['entries'], events['entries']

    def tell(self, seen: Seen) -> Told:
        posts, copies, events = seen.extra[type(self).__name__]
        post = posts[0] if posts else {}
        wanted = Counter(self.answers.values())
        copy_of = {copy['email']: copy for copy in copies}
        # The post's counts have no column for it: from the copies.
        deleted = sum(copy['disposition'] == 'deleted' for copy in copies)
        sentence = (
            f"nora's post to the readers list (tracking: mdn) went to "
            f"{post.get('recipients', 0)} readers one by one: "
            f"{post.get('displayed', 0)} read it (read receipts), "
            f"{deleted} deleted it (RFC 8098: read or not), "
            f"{post.get('failed', 0)} failed, "
            f"{post.get('no_answer', 0)} never answered; "
            f"{times(len(events), 'bounce event')} "
            f"({', '.join(e['email'] for e in events) or 'none'}), the "
            f'read receipts scored nobody.')
        return Told([sentence], [
            Check('tracked post: posts tracked', 1, len(posts)),
            Check('tracked post: copies', len(self.answers),
                  post.get('recipients')),
            Check('tracked post: displayed', wanted['displayed'],
                  post.get('displayed')),
            Check('tracked post: failed', wanted['failed'],
                  post.get('failed')),
            # The demo's sink does not advertise DSN: no success reports.
            Check('tracked post: no answer', wanted[None],
                  post.get('no_answer')),
            Check('tracked post: per reader', {
                email: answer or '-' for email, answer in
                self.answers.items()}, {
                email: ('failed' if copy['state'] == 'failed'
                        else copy['disposition'] or '-')
                for email, copy in copy_of.items()}),
            Check('tracked post: bounce events (failures only)',
                  [(email, 'verified') for email, answer in
                   self.answers.items() if answer == 'failed'],
                  [(e['email'], e['evidence']) for e in events]),
        ])


class NothingLost(Scene):
    """Whatever the scenes did, no message may be left unprocessed."""

    def tell(self, seen: Seen) -> Told:
        return Told(checks=[
            Check(f'instance: messages in the {queue} queue', 0, count)
            for queue, count in sorted(seen.stuck.items())])


SCENES: list[Scene] = [
    ClosedMailbox(), DmarcRejections(), FullMailbox(), GmailOutage(),
    Complaint(), AutoReply(), NeverBounces(), ForgedBounce(), EspBounce(),
    MailboxBounces(), TrackedPost(), NothingLost(),
]


def tell(seen: Seen, scenes: list[Scene] = SCENES) -> Told:
    """The whole story and all its checks."""
    told = Told()
    for scene in scenes:
        part = scene.tell(seen)
        told.sentences += part.sentences
        told.checks += part.checks
    return told


# --------------------------------------------------------------------------
# Real-looking bounces from several mail servers.

def postfix_dsn(email: str, day: int,
                host: str = 'mx.dead-mailbox.example') -> str:
    return f"""\
From: MAILER-DAEMON@{host} (Mail Delivery System)
To: {verp(email)}
Subject: Undelivered Mail Returned to Sender
Message-ID: {message_id(day, email, host)}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="postfix-{day}"

--postfix-{day}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {host}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{email}>: host {host}[192.0.2.25] said: 550 5.1.1
    <{email}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--postfix-{day}
Content-Type: message/delivery-status

Reporting-MTA: dns; {host}

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; {host}
Diagnostic-Code: smtp; 550 5.1.1 <{email}>: Recipient address rejected:
    User unknown in virtual mailbox table

--postfix-{day}--
"""


def dmarc_dsn(email: str, day: int) -> str:
    return f"""\
From: postmaster@strict-dmarc.example
To: {BOUNCES}
Subject: Delivery Status Notification (Failure)
Message-ID: {message_id(day, email, 'strict-dmarc.example')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="dmarc-{day}"

--dmarc-{day}
Content-Type: text/plain

Delivery to the following recipient failed permanently:
     {email}

--dmarc-{day}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.strict-dmarc.example

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.7.26
Remote-MTA: dns; mx.strict-dmarc.example
Diagnostic-Code: smtp; 550 5.7.26 Unauthenticated email from
    {DOMAIN} is not accepted due to domain's DMARC policy.

--dmarc-{day}--
"""


def exim_full(email: str, day: int) -> str:
    # Exim's plain-text bounce: no DSN part at all.
    return f"""\
From: Mail Delivery System <Mailer-Daemon@mail.full-mailbox.example>
To: {verp(email)}
Subject: Mail delivery failed: returning message to sender
Message-ID: {message_id(day, email, 'mail.full-mailbox.example')}
X-Failed-Recipients: {email}
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {email}
    mailbox is full: retry timeout exceeded

------ This is a copy of the message, including all the headers. ------

From: {LIST}
To: {LIST}
Subject: Daily digest
"""


def gmail_dsn(email: str, day: int) -> str:
    return f"""\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {verp(email)}
Subject: Delivery Status Notification (Failure)
Message-ID: {message_id(day, email, 'mx.google.com')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="gmail-{day}"

--gmail-{day}
Content-Type: text/plain; charset=UTF-8

** Address not found **

Your message wasn't delivered to {email} because the address couldn't be
found, or is unable to receive mail.

--gmail-{day}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to
    reach does not exist. Please try double-checking the recipient's
    email address for typos or unnecessary spaces. 550 5.1.1
    https://support.google.com/mail/?p=NoSuchUser

--gmail-{day}--
"""


def complaint(email: str, day: int) -> str:
    return f"""\
From: feedback@complainer.example
To: {BOUNCES}
Subject: Abuse report
Message-ID: {message_id(day, email, 'fbl.complainer.example')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="arf-{day}"

--arf-{day}
Content-Type: text/plain

This is an email abuse report for a message from {DOMAIN}.

--arf-{day}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: DemoFBL/1.0
Version: 1
Original-Rcpt-To: <{email}>
Source-IP: 192.0.2.10

--arf-{day}
Content-Type: text/rfc822-headers

From: {LIST}
To: {LIST}
Subject: This week's news

--arf-{day}--
"""


def vacation(email: str, day: int) -> str:
    return f"""\
From: Erin <{email}>
To: {BOUNCES}
Subject: Out of office: This week's news
Message-ID: {message_id(day, email, 'away.example')}
Auto-Submitted: auto-replied
X-Autoreply: yes

I am on holiday until the end of the month and will read your message
when I am back.
"""



def tracked_post(email: str, subject: str) -> str:
    """A member's post to the readers list."""
    return f"""\
From: {email}
To: {READERS}
Subject: {subject}
Message-ID: <reading-group@readers.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Thursday at eight, chapter three.
"""


def mdn(email: str, to: str, disposition: str, subject: str) -> str:
    """A read receipt (RFC 8098) from `email`'s mail client."""
    return f"""\
From: {email}
To: {to}
Subject: Read: {subject}
Message-ID: <mdn.{email.replace('@', '.')}@client.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
    boundary="mdn"

--mdn
Content-Type: text/plain; charset=us-ascii

Your message "{subject}" to {email} was {disposition}.

--mdn
Content-Type: message/disposition-notification

Reporting-UA: client.example; DemoMail 1.0
Final-Recipient: rfc822;{email}
Original-Message-ID: <reading-group@readers.example>
Disposition: manual-action/MDN-sent-manually; {disposition}

--mdn--
"""
