"""The safety net: Mailman core's own detector when no format recognised a message.

A site that enables the plugin must not stop counting a bounce that Mailman
core (flufl.bounce) counts today.  So when none of the engine's formats
recognises a message, flufl.bounce's ``all_failures`` is asked; the addresses
it returns go through the same gate and the same classification as the
engine's own (status and reason from the explanation next to the address when
the message gives one, otherwise ``undefined``), and the detector is recorded
as :data:`NAME`.  It only ever runs for messages the engine did not
recognise, so it costs nothing on the others.

flufl.bounce is not Mailman: it depends on nothing but the standard library
and ``atpublic``, so the engine stays usable without a Mailman instance.

It is never given the message as it came: its detectors run some 130
regexes over every body line and look headers up by a linear scan, so a 1 MB
line cost seconds and 70,000 header fields five.  It reads a bounded copy:
the first :data:`MAX_CHARS` of the text the engine read, lines cut at
RFC 5322's 998 characters, :data:`MAX_COPY_LINES` lines, at most
:data:`MAX_HEADER_LINES` header lines and
:data:`MAX_BOUNDARY_LINES` MIME delimiter lines (its parser recurses once per
nesting level, and each detector walks every part).  A notice flufl.bounce
can read is in its first few parts and kilobytes.
"""

from __future__ import annotations

import email
from email.message import Message

from .formats.common import before_original, diagnostic_near
from .mail import Finding, Found, Mail
from .message import MAX_HEADER_LINES
from .reasons import reason_from_text
from .status import find_status

NAME = 'flufl.bounce'
MAX_CHARS = 64 * 1024
MAX_LINE_CHARS = 998
MAX_BOUNDARY_LINES = 50     # MIME delimiter lines: parts and nesting levels
MAX_COPY_LINES = 300        # its SimpleMatch reads every line once per pattern set (~50)


def parse(mail: Mail, text: str) -> Finding | None:
    """flufl.bounce's failures in *text* (the raw message as the engine read
    it, see :func:`.message.to_text`), as a finding of the engine's kind."""
    # Imported on first use: most messages never get here, and the import
    # is not paid by a process (``mailman-bounces scan``) that never needs it.
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(_as_message(text))
    except Exception:  # noqa: BLE001 - flufl.bounce raises on some broken input
        return None
    text = before_original(mail.text)
    found = [_found(_text_of(address), text, permanent=True) for address in sorted(permanent)]
    found.extend(_found(_text_of(address), text, permanent=False)
                 for address in sorted(temporary) if address not in permanent)
    return Finding(found) if found else None


def _as_message(text: str) -> Message:
    copy = bounded(text)
    try:
        # The text of received bytes (read as Latin-1): parsed as those bytes.
        return email.message_from_bytes(copy.encode('latin-1'))
    except UnicodeEncodeError:
        return email.message_from_string(copy)


def bounded(text: str) -> str:
    """The copy of *text* flufl.bounce reads (see the module's docstring)."""
    text = text[:MAX_CHARS]
    head, separator, body = text.partition('\n\n')
    head_lines = head.split('\n', MAX_HEADER_LINES)[:MAX_HEADER_LINES]
    lines = [*head_lines, '', *_first_parts(body.split('\n'))] if separator else head_lines
    return '\n'.join(line[:MAX_LINE_CHARS] for line in lines[:MAX_COPY_LINES])


def _first_parts(lines: list[str]) -> list[str]:
    """*lines* up to the :data:`MAX_BOUNDARY_LINES`-th MIME delimiter line."""
    seen = 0
    for number, line in enumerate(lines):
        if line.startswith('--'):
            seen += 1
            if seen > MAX_BOUNDARY_LINES:
                return lines[:number]
    return lines


def _text_of(address: bytes | str) -> str:
    return address.decode('utf-8', 'replace') if isinstance(address, bytes) else str(address)


def _found(address: str, text: str, *, permanent: bool) -> Found:
    """One of flufl.bounce's addresses, explained by the text next to it, else
    by the notice's first line that names a reason, if any."""
    diagnostic = diagnostic_near(text, address)
    explained = find_status(diagnostic) is not None or reason_from_text(diagnostic) is not None
    if not explained:
        line = _reason_line(text)
        if line is not None:
            diagnostic, explained = line, True
    return Found(address=address, diagnostic=diagnostic, permanent=permanent,
                 action='failed' if permanent else 'delayed',
                 # Nothing says why: weighted as undefined, not guessed.
                 reason=None if explained else 'undefined')


MAX_LINES = 100


def _reason_line(text: str) -> str | None:
    """The first line of the notice whose words name a reason."""
    for line in text.split('\n', MAX_LINES)[:MAX_LINES]:
        if reason_from_text(line):
            return line.strip()
    return None
