"""Reading messages from the file system: single files, directories, maildirs, mboxes.

Splitting an mbox is the scanner's job, never the engine's: :func:`detect` always
sees exactly one message.  A file holds several messages when it has mbox
``From `` separator lines (sender, then a ctime date); everything before the
first separator, if anything, is a message too.

Whatever a path turns out to be, the scan neither hangs nor runs out of memory:
only regular files are read (a FIFO, socket or device is refused, and is opened
without blocking to find that out), a file is read up to :data:`MAX_FILE_BYTES`
whatever size it reports (``/proc`` files report 0), each real directory is
walked once (symlink loops, and two names for one directory, are followed
once), and a path that cannot be read is reported as a :class:`Failure` while
the walk goes on.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_FILE_BYTES = 256 * 1024 * 1024

_FROM_LINE_RE = re.compile(
    rb'^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +[A-Z][a-z]{2} +\d{1,2} +'
    rb'\d{1,2}:\d\d(?::\d\d)?(?: +[A-Z]{2,5}| +[+-]\d{4})? +\d{4}[^\n]*\n',
    re.MULTILINE,
)

_KINDS = ((stat.S_ISFIFO, 'a FIFO'), (stat.S_ISSOCK, 'a socket'),
          (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'))
REFUSED = 'not a regular file, directory, mbox or maildir'


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


@dataclass(slots=True)
class _Seen:
    """Real directories and files already visited, by (device, inode)."""

    keys: set[tuple[int, int]] = field(default_factory=set)

    def first_visit(self, status: os.stat_result) -> bool:
        key = (status.st_dev, status.st_ino)
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


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


def _kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return 'of an unknown type'


def _read(path: str, limit: int | None = None) -> bytes:
    """The content of the regular file *path*, at most *limit* bytes, or OSError.

    Opened without blocking (a FIFO would otherwise wait for a writer), then
    checked on the open descriptor, so a path swapped after a stat is caught
    too.  The read stops at the cap whatever size the file reports.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_NOCTTY', 0))
    with open(descriptor, 'rb', closefd=True) as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f'{REFUSED} (it is {_kind_of(mode)})')
        os.set_blocking(descriptor, True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f'file too large (more than {limit} bytes)')
    return data


def _entries(directory: str) -> list[str]:
    return sorted(os.listdir(directory))


def _walk(directory: str, seen: _Seen) -> Iterator[str | Failure]:
    """Message files under *directory* (a maildir's new/cur, or every regular
    file), and a :class:`Failure` for each part that cannot be read."""
    try:
        entries = _entries(directory)
    except OSError as error:
        yield Failure(directory, error.strerror or str(error))
        return
    if {'cur', 'new'} <= set(entries):
        yield from _maildir(directory)
        return
    for name in entries:
        if name.startswith('.') or name == 'tmp':
            continue
        yield from _entry(os.path.join(directory, name), seen)


def _maildir(directory: str) -> Iterator[str | Failure]:
    for sub in ('new', 'cur'):
        folder = os.path.join(directory, sub)
        try:
            names = _entries(folder)
        except OSError as error:
            yield Failure(folder, error.strerror or str(error))
            continue
        yield from (os.path.join(folder, name) for name in names if not name.startswith('.'))


def _entry(path: str, seen: _Seen) -> Iterator[str | Failure]:
    """*path* itself when it is a file, its files when it is a directory."""
    try:
        status = os.stat(path)
    except OSError as error:
        yield Failure(path, error.strerror or str(error))
        return
    if stat.S_ISDIR(status.st_mode):
        # Symlinks are followed, but each real directory is walked once:
        # a loop back to an ancestor (``ln -s . loop``) ends here.
        if seen.first_visit(status):
            yield from _walk(path, seen)
    elif not stat.S_ISREG(status.st_mode):
        yield Failure(path, f'{REFUSED} (it is {_kind_of(status.st_mode)})')
    elif seen.first_visit(status):
        yield path


def new_seen() -> _Seen:
    """What a scan has walked so far: nothing yet."""
    return _Seen()


def scan_paths(paths: list[str], seen: _Seen | None = None) -> Iterator[Item | Failure]:
    """Yield every message under *paths*, and a :class:`Failure` for each path
    that is refused or cannot be read; the scan always goes on.  *seen* carries
    what was already walked from one call to the next (one scan, several calls)."""
    seen = _Seen() if seen is None else seen
    for path in paths:
        for found in _entry(path, seen):
            if isinstance(found, Failure):
                yield found
                continue
            try:
                data = _read(found)
            except OSError as error:
                yield Failure(found, error.strerror or str(error))
                continue
            for index, message in enumerate(split_mbox(data)):
                yield Item(found, index, message)
