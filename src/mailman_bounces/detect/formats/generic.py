"""Last resort for bounces in no known format: careful heuristics.

Only for messages that look like bounces (from a mailer daemon or postmaster, or
with a bounce subject) and that no specific format recognised.  Recipients come,
in order of trust, from:

1. the ``X-Failed-Recipients`` header (Exim, Gmail and others set it);
2. lines of the human-readable text, before the returned message, that hold one
   address and a failure cue (an SMTP code, a status code, a known phrase);
3. the single To: address of the returned message, when the text states a failure.

Addresses of the bounce's own recipient (the original sender) and of the
returned message's sender are never taken: they are not the ones that failed.
"""

from __future__ import annotations

import re

from ..address import ADDRESS_IN_TEXT_RE, clean_address
from ..mail import Finding, Found, Mail, original_from_text
from ..message import Part
from ..reasons import reason_from_text
from .common import (
    ORIGINAL_MESSAGE_RE,
    addresses_in,
    before_original,
    diagnostic_near,
    from_daemon,
    null_sender,
    states_failure,
)

NAME = 'generic'

_BOUNCE_SUBJECT_RE = re.compile(
    r'undeliver|undelivered|returned mail|delivery (?:status|fail|notification|problem|report)|'
    r'failure notice|failed delivery|mail delivery|could not be delivered|non[- ]?delivery|'
    r'delivery error|mail error|rejected|bounce|permanent error|unzustellbar|'
    r'non remis|nicht zustellbar|error sending|not delivered|returned to sender|'
    r'message status|warning: could not send',
    re.IGNORECASE,
)
_CUE_RE = re.compile(
    r'(?<![\d.])[45]\d\d(?![\d.])|[45]\.\d{1,3}\.\d{1,3}|fail|unable|could not|couldn.t|undeliver|'
    r'reject|refused|denied|error|unknown|invalid|not (?:found|exist|deliver|reach|a valid)|'
    r'does not|doesn.t|no such|full|quota|exceed|blocked|expired|timed? ?out|disabled|suspend|'
    r'unavailable|illegal|did not receive|not known',
    re.IGNORECASE,
)
_SENDER_CONTEXT_RE = re.compile(r'(?:mail from|from:|sender|reply-to|return-path|envelope-from|'
                                r'sent by|smtp\.mail=|header\.from|\bfrom\s*<)\s*:?\s*<?$', re.IGNORECASE)
_TEMPORARY_RE = re.compile(r'\b(?:delayed|delay|will (?:continue|keep) (?:to )?(?:try|retry)|'
                           r'will be retried|still trying|warning message only|not yet been delivered|'
                           r'temporar(?:y|ily) (?:failure|error|problem))\b', re.IGNORECASE)
MAX_LINES = 200


def parse(mail: Mail) -> Finding | None:
    if not _looks_like_bounce(mail):
        return None
    excluded = _excluded_addresses(mail)
    text = before_original(mail.text)
    found = _from_failed_recipients_header(mail, text, excluded)
    if not found:
        found = _from_text_lines(text, excluded)
    if not found:
        found = _from_original_to(mail, text, excluded)
    # A non-delivery notice is a permanent failure unless it says it will retry.
    permanent = not _TEMPORARY_RE.search(mail.subject) and not _TEMPORARY_RE.search(text[:3000])
    for item in found:
        item.permanent = permanent
    if found:
        return Finding(found)
    # Nobody usable is named (display names only, anonymised addresses), but
    # the notice says the message was not delivered: a bounce all the same.
    stated = permanent and states_failure(text)
    return Finding(failure_stated=True) if stated else None


def _looks_like_bounce(mail: Mail) -> bool:
    if from_daemon(mail) or _BOUNCE_SUBJECT_RE.search(mail.subject):
        return True
    if null_sender(mail) and states_failure(mail.text):
        return True
    return mail.header('return-path').strip() == '<>' and bool(mail.header('x-failed-recipients'))


def _excluded_addresses(mail: Mail) -> set[str]:
    excluded = set(addresses_in(mail.header('to')))
    excluded.update(addresses_in(mail.header('from')))
    original = mail.original
    if original is not None:
        # The returned message's own senders, and the list it came through
        # (for a list post its To: is the list, never a failed member).
        for name in ('from', 'return-path', 'sender', 'reply-to', 'errors-to', 'x-beenthere', 'list-post'):
            excluded.update(addresses_in(original.get(name) or ''))
    return excluded


def _from_failed_recipients_header(mail: Mail, text: str, excluded: set[str]) -> list[Found]:
    found: list[Found] = []
    for address in addresses_in(mail.header('x-failed-recipients')):
        diagnostic = diagnostic_near(text, address) or _failure_lines(text)
        found.append(Found(address=address, diagnostic=diagnostic))
    return found


def _from_text_lines(text: str, excluded: set[str]) -> list[Found]:
    found: list[Found] = []
    lines = text.split('\n')[:MAX_LINES]
    for number, line in enumerate(lines):
        if '@' not in line:
            continue
        candidates = _recipient_candidates(line, excluded)
        if len(candidates) != 1:
            continue
        address = candidates[0]
        context = _block_from(lines, number)
        if not _CUE_RE.search(context.replace(address, ' ')) and not _under_failure_heading(lines, number):
            continue
        known = next((item for item in found if item.address == address), None)
        if known is None:
            found.append(Found(address=address, diagnostic=context))
        elif not reason_from_text(known.diagnostic) and reason_from_text(context):
            known.diagnostic = context  # listed under a heading first, explained later
    return found


def _under_failure_heading(lines: list[str], number: int) -> bool:
    """True when the address is listed under a heading that states a failure:
    "Delivery to the following recipients failed permanently:", "Delivery to
    the following recipients failed.", "Your message could not be delivered to"."""
    for line in reversed(lines[max(0, number - 3):number]):
        stripped = line.strip().rstrip('*=- ')
        if not stripped:
            continue
        lowered = stripped.lower()
        ends_a_heading = stripped.endswith(':') or lowered.endswith((' to', ' a', ' an')) or (
            stripped.endswith('.') and 'following' in lowered)
        return ends_a_heading and bool(_CUE_RE.search(stripped))
    return False


def _recipient_candidates(line: str, excluded: set[str]) -> list[str]:
    result: list[str] = []
    for match in ADDRESS_IN_TEXT_RE.finditer(line):
        address = clean_address(match.group(0))
        if not address or address in excluded or address in result:
            continue
        if _SENDER_CONTEXT_RE.search(line[:match.start()].rstrip('<"\' ')):
            excluded.add(address)
            continue
        result.append(address)
    return result


def _block_from(lines: list[str], number: int, limit: int = 4) -> str:
    picked = [lines[number].strip()]
    for line in lines[number + 1:number + 1 + limit]:
        if not line.strip() or (ADDRESS_IN_TEXT_RE.search(line) and picked):
            break
        picked.append(line.strip())
    return ' '.join(picked)


def _failure_lines(text: str, strict: bool = True) -> str | None:
    """The first line stating a failure (with a known reason when *strict*)."""
    fallback = None
    for line in text.split('\n')[:MAX_LINES]:
        if _CUE_RE.search(line):
            if reason_from_text(line):
                return line.strip()
            fallback = fallback or line.strip()
    return None if strict else fallback


def _from_original_to(mail: Mail, text: str, excluded: set[str]) -> list[Found]:
    original = mail.original or original_from_text(mail.text, ORIGINAL_MESSAGE_RE)
    if original is None:
        return []
    if _is_bounce(original):
        return []  # a forwarded bounce: its To: is the original sender, not a recipient
    recipients = [a for value in original.get_all('to') for a in addresses_in(value)]
    if len(recipients) != 1 or recipients[0] in excluded:
        return []
    failure = _failure_lines(text, strict=False)
    if failure is None:
        return []
    return [Found(address=recipients[0], diagnostic=failure)]


def _is_bounce(part: Part) -> bool:
    sender = (part.get('from') or '').lower()
    return (part.content_type == 'multipart/report' or 'mailer-daemon' in sender
            or 'postmaster' in sender or (part.get('return-path') or '').strip() == '<>')
