"""A shifted clock for a whole Mailman instance, for demonstrations.

Mailman reads the time through ``mailman.utilities.datetime`` (``now()``,
``today()``), and so does the plugin.  Core's own clock control there (a
predictable, fast-forwardable time) exists only in testing mode and only
inside one process, while an instance is a dozen processes (master,
runners, REST, commands).  This clock reaches all of them through a file:
every process reads the offset from it at each ``now()``, so whoever
rewrites the file moves the time of the whole running instance at once,
and nothing stored has to be rewritten.

An instance enables it with a second plugin section, naming the file::

    [plugin.clock]
    class: mailman_bounces.testing.clock.ShiftedClock
    # Mailman looks for a plugin's components (rules, styles...) there;
    # without it, in a package named like the section.  There are none.
    component_package: mailman_bounces.testing
    enabled: yes
    configuration: /path/to/var/clock

The file holds the offset from the real clock in seconds (negative: in the
past); a missing file means no offset.  `set_offset` writes it atomically,
so a process reads either the old offset or the new one.

It may instead hold ``@`` and a time (``@2025-03-03T09:00:00``, written by
`freeze`): then the clock stands still at that time in every process
until the file changes.  Several instances sharing one database and one
such file read the very same time, to the microsecond (the multi-host
harness, `mailman_bounces.testing.multihost`, compares their decisions
with those of one instance that way).
"""

from __future__ import annotations

import datetime as real_datetime
import os
import types
from pathlib import Path

import mailman.utilities.datetime as mailman_datetime
from mailman.config import config
from mailman.interfaces.plugin import IPlugin
from public import public
from zope.interface import implementer


def _utc_now() -> real_datetime.datetime:
    return real_datetime.datetime.now(real_datetime.UTC).replace(tzinfo=None)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding='ascii').strip()
    except FileNotFoundError:
        return ''


def _frozen(path: Path, text: str) -> real_datetime.datetime:
    try:
        return real_datetime.datetime.fromisoformat(text[1:])
    except ValueError:
        raise ValueError(f'clock file {path}: expected @ and a time, found '
                         f'{text!r}') from None


@public
def read_frozen(path: Path) -> real_datetime.datetime | None:
    """The time (UTC, naive) the clock file `path` stopped the clock at;
    None when it holds an offset or nothing."""
    text = _read(path)
    return _frozen(path, text) if text.startswith('@') else None


@public
def freeze(path: Path, when: real_datetime.datetime) -> None:
    """Stop the clock at `when` (UTC, naive), for every process at once."""
    scratch = path.with_name(path.name + '.new')
    scratch.write_text(f'@{when.isoformat()}\n', encoding='ascii')
    os.replace(scratch, path)


@public
def read_offset(path: Path) -> real_datetime.timedelta:
    """The offset in the clock file `path` (zero when there is none; for a
    stopped clock, from the real clock to its time now)."""
    text = _read(path)
    if not text:
        return real_datetime.timedelta(0)
    if text.startswith('@'):
        return _frozen(path, text) - _utc_now()
    try:
        return real_datetime.timedelta(seconds=float(text))
    except ValueError:
        raise ValueError(f'clock file {path}: expected a number of seconds, '
                         f'found {text!r}') from None


@public
def set_offset(path: Path, offset: real_datetime.timedelta) -> None:
    """Make `offset` the clock's offset, for every process at once."""
    scratch = path.with_name(path.name + '.new')
    scratch.write_text(f'{offset.total_seconds():.6f}\n', encoding='ascii')
    os.replace(scratch, path)


def shifted_datetime_module(path: Path) -> types.ModuleType:
    """A stand-in for the datetime module whose ``datetime.now()`` and
    ``date.today()`` follow the clock file `path`."""

    class datetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            frozen = read_frozen(path)
            if frozen is None:
                return real_datetime.datetime.now(tz) + read_offset(path)
            if tz is None:
                # Local time, as datetime.now() gives it.
                return (frozen.replace(tzinfo=real_datetime.UTC)
                        .astimezone().replace(tzinfo=None))
            return frozen.replace(tzinfo=real_datetime.UTC).astimezone(tz)

    class date(real_datetime.date):
        @classmethod
        def today(cls):
            return datetime.now().date()

    module = types.ModuleType('datetime', 'datetime, on a shifted clock')
    module.__dict__.update({name: value for name, value
                            in vars(real_datetime).items()
                            if not name.startswith('__')})
    module.datetime = datetime
    module.date = date
    return module


@public
def install(path: Path) -> None:
    """Shift Mailman's clock in this process by the offset in `path`.

    ``now`` and ``today`` were bound by many modules at import time, so
    they cannot be replaced; what they call can: the ``datetime`` module
    that `mailman.utilities.datetime` looks up at every call.
    """
    mailman_datetime.datetime = shifted_datetime_module(path)


@public
def uninstall() -> None:
    """Back to the real clock."""
    mailman_datetime.datetime = real_datetime


@public
@implementer(IPlugin)
class ShiftedClock:
    """The clock as a Mailman plugin, so every process installs it."""

    # Mailman sets this to the plugin's section name before pre_hook.
    name = 'clock'
    resource = None

    def pre_hook(self):
        """See `IPlugin`."""
        path = getattr(config, 'plugin.' + self.name)['configuration']
        if not path.strip():
            # SystemExit: Mailman would otherwise disable the plugin and
            # run on the real clock without saying so.
            raise SystemExit(f'[plugin.{self.name}]configuration: name the '
                             f'clock file')
        install(Path(path.strip()))

    def post_hook(self):
        """See `IPlugin`."""
