"""RFC 3834 auto-replies: vacation and out-of-office notices.

These are never bounces.  Recognised by the RFC 3834 ``Auto-Submitted`` field and
the vendor fields that predate it (``X-Autoreply``, ``X-Autorespond``,
``Precedence: auto_reply``), or by the subject prefixes mail clients use.  Since
many bounces also say ``Auto-Submitted: auto-replied``, this runs after every
bounce format.  The recipient reported is the one who auto-replied.
"""

from __future__ import annotations

import re

from ..mail import Finding, Found, Mail
from ..report import Kind
from .common import addresses_in, from_daemon, null_sender, states_failure

NAME = 'rfc3834'

_AUTO_FIELDS = ('x-autoreply', 'x-autorespond', 'x-autoresponse', 'x-auto-response-suppress',
                'x-mailer-autoreply', 'x-autoreply-from', 'x-mail-autoreply')
_SUBJECT_RE = re.compile(
    r'^\s*(?:auto(?:matic)?[ -]?(?:reply|response|respons|antwort|r[ée]ponse|risposta)|'
    r'out of (?:the )?office|away from|vacation|abwesenheit|absence|'
    r'autorespon|r[ée]ponse automatique|automatisch|fuera de la oficina|'
    r'i am (?:away|out)|on leave)',
    re.IGNORECASE,
)
_SUBJECT_ANYWHERE_RE = re.compile(r'\b(?:out of (?:the )?office|auto-?reply|automatic reply|'
                                  r'autoreply|vacation reply|away until)\b', re.IGNORECASE)
_BOUNCE_SUBJECT_RE = re.compile(r'undeliver|returned mail|delivery (?:status|fail)|failure notice|'
                                r'mail delivery|could not be delivered|non[- ]?delivery',
                                re.IGNORECASE)


def parse(mail: Mail) -> Finding | None:
    if not _looks_automatic(mail) or _looks_like_bounce(mail):
        return None
    senders = addresses_in(mail.header('from')) or addresses_in(mail.header('reply-to'))
    diagnostic = mail.text.strip()[:300] or None
    found = [Found(address=senders[0], reason='vacation', diagnostic=diagnostic)] if senders else []
    return Finding(found, kind=Kind.autoreply)


def _looks_automatic(mail: Mail) -> bool:
    auto_submitted = mail.header('auto-submitted').strip().lower()
    if auto_submitted.startswith('auto-replied'):
        return True
    if any(mail.root.has(name) for name in _AUTO_FIELDS):
        return True
    if mail.header('precedence').strip().lower() in ('auto_reply', 'auto-reply'):
        return True
    subject = mail.subject
    return bool(_SUBJECT_RE.match(subject) or _SUBJECT_ANYWHERE_RE.search(subject))


def _looks_like_bounce(mail: Mail) -> bool:
    """A bounce that also says Auto-Submitted: auto-replied.  When the header
    and the text disagree the text wins: a message from nobody (``From: <>``)
    saying the address does not exist is a failure, not an auto-reply."""
    if from_daemon(mail) or _BOUNCE_SUBJECT_RE.search(mail.subject):
        return True
    return null_sender(mail) and states_failure(mail.text)
