"""The detection pipeline: parse, try each format in turn, validate and classify.

Format modules only read; everything that makes results trustworthy is done here,
once, for all of them: address validation, status inference, reason and
severity, the message's kind.  Nothing here raises: a message that breaks a
format is simply not recognised by that format.
"""

from __future__ import annotations

import re
from email.message import Message

from . import fallback, registry
from .address import clean_address
from .mail import MAX_RECIPIENTS, Finding, Found, Mail
from .message import Part, to_text
from .reasons import NON_FAILURE_REASONS, classify, says_will_retry, severity_of
from .report import Kind, Recipient, Report, Severity
from .rhosts import provider_reason
from .status import (
    find_command,
    find_reply_code,
    find_status,
    normalise_status,
    status_class,
)

MAX_DIAGNOSTIC = 1000
MAX_FORWARD_DEPTH = 2
MAX_RETRY_TEXT = 3000  # a notice says it will retry in its opening lines
_SPACE_RE = re.compile(r'\s+')
_DIAGNOSTIC_TYPE_RE = re.compile(r'\A\s*(?:smtp|dns|x-postfix|x-unix|x-local|x-notes|x-exim|mta|'
                                 r'x-qmail|x-sendmail|x-ses|http|x-[\w-]+)\s*;\s*', re.IGNORECASE)

# When a failure has a class but no code, a code typical of its reason.
_REASON_CODE = {
    'userunknown': '1.1', 'hostunknown': '1.2', 'hasmoved': '1.6', 'mailboxfull': '2.2',
    'exceedlimit': '2.3', 'systemfull': '3.1', 'mesgtoobig': '3.4', 'notaccept': '3.2',
    'suspend': '2.1', 'filtered': '2.0', 'expired': '4.7', 'networkerror': '4.0',
    'norelaying': '7.1', 'authfailure': '7.26', 'requireptr': '7.25', 'rejected': '1.8',
    'contenterror': '6.0', 'securityerror': '7.0', 'policyviolation': '7.0',
    'spamdetected': '7.1', 'virusdetected': '7.0', 'blocked': '7.1', 'badreputation': '7.1',
    'toomanyconn': '3.2', 'speeding': '7.1', 'syntaxerror': '5.2', 'systemerror': '3.0',
    'mailererror': '0.0', 'notcompliantrfc': '6.0',
}


def detect(message: Message | bytes | str) -> Report:
    """Recognise a bounce, delay notice, complaint or auto-reply in *message*.

    *message* is an :class:`email.message.Message` (as Mailman hands it) or the
    raw message as bytes or text.  Never raises; returns a :class:`Report` whose
    ``kind`` is :attr:`Kind.none` when nothing was recognised.

    The engine's formats are tried first; when none recognises the message,
    Mailman core's detector (:mod:`.fallback`) is asked, so that nothing core
    counts is lost.  A message that clearly reports a delivery failure but
    names no usable address is a ``bounce`` without recipients.
    """
    try:
        text = to_text(message)
        mail = Mail(Part.parse(text))
    except Exception:  # noqa: BLE001 - the engine must never raise on input
        return Report()
    report = _detect(mail, depth=0)
    if report.recipients or report.kind not in (Kind.none, Kind.bounce):
        return report
    try:
        finding = fallback.parse(mail, text)
    except Exception:  # noqa: BLE001 - the safety net must not tear
        finding = None
    if finding is not None:
        rescued = build_report(finding, fallback.NAME, mail)
        if rescued.recipients:
            return rescued
    return report


def _detect(mail: Mail, depth: int) -> Report:
    anonymous = Report()
    for name, parser in registry.FORMATS:
        try:
            finding = parser(mail)
        except Exception:  # noqa: BLE001, S112 - a broken message is "not this format"
            continue
        if finding is None:
            continue
        if name == registry.DSN_PARSER:
            sender = registry.dsn_sender(mail)
            name = f'{name}/{sender}' if sender else name
        report = build_report(finding, name, mail)
        if report.recipients or report.kind not in (Kind.none, Kind.bounce):
            return report
        if report.kind is Kind.bounce and anonymous.kind is Kind.none:
            # A failure naming no usable address: kept in case a later format
            # (or the forwarded bounce inside) names one.
            anonymous = report
    forwarded = _forwarded_bounce(mail, depth)
    return forwarded if forwarded.kind is not Kind.none else anonymous


def _forwarded_bounce(mail: Mail, depth: int) -> Report:
    """A bounce forwarded as an attachment (gateways, filters, helpdesks do this)."""
    if depth >= MAX_FORWARD_DEPTH:
        return Report()
    try:
        inner = mail.original
        if inner is None or not (inner.content_type == 'multipart/report' or inner.has('x-failed-recipients')):
            return Report()
        return _detect(Mail(inner), depth + 1)
    except Exception:  # noqa: BLE001
        return Report()


def build_report(finding: Finding, detector: str, mail: Mail | None = None) -> Report:
    """Validate and complete a format's raw finding into a :class:`Report`.

    *mail* is the message the finding is about (its text may say delivery
    will be retried).
    """
    recipients: list[Recipient] = []
    seen: set[str] = set()
    # Whether the notice says it will retry matters only to records that
    # state no action; most DSNs state one, so the text is read only then.
    retrying = mail is not None and any(found.action is None for found in finding.recipients) \
        and says_will_retry(mail.text[:MAX_RETRY_TEXT])
    for found in finding.recipients[:MAX_RECIPIENTS]:
        recipient = complete(found, detector, retrying)
        if recipient is None or recipient.address in seen:
            continue
        seen.add(recipient.address)
        recipients.append(recipient)
    kind = finding.kind or kind_of(recipients)
    if finding.kind in (Kind.complaint, Kind.autoreply) or recipients:
        return Report(kind=kind, recipients=recipients, detector=detector,
                      feedback_type=finding.feedback_type)
    if finding.failure_stated:
        # A delivery failure that names nobody usable (anonymised or
        # display-name-only recipients): still a bounce.
        return Report(kind=Kind.bounce, detector=detector)
    return Report()


def kind_of(recipients: list[Recipient]) -> Kind:
    """bounce if anyone failed for good, delay if only temporarily, else none."""
    kind = Kind.none
    for recipient in recipients:
        if recipient.reason in NON_FAILURE_REASONS:
            continue
        if recipient.action in ('failed', 'expired'):
            return Kind.bounce  # 'expired' (some MTAs): gave up, the message is lost
        if recipient.action == 'delayed' or status_class(recipient.status) == '4':
            kind = Kind.delay
    return kind


def normalise_text(text: str | None) -> str | None:
    """Collapse whitespace and bound the length of a diagnostic."""
    if not text:
        return None
    text = _SPACE_RE.sub(' ', text).strip()
    return text[:MAX_DIAGNOSTIC] or None


def complete(found: Found, detector: str, retrying: bool = False) -> Recipient | None:
    """Turn one raw record into a validated, classified :class:`Recipient`.

    *retrying* is True when the notice says delivery will be retried.
    """
    address = clean_address(found.address)
    original = clean_address(found.original)
    if address is None:
        address, original = original, None
    if address is None:
        return None
    if original == address:
        original = None
    diagnostic = normalise_text(found.diagnostic)
    bare_diagnostic = _DIAGNOSTIC_TYPE_RE.sub('', diagnostic) if diagnostic else None
    status = normalise_status(found.status)
    if status in (None, '4.0.0', '5.0.0'):
        better = find_status(bare_diagnostic)
        if better and (status is None or better[0] == status[0]):
            status = better
    reply_code = found.reply_code or find_reply_code(bare_diagnostic)
    action = normalise_action(found.action)
    will_retry = action is None and (retrying or says_will_retry(diagnostic))
    # What the reason rules are told of the action when the report states
    # none: a notice that says it will retry, or a format that knows the
    # sender has not given up (an Exim delay warning), reports a delay.
    told_action = action or ('delayed' if will_retry or found.permanent is False else None)
    reason = found.reason or None
    command = found.command or find_command(diagnostic)
    def provider() -> str | None:
        # Asked only when the general rules leave the reason open.
        return provider_reason(bare_diagnostic, found.remote_mta, address, command)

    if status is None:
        klass = _class_without_status(found, reply_code, action)
        if reason is None:
            reason = classify(None, diagnostic, told_action, command, reply_code, provider) \
                if klass != '2' else 'delivered'
        status = _code_for(klass, reason)
    if reason is None:
        # The remote server's own code, quoted in the diagnostic, says why;
        # the Status field is the reporting MTA's summary of the outcome
        # (Sendmail's 4.4.7 "delivery time expired" over "450 4.7.1 ...").
        cause = find_status(bare_diagnostic) if status else None
        if not cause or cause[0] != status[0]:  # type: ignore[index]
            cause = status
        reason = 'delivered' if status and status[0] == '2' else \
            classify(cause, diagnostic, told_action, command, reply_code, provider)
    if action is None:
        action = _action_of(found, status, reason, will_retry)
    permanent = status is not None and status[0] == '5'
    return Recipient(
        address=address,
        original=original,
        action=action,
        severity=severity_of(reason, permanent),
        reason=reason,
        status=status,
        reply_code=reply_code,
        diagnostic=diagnostic,
        remote_mta=_remote(found.remote_mta),
        detector=detector,
        feedback_type=found.feedback_type,
    )


def _succeeded(status: str | None, action: str | None) -> bool:
    return status_class(status) == '2' or action in ('delivered', 'relayed', 'expanded')


def _class_without_status(found: Found, reply_code: str | None, action: str | None) -> str | None:
    if reply_code:
        return reply_code[0]
    if found.permanent is not None:
        return '5' if found.permanent else '4'
    if action in ('failed', 'expired'):
        return '5'
    if action in ('delayed',):
        return '4'
    if action in ('delivered', 'relayed', 'expanded'):
        return '2'
    return None


def _code_for(klass: str | None, reason: str | None) -> str | None:
    if klass is None or reason in (None, 'feedback', 'vacation'):
        return None
    if klass == '2':
        return '2.0.0'
    return f'{klass}.{_REASON_CODE.get(reason or "", "0.0")}'


# Actions as MTAs spell them outside RFC 3464's five words.
_ACTION_WORDS = {'failure': 'failed', 'fail': 'failed', 'error': 'failed', 'permanent': 'failed',
                 'delay': 'delayed', 'deferred': 'delayed', 'transient': 'delayed'}


def normalise_action(value: str | None) -> str | None:
    """RFC 3464's action word for *value* (``Action: failure`` is ``failed``)."""
    word = (value or '').strip().lower().split(' ', 1)[0].rstrip(';.')
    return _ACTION_WORDS.get(word, word) or None


def _action_of(found: Found, status: str | None, reason: str, retrying: bool) -> str | None:
    """The action when the report states none.

    A notice that says delivery will be retried is a delay, whatever the class
    digit; a format that knows the sender gave up (qmail's "not going to try
    again", a gateway's "after 30 attempts") means failed, even for a last
    answer of class 4.  Otherwise the status class decides.
    """
    if reason in ('feedback', 'vacation', 'delivered'):
        return _action_for(status, reason)
    if retrying:
        return 'delayed'
    if found.permanent is not None:
        return 'failed' if found.permanent else 'delayed'
    return _action_for(status, reason)


def _action_for(status: str | None, reason: str) -> str | None:
    if reason in ('feedback', 'vacation'):
        return None
    klass = status_class(status)
    return {'5': 'failed', '4': 'delayed', '2': 'delivered'}.get(klass or '')


def _remote(value: str | None) -> str | None:
    """The receiving server's name: ``dns; mx.example.com. (192.0.2.1)``
    is ``mx.example.com``, so that one server is always spelled the same."""
    if not value:
        return None
    value = _DIAGNOSTIC_TYPE_RE.sub('', value.strip()).strip()
    # A comment (usually the IP address) after the name.
    value = _COMMENT_RE.sub('', value).strip().strip('[]<>').rstrip('.')
    return value[:255] or None


_COMMENT_RE = re.compile(r'\s*\([^()]*\)\s*$')


__all__ = ['Kind', 'Recipient', 'Report', 'Severity', 'detect']
