"""The ``[mailbox.NAME]`` sections: mailboxes the bouncemail runner polls.

Each section is checked like the rest of the configuration: a bad value
stops start-up with a message naming the section, the key and what is
allowed.  Plain-text connections are refused unless the server is on this
host, so that a password never crosses a network in clear.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mailman_bounces.validators import (
    Boolean,
    Choice,
    Duration,
    Integer,
    InvalidValue,
    Optional,
    Parser,
    Text,
)

__all__ = ['PROTOCOLS', 'SECURITIES', 'MailboxConfig', 'is_loopback',
           'mailbox_config']

PROTOCOLS = ('imap', 'pop3')
SECURITIES = ('tls', 'starttls', 'none')
# The standard ports: implicit TLS, then STARTTLS or plain.
_PORTS = {('imap', True): 993, ('imap', False): 143,
          ('pop3', True): 995, ('pop3', False): 110}


@dataclass(frozen=True)
class MailboxConfig:
    """One mailbox to poll."""

    name: str
    host: str
    user: str
    protocol: str = 'imap'
    port: int = 0
    security: str = 'tls'
    ca_file: str | None = None
    password_file: str | None = None
    token_command: str | None = None
    folder: str = 'INBOX'
    processed_folder: str = 'Processed'
    unparsed_folder: str = 'Unparsed'
    list: str | None = None
    poll_interval: timedelta = timedelta(minutes=5)
    timeout: timedelta = timedelta(seconds=60)
    delete: bool = True
    enabled: bool = True

    @property
    def effective_port(self) -> int:
        return self.port or _PORTS[self.protocol, self.security == 'tls']


class _Name(Text):
    allowed = 'a non-empty name'

    def __call__(self, value: Any) -> str:
        text = super().__call__(value).strip()
        if not text:
            raise self.refuse()
        return text


_PARSERS: dict[str, Parser] = {
    'enabled': Boolean(),
    'protocol': Choice(PROTOCOLS),
    'host': _Name(),
    'port': Integer(0, 65535),
    'security': Choice(SECURITIES),
    'ca_file': Optional(Text()),
    'user': _Name(),
    'password_file': Optional(Text()),
    'token_command': Optional(Text()),
    'folder': _Name(),
    'processed_folder': _Name(),
    'unparsed_folder': _Name(),
    'list': Optional(Text()),
    'poll_interval': Duration(),
    'timeout': Duration(),
    'delete': Boolean(),
}


def is_loopback(host: str) -> bool:
    """Is `host` this machine (by name or loopback address)?"""
    if host.lower() == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mailbox_config(name: str, section: Mapping[str, Any],
                   check: Any) -> MailboxConfig:
    """Check the ``[mailbox.NAME]`` `section`; `check(section, key, raw,
    parser)` turns a refused value into the caller's error, and is also
    called with a parser that always refuses for settings that do not go
    together."""
    where = f'mailbox.{name}'
    values = {key: check(where, key, section[key], parser)
              for key, parser in _PARSERS.items()}
    if bool(values['password_file']) == bool(values['token_command']):
        check(where, 'password_file', section['password_file'],
              _Refuse('exactly one of password_file and token_command'))
    if values['security'] == 'none' and not is_loopback(values['host']):
        check(where, 'security', section['security'],
              _Refuse('tls or starttls: none is only allowed for a '
                      'loopback host'))
    if values['timeout'] <= timedelta(0):
        check(where, 'timeout', section['timeout'],
              _Refuse('a duration longer than 0'))
    return MailboxConfig(name=name, **values)


class _Refuse(Parser):
    def __init__(self, allowed: str) -> None:
        self.allowed = allowed

    def __call__(self, value: Any) -> Any:
        raise InvalidValue(self.allowed)
