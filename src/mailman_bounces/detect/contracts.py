"""The contracts a newcomer implements to teach the engine something new.

Each is a :class:`~typing.Protocol` that a *module* satisfies (the engine's
registries hold modules, as flufl.bounce's holds detector classes and
Sisimai's its ``Lhost`` and ``Rhost`` modules):

* :class:`Format`: one layout of bounce, in ``detect/formats/``, listed in
  ``registry.FORMATS`` in the order formats are tried;
* :class:`DSNSender`: names who sent a standard DSN (read by the one RFC 3464
  parser), listed in ``registry.DSN_SENDERS``;
* :class:`Provider`: one receiving provider's own codes and wordings, in
  ``detect/rhosts/``, listed in ``rhosts.PROVIDERS``.

The registries are typed with them, and a test checks every registered module.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .mail import Finding, Mail


@runtime_checkable
class Format(Protocol):
    """A module that reads one layout of bounce.

    ``parse`` returns ``None`` when the message is not in this layout, else
    the raw records it read (the engine validates and classifies them).  It
    may raise on a broken message: the engine takes that as "not this format".
    """

    NAME: str

    def parse(self, mail: Mail) -> Finding | None: ...


@runtime_checkable
class DSNSender(Protocol):
    """A module that recognises who sent a standard DSN (a header or the
    opening words of its text part), so the detector reads ``rfc3464/NAME``."""

    NAME: str

    def recognise(self, mail: Mail) -> bool: ...


@runtime_checkable
class Provider(Protocol):
    """A receiving provider's table: its domains, the markers only it writes,
    and the reason its own codes and wordings give (see :mod:`.rhosts.common`)."""

    NAME: str
    DOMAINS: tuple[str, ...]
    MARKERS: tuple[str, ...]

    def reason(self, text: str, command: str | None = None) -> str | None: ...
