"""A small, bounded, forgiving MIME reader for bounce messages.

The standard :mod:`email` parser is correct but slow and unbounded for what the
engine needs: a handful of headers, the text parts and the delivery-status parts
of a message.  This reader works on the raw text (bytes decoded as Latin-1, so
nothing is lost and decoding never fails), splits multiparts lazily, decodes a
part's transfer encoding and charset only when a format asks for its text, and
caps everything: input size, parts walked, nesting depth and decoded text size.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from email.header import decode_header
from email.message import Message

MAX_INPUT_BYTES = 2 * 1024 * 1024   # bounces put the report first; the rest is the original
MAX_PARTS = 200                     # parts walked in one message
MAX_DEPTH = 8                       # multipart / message/rfc822 nesting
MAX_TEXT_CHARS = 200_000            # decoded text kept from one part
MAX_HEADER_LINES = 500
MAX_PARAMS_CHARS = 4096             # of a Content-Type field, read for its parameters
MAX_WORDS_CHARS = 8192              # of a field, decoded for RFC 2047 words
MAX_RECIPIENTS_BLOCKS = 1001        # field blocks of a delivery-status part, flattened

_HEADER_LINE_RE = re.compile(r'([!-9;-~]+)[ \t]*:[ \t]*(.*)')
_PARAM_RE = re.compile(r';\s*([A-Za-z0-9*_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_ENCODED_WORD_RE = re.compile(r'=\?[^?]+\?[BbQq]\?')


def to_text(data: bytes | str | Message) -> str:
    """Return the raw message text with LF line endings, bounded in size."""
    if isinstance(data, Message):
        data = flatten_bounded(data)
    if isinstance(data, str):
        text = data[:MAX_INPUT_BYTES]
    else:
        text = bytes(data[:MAX_INPUT_BYTES]).decode('latin-1')
    if '\r' in text:
        text = text.replace('\r\n', '\n').replace('\r', '\n')
    return text


def flatten_bounded(message: Message, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The first *limit* bytes of an :mod:`email` message, as received.

    Not ``as_bytes()``: its generator refolds every header through
    :class:`email.header.Header` and parses Content-Type parameters
    quadratically (a 5 MB header line took 4 s, 100k parameters 3.5 s), and
    it serialises the whole message when the engine reads 2 MB of it (a
    50 MB message cost 476 MB).  Header values are written as parsed (their
    folding kept), leaf payloads as they are held (still transfer-encoded),
    multiparts with their own boundary; the walk stops at *limit* bytes and
    never recurses, however deep the nesting.
    """
    pieces: list[str] = []
    size = 0
    stack: list[tuple[Message, int] | str] = [(message, 0)]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            piece = item[:limit - size + 1]
            pieces.append(piece)
            size += len(piece)
            continue
        try:
            stack.extend(reversed(_entity(*item, limit - size)))
        except Exception:  # noqa: BLE001, S112 - a broken entity is left out, the rest is kept
            continue
    return ''.join(pieces).encode('utf-8', 'surrogateescape')[:limit]


def _entity(message: Message, depth: int, budget: int) -> list[tuple[Message, int] | str]:
    """The pieces of one entity, in order: its header block, then its body
    (none deeper than the engine reads, see :meth:`Part.children`)."""
    head: list[str] = []
    used = 0
    for count, (name, value) in enumerate(message.raw_items()):
        if used > budget or count >= MAX_HEADER_LINES:
            break   # the engine reads no further (see parse_fields)
        line = f'{name}: {value}\n'
        head.append(line)
        used += len(line)
    head.append('\n')
    if depth > MAX_DEPTH:
        return [''.join(head)]
    return [''.join(head), *_body(message, depth)]


def _body(message: Message, depth: int) -> list[tuple[Message, int] | str]:
    # The payload as held, not get_payload(): for a text payload that checks
    # for surrogates by encoding all of it (a 50 MB copy of a 50 MB body).
    payload = getattr(message, '_payload', None)
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, bytes | bytearray):
        return [bytes(payload).decode('ascii', 'surrogateescape')]   # back to these bytes below
    if not isinstance(payload, list):
        return [] if payload is None else [str(payload)]
    if message.get_content_type() == 'message/delivery-status':
        # Blocks of fields, one empty line between them (as the generator does).
        return ['\n'.join(_fields_only(block) for block in payload[:MAX_RECIPIENTS_BLOCKS])]
    if message.get_content_maintype() != 'multipart':
        return [(part, depth + 1) for part in payload[:1]]   # message/rfc822: the attached message
    boundary = _boundary(message.get('content-type', ''))
    pieces: list[tuple[Message, int] | str] = []
    if message.preamble is not None:
        pieces.append(message.preamble + '\n')
    # The engine reads MAX_PARTS parts of a multipart at most (see Part._split).
    for number, part in enumerate(payload[:MAX_PARTS]):
        pieces.append(f'--{boundary}\n' if number == 0 else f'\n--{boundary}\n')
        pieces.append((part, depth + 1))
    pieces.append(f'\n--{boundary}--\n')
    if message.epilogue is not None:
        pieces.append(message.epilogue)
    return pieces


def _fields_only(block: Message | str) -> str:
    if isinstance(block, str):
        return block
    return ''.join(f'{name}: {value}\n' for name, value in block.raw_items())


def _boundary(content_type: object) -> str:
    """The boundary parameter, read from a bounded prefix of the field."""
    for name, value in _PARAM_RE.findall(str(content_type)[:MAX_PARAMS_CHARS]):
        if name.lower() == 'boundary':
            return value[1:-1] if value.startswith('"') else value
    return 'boundary'


def split_head(text: str) -> tuple[str, str]:
    """Split raw text at the first empty line into (header block, body)."""
    if text.startswith('\n'):
        return '', text[1:]
    head, sep, body = text.partition('\n\n')
    if not sep:
        return text, ''
    return head, body


def parse_fields(block: str, limit: int = MAX_HEADER_LINES) -> list[tuple[str, str]]:
    """Parse an RFC 5322 style field block into (lower-cased name, unfolded value)."""
    # Each field is a list of its lines, joined once at the end: appending to
    # a string per continuation line is quadratic in the field's length.
    fields: list[tuple[str, list[str]]] = []
    for line in block.split('\n', limit)[:limit]:
        if not line:
            continue
        if line[0] in ' \t':
            if fields:
                fields[-1][1].append(line.strip())
            continue
        match = _HEADER_LINE_RE.match(line)
        if match:
            fields.append((match.group(1).lower(), [match.group(2).strip()]))
        elif fields:
            # A continuation line missing its leading white space (broken mailers).
            fields[-1][1].append(line.strip())
    return [(name, _unfold(lines)) for name, lines in fields]


def _unfold(lines: list[str]) -> str:
    """The lines of a field joined by one space, empty leading lines dropped."""
    first = 0
    while first < len(lines) - 1 and not lines[first]:
        first += 1
    return ' '.join(lines[first:])


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, if there are any.

    Only the first :data:`MAX_WORDS_CHARS` characters are decoded: the
    standard library's :func:`decode_header` is quadratic in the number of
    words (2 MB of them took 13 s), and no format reads further into a field.
    """
    if '=?' not in value or not _ENCODED_WORD_RE.search(value, 0, MAX_WORDS_CHARS):
        return value
    value = value[:MAX_WORDS_CHARS]
    try:
        pieces = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                chunk = chunk.decode(_codec(charset or 'ascii'), 'replace')
            pieces.append(chunk)
        return ''.join(pieces)
    except Exception:  # noqa: BLE001 - broken encoded words are common in spam and bounces
        return value


def _codec(charset: str) -> str:
    charset = charset.strip().strip('"').lower()
    if charset in ('', 'us-ascii', 'ascii', 'unknown-8bit', 'x-unknown', 'unknown'):
        return 'latin-1'
    if charset in ('iso-2022-jp', 'iso-2022-jp-1', 'iso-2022-jp-2', 'iso-2022-jp-3', 'jis'):
        return 'iso2022_jp_ext'
    if charset in ('shift_jis', 'sjis', 'x-sjis', 'shift-jis', 'windows-31j', 'cp932'):
        return 'cp932'
    try:
        import codecs

        return codecs.lookup(charset).name
    except (LookupError, ValueError):
        return 'latin-1'


def decode_bytes(raw: bytes, charset: str | None) -> str:
    """Decode *raw* in *charset*, falling back to UTF-8 then Latin-1."""
    if charset:
        try:
            return raw.decode(_codec(charset), 'replace')
        except (LookupError, ValueError):
            pass
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw.decode('latin-1')


class Part:
    """One MIME entity: its fields, its raw body, and lazily its children."""

    __slots__ = ('_children', '_ctype', '_params', '_text', 'body', 'depth', 'fields')

    def __init__(self, fields: list[tuple[str, str]], body: str, depth: int = 0) -> None:
        self.fields = fields
        self.body = body
        self.depth = depth
        self._children: list[Part] | None = None
        self._ctype: str | None = None
        self._params: dict[str, str] | None = None
        self._text: str | None = None

    @classmethod
    def parse(cls, text: str, depth: int = 0) -> Part:
        head, body = split_head(text)
        return cls(parse_fields(head), body, depth)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of field *name* (lower-case), raw."""
        for field_name, value in self.fields:
            if field_name == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        return [value for field_name, value in self.fields if field_name == name]

    def has(self, name: str) -> bool:
        return any(field_name == name for field_name, _ in self.fields)

    def decoded(self, name: str) -> str:
        """Return field *name* with encoded words decoded ('' when absent)."""
        return decode_words(self.get(name) or '')

    def _parse_content_type(self) -> None:
        # Bounded: a real Content-Type is a few hundred characters, and
        # _PARAM_RE rescans the rest of the field at each unclosed quote.
        raw = (self.get('content-type') or '')[:MAX_PARAMS_CHARS]
        ctype = raw.split(';', 1)[0].strip().lower()
        if '/' not in ctype:
            ctype = 'text/plain'
        self._ctype = ctype
        self._params = {
            name.lower(): value[1:-1] if value.startswith('"') else value
            for name, value in _PARAM_RE.findall(raw)
        }

    @property
    def content_type(self) -> str:
        if self._ctype is None:
            self._parse_content_type()
        return self._ctype  # type: ignore[return-value]

    def param(self, name: str) -> str | None:
        if self._params is None:
            self._parse_content_type()
        return self._params.get(name)  # type: ignore[union-attr]

    @property
    def is_multipart(self) -> bool:
        return self.content_type.startswith('multipart/')

    @property
    def children(self) -> list[Part]:
        """Sub-parts of a multipart (message/rfc822 parts are not opened here)."""
        if self._children is None:
            self._children = self._split() if self.is_multipart else []
        return self._children

    def _split(self) -> list[Part]:
        boundary = self.param('boundary')
        if not boundary or self.depth >= MAX_DEPTH:
            return []
        body = '\n' + self.body
        chunks = body.split('\n--' + boundary)
        if len(chunks) == 1:
            # Declared multipart but the boundary never appears (stripped by a
            # gateway): read the whole body as text rather than lose it.
            return [Part([('content-type', 'text/plain')], self.body, self.depth + 1)]
        parts: list[Part] = []
        for chunk in chunks[1:MAX_PARTS + 1]:
            if chunk.startswith('--'):
                break
            newline = chunk.find('\n')
            if newline < 0:
                continue
            parts.append(Part.parse(chunk[newline + 1:], self.depth + 1))
        return parts

    def attached(self) -> Part | None:
        """The message inside a message/rfc822 (or similar) part, parsed lazily."""
        if self.depth >= MAX_DEPTH:
            return None
        body = self.body
        if self.get('content-transfer-encoding', '').strip().lower() in ('base64', 'quoted-printable'):
            body = self.text()
        return Part.parse(body.lstrip('\n'), self.depth + 1)

    def payload_bytes(self) -> bytes:
        """The body with its transfer encoding undone."""
        encoding = (self.get('content-transfer-encoding') or '').strip().lower()
        raw = self.body[:MAX_TEXT_CHARS * 2].encode('latin-1', 'replace')
        if encoding == 'base64':
            try:
                return base64.b64decode(re.sub(rb'[^A-Za-z0-9+/=]', b'', raw) + b'==')
            except (binascii.Error, ValueError):
                return raw
        if encoding == 'quoted-printable':
            return quopri.decodestring(raw)
        return raw

    def text(self) -> str:
        """The body as text: transfer encoding and charset decoded, bounded."""
        if self._text is None:
            charset = self.param('charset')
            encoding = (self.get('content-transfer-encoding') or '').strip().lower()
            if encoding not in ('base64', 'quoted-printable') and not _needs_charset(charset):
                text = self.body[:MAX_TEXT_CHARS]
                if _has_high_bytes(text):
                    text = decode_bytes(text.encode('latin-1'), charset)
            else:
                text = decode_bytes(self.payload_bytes(), charset)[:MAX_TEXT_CHARS]
            if '\x1b$' in text and not _needs_charset(charset):
                # ISO-2022-JP without a charset label (common in Japanese DSNs)
                text = decode_bytes(text.encode('latin-1', 'replace'), 'iso-2022-jp')
            if '\r' in text:
                text = text.replace('\r\n', '\n').replace('\r', '\n')
            self._text = text
        return self._text

    def walk(self, limit: int = MAX_PARTS) -> list[Part]:
        """All parts depth-first (this one first), not entering message/rfc822."""
        found: list[Part] = []
        stack: list[Part] = [self]
        while stack and len(found) < limit:
            part = stack.pop()
            found.append(part)
            if part.is_multipart:
                stack.extend(reversed(part.children))
        return found


_HIGH_BYTE_RE = re.compile(r'[\x80-\xff]')


def _has_high_bytes(text: str) -> bool:
    return _HIGH_BYTE_RE.search(text) is not None


def _needs_charset(charset: str | None) -> bool:
    """True when the charset is a stateful 7-bit one (ISO-2022-*) that needs decoding."""
    return bool(charset) and charset.lower().startswith('iso-2022')  # type: ignore[union-attr]


def parse(data: bytes | str | Message) -> Part:
    """Parse a whole message (bytes, text or an :mod:`email` Message)."""
    return Part.parse(to_text(data))
