"""Reading messages from the file system: single files, directories, maildirs, mboxes.

Splitting an mbox is the scanner's job, never the engine's: :func:`detect` always
sees exactly one message.  A file holds several messages when it has mbox
``From `` separator lines (sender, then a ctime date); everything before the
first separator, if anything, is a message too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_FILE_BYTES = 256 * 1024 * 1024

_FROM_LINE_RE = re.compile(
    rb'^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +[A-Z][a-z]{2} +\d{1,2} +'
    rb'\d{1,2}:\d\d(?::\d\d)?(?: +[A-Z]{2,5}| +[+-]\d{4})? +\d{4}[^\n]*\n',
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Item:
    """One message read from *path*; *index* counts messages within the file."""

    path: str
    index: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Failure:
    """A path that could not be read, and why."""

    path: str
    error: str


def split_mbox(data: bytes) -> list[bytes]:
    """Split *data* at mbox From_ lines; a file without any is one message.

    The From_ line itself is dropped and ``>From `` quoting is undone.
    """
    starts = [match for match in _FROM_LINE_RE.finditer(data)]
    if not starts:
        return [data]
    messages: list[bytes] = []
    head = data[:starts[0].start()]
    if head.strip():
        messages.append(head)
    for number, match in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(data)
        body = data[match.end():end]
        if b'\n>From ' in body:
            body = re.sub(rb'\n>(>*From )', rb'\n\1', body)
        messages.append(body)
    return messages


def _read(path: str) -> bytes:
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise OSError(f'file too large ({size} bytes)')
    with open(path, 'rb') as handle:
        return handle.read()


def _files_in(directory: str) -> list[str]:
    """Message files under *directory*: a maildir's cur/new, or every regular file."""
    entries = sorted(os.listdir(directory))
    if {'cur', 'new'} <= set(entries):
        names = []
        for sub in ('new', 'cur'):
            folder = os.path.join(directory, sub)
            names.extend(os.path.join(folder, name) for name in sorted(os.listdir(folder))
                         if not name.startswith('.'))
        return names
    files: list[str] = []
    for name in entries:
        if name.startswith('.') or name == 'tmp':
            continue
        full = os.path.join(directory, name)
        if os.path.isdir(full):
            files.extend(_files_in(full))
        elif os.path.isfile(full):
            files.append(full)
    return files


def scan_paths(paths: list[str]) -> Iterator[Item | Failure]:
    """Yield every message under *paths*, and a :class:`Failure` for unreadable ones."""
    for path in paths:
        try:
            files = _files_in(path) if os.path.isdir(path) else [path]
        except OSError as error:
            yield Failure(path, error.strerror or str(error))
            continue
        for file_path in files:
            try:
                data = _read(file_path)
            except OSError as error:
                yield Failure(file_path, error.strerror or str(error))
                continue
            for index, message in enumerate(split_mbox(data)):
                yield Item(file_path, index, message)
