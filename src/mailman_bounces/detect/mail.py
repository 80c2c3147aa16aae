"""The view of one message that format modules work on, and what they hand back.

:class:`Mail` wraps a parsed message and computes, once and only on demand, what
several formats look at: decoded subject and sender, the walked parts, the
human-readable text, the returned original message.  :class:`Found` is one raw
recipient record as a format read it; the engine validates and completes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from .message import Part, decode_words, parse_fields, split_head
from .report import Kind

_TEXT_TYPES = ('text/plain', 'text/html', 'text/enriched')
_HEADERS_TYPES = ('message/rfc822', 'message/global', 'text/rfc822-headers',
                  'message/rfc822-headers', 'text/rfc822-header', 'message/partial')
MAX_TAG_CHARS = 500     # a longer "tag" is text that happens to hold a '<'
_TAG_RE = re.compile(r'<(?:br|p|div|tr|li|/p|/div|/tr|/li|/h\d)\b[^>]*>', re.IGNORECASE)
_ANY_TAG_RE = re.compile(rf'<[^>]{{0,{MAX_TAG_CHARS}}}>')
# A maximal stretch without '>' too long for a tag (starting only where a
# stretch starts, so that it is linear itself).
_LONG_RUN_RE = re.compile(rf'(?<![^>])[^>]{{{MAX_TAG_CHARS + 1},}}')
MAX_RECIPIENTS = 500


@dataclass(slots=True)
class Found:
    """One recipient record as read by a format module, before validation."""

    address: str | None
    original: str | None = None
    action: str | None = None
    status: str | None = None
    reply_code: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    reason: str | None = None           # set when the format knows better than the phrases
    permanent: bool | None = None       # format-level knowledge when there is no status
    command: str | None = None          # SMTP command the remote server answered
    feedback_type: str | None = None


@dataclass(slots=True)
class Finding:
    """What one format module recognised in a message."""

    recipients: list[Found] = field(default_factory=list)
    kind: Kind | None = None            # forced kind (complaint, autoreply)
    feedback_type: str | None = None
    # The message states a permanent delivery failure: a bounce even when no
    # recipient survives validation (anonymised or display-name-only ones).
    failure_stated: bool = False


def html_to_text(html: str) -> str:
    """Crude HTML to text: keep line structure, drop tags; linear time.

    A line-ending tag (``<br>``, ``<p>``, ``</div>``...) becomes a newline,
    whatever its length; then any other tag up to :data:`MAX_TAG_CHARS` long
    is dropped; a ``<`` that no ``>`` closes is text.  Both regexes only ever
    see text where they cannot fail after a long scan (they looked for a
    ``>`` from every ``<``: 200 KB of ``<br`` took 7.5 s), with the same
    results.
    """
    # Every '<' before the last '>' has a '>' after it: a line-ending tag
    # matches at its first try, through the '>' it scanned to.
    last = html.rfind('>') + 1
    text = _TAG_RE.sub('\n', html[:last]) + html[last:]
    return unescape(_drop_tags(text)).replace('\xa0', ' ')


def _drop_tags(text: str) -> str:
    """``_ANY_TAG_RE.sub('', text)`` without its failed scans.

    A ``<`` followed by more than :data:`MAX_TAG_CHARS` characters before the
    next ``>`` (or by no ``>``) never starts a tag; those stretches are
    copied as they are, and the regex runs only on the rest, where its
    matches can neither start nor end.
    """
    pieces: list[str] = []
    done = 0
    for run in _LONG_RUN_RE.finditer(text):
        dead_end = run.end() if run.end() == len(text) else run.end() - MAX_TAG_CHARS - 1
        pieces.append(_ANY_TAG_RE.sub('', text[done:run.start()]))
        pieces.append(text[run.start():dead_end])
        done = dead_end
    pieces.append(_ANY_TAG_RE.sub('', text[done:]))
    return ''.join(pieces)


class Mail:
    """A parsed message plus lazily computed views of it."""

    __slots__ = ('_html_texts', '_original', '_parts', '_sender', '_subject', '_text', 'root')

    def __init__(self, root: Part) -> None:
        self.root = root
        self._parts: list[Part] | None = None
        self._subject: str | None = None
        self._sender: str | None = None
        self._text: str | None = None
        self._original: Part | None | bool = False
        self._html_texts: dict[int, str] = {}

    # -- headers -------------------------------------------------------------

    def header(self, name: str) -> str:
        """Raw value of top-level field *name* (lower-case), '' when absent."""
        return self.root.get(name) or ''

    @property
    def subject(self) -> str:
        if self._subject is None:
            self._subject = decode_words(self.header('subject'))
        return self._subject

    @property
    def sender(self) -> str:
        """The From: field, decoded and lower-cased."""
        if self._sender is None:
            self._sender = decode_words(self.header('from')).lower()
        return self._sender

    @property
    def content_type(self) -> str:
        return self.root.content_type

    # -- parts ----------------------------------------------------------------

    @property
    def parts(self) -> list[Part]:
        if self._parts is None:
            self._parts = self.root.walk()
        return self._parts

    def parts_of_type(self, *types: str) -> list[Part]:
        return [part for part in self.parts if part.content_type in types]

    @property
    def text(self) -> str:
        """The human-readable text: the first text/plain part (else HTML as text),
        up to the returned original message."""
        if self._text is None:
            self._text = self._find_text()
        return self._text

    def _find_text(self) -> str:
        html: Part | None = None
        for part in self.parts:
            ctype = part.content_type
            if ctype == 'text/plain':
                return part.text()
            if ctype == 'text/html' and html is None:
                html = part
            if ctype in _HEADERS_TYPES and part is not self.root:
                break
        if html is not None:
            return self.html_text(html)
        if not self.root.is_multipart:
            return self.root.text()
        return ''

    def html_text(self, part: Part) -> str:
        """*part*'s HTML as text, converted once however often it is asked for."""
        key = id(part)
        if key not in self._html_texts:
            self._html_texts[key] = html_to_text(part.text())
        return self._html_texts[key]

    def all_texts(self, limit: int = 4) -> list[str]:
        """Text of the first few text/* leaf parts before the returned message."""
        texts: list[str] = []
        for part in self.parts:
            ctype = part.content_type
            if ctype in _HEADERS_TYPES and part is not self.root:
                break
            if ctype in _TEXT_TYPES:
                texts.append(self.html_text(part) if ctype == 'text/html' else part.text())
                if len(texts) >= limit:
                    break
        if not texts and not self.root.is_multipart:
            texts.append(self.root.text())
        return texts

    # -- the returned original ------------------------------------------------

    @property
    def original(self) -> Part | None:
        """Headers (and body) of the returned original message, if attached."""
        if self._original is False:
            self._original = self._find_original()
        return self._original  # type: ignore[return-value]

    def _find_original(self) -> Part | None:
        for part in self.parts:
            if part is self.root:
                continue
            ctype = part.content_type
            if ctype in ('message/rfc822', 'message/global', 'message/partial'):
                return part.attached()
            if ctype in _HEADERS_TYPES:
                head, _ = split_head(part.text().lstrip('\n'))
                return Part(parse_fields(head), '', part.depth + 1)
        return None

    def original_recipients(self) -> list[str]:
        """To: of the returned message (raw values)."""
        original = self.original
        if original is None:
            return []
        return original.get_all('to')


def original_from_text(text: str, marker: re.Pattern[str]) -> Part | None:
    """Parse the original message quoted in *text* after the line *marker* matches."""
    match = marker.search(text)
    if not match:
        return None
    rest = text[match.end():].lstrip('\n')
    head, _ = split_head(rest)
    fields = parse_fields(head, 200)
    return Part(fields, '', 1) if fields else None
