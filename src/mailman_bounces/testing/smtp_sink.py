"""A test SMTP (or LMTP) sink on 127.0.0.1 that keeps what it receives.

One sink stands in for every mail server the tests talk to: the MTA that
Mailman hands its outgoing mail to, and the relay host or LMTP server of
the private Postfix (`mailman_bounces.testing.postfix`).  It keeps every
message it accepts with its envelope, the MAIL and RCPT parameters
included as they were sent, refuses the local part `refused` (``550
5.1.1``) and defers `deferred` (``450 4.2.0``) in every domain, and keeps
every RCPT asked with the code it answered (`attempts`), so a sender's
retries show.

Mailman's test SMTP server (aiosmtpd) advertises no DSN and refuses
``RET``, ``ENVID``, ``NOTIFY`` and ``ORCPT`` (555).  With `advertise_dsn`
(which may change between messages) this sink advertises ``DSN`` (RFC
3461) and then accepts those parameters.

Usage::

    with Sink(advertise_dsn=True) as sink:
        ...  # send to 127.0.0.1:sink.port
        [message] = sink.wait(1)
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

# The parameters a DSN server accepts (RFC 3461).
DSN_PARAMETERS = frozenset({'RET', 'ENVID', 'NOTIFY', 'ORCPT'})


@dataclass
class Received:
    """One message as the sink accepted it."""

    mail_from: str
    # What followed the address in MAIL FROM, as sent ('RET=HDRS', ...).
    mail_parameters: list[str]
    # (address, its parameters as sent) per accepted RCPT, in order.
    recipients: list[tuple[str, list[str]]]
    content: bytes
    advertised_dsn: bool = False

    @property
    def rcpt_tos(self) -> list[str]:
        return [address for address, _ in self.recipients]

    @property
    def message(self) -> Message:
        return message_from_bytes(self.content)


def _parameters(argument: str) -> list[str]:
    # 'FROM:<a@b> RET=HDRS ENVID=x': what follows the address, as sent
    # (aiosmtpd hands handlers the parameters upper-cased, and an ORCPT's
    # address keeps its case).
    return argument.partition('>')[2].split()


class _Recording:
    """A session that keeps the MAIL and RCPT arguments as sent, and takes
    the DSN parameters when the sink advertises DSN."""

    _raw_mail = ''
    _raw_rcpt = ''

    def _getparams(self, params):
        found = super()._getparams(params)
        if found is not None and self.event_handler.advertise_dsn:
            for name in DSN_PARAMETERS:
                found.pop(name, None)
        return found

    async def smtp_MAIL(self, arg):
        self._raw_mail = arg or ''
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self._raw_rcpt = arg or ''
        await super().smtp_RCPT(arg)


class _SMTPSession(_Recording, SMTP):
    pass


class _LMTPSession(_Recording, LMTP):
    pass


class SinkHandler:
    """The aiosmtpd handler: what the sink answers and keeps."""

    def __init__(self, refused: str, deferred: str, lmtp: bool,
                 advertise_dsn: bool) -> None:
        self.refused = refused.lower()
        self.deferred = deferred.lower()
        self.lmtp = lmtp
        self.advertise_dsn = advertise_dsn
        self.received: list[Received] = []
        # Every RCPT TO asked, with the code answered.
        self.attempts: list[tuple[str, int]] = []
        self._arrived = threading.Condition()

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.advertise_dsn:
            responses.insert(-1, '250-DSN')
        return responses

    async def handle_RCPT(self, server, session, envelope, address: str,
                          rcpt_options: list[str]) -> str:
        local = address.rpartition('@')[0].lower()
        if local == self.refused:
            code, reply = 550, f'550 5.1.1 <{address}>: no such user'
        elif local == self.deferred:
            code, reply = 450, f'450 4.2.0 <{address}>: try again later'
        else:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.append(_parameters(server._raw_rcpt))
            code, reply = 250, '250 2.1.5 OK'
        with self._arrived:
            self.attempts.append((address, code))
        return reply

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._arrived:
            self.received.append(Received(
                envelope.mail_from, _parameters(server._raw_mail),
                list(zip(envelope.rcpt_tos, envelope.rcpt_options,
                         strict=True)),
                envelope.original_content or envelope.content,
                self.advertise_dsn))
            self._arrived.notify_all()
        if self.lmtp:
            # LMTP answers DATA once per accepted recipient (RFC 2033
            # 4.2); aiosmtpd sends our string as it is.
            return '\r\n'.join('250 2.0.0 Delivered'
                               for _ in envelope.rcpt_tos)
        return '250 2.0.0 OK'

    def wait(self, count: int, timeout: float,
             match: Callable[[Received], bool] | None) -> list[Received]:
        def matching() -> list[Received]:
            return [r for r in self.received if match is None or match(r)]
        with self._arrived:
            if not self._arrived.wait_for(
                    lambda: len(matching()) >= count, timeout):
                raise TimeoutError(
                    f'{len(matching())} of {count} messages arrived '
                    f'in {timeout}s')
            return matching()[:count]

    def take(self) -> list[Received]:
        with self._arrived:
            taken, self.received = self.received, []
            return taken


class _Controller(Controller):
    def __init__(self, handler: SinkHandler, port: int) -> None:
        # Mailman's bodies are not always 7-bit clean: keep the bytes.
        super().__init__(handler, hostname='127.0.0.1', port=port,
                         decode_data=False)

    def factory(self):
        session = _LMTPSession if self.handler.lmtp else _SMTPSession
        return session(self.handler, enable_SMTPUTF8=True, decode_data=False)


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@dataclass
class Sink:
    """The sink (see the module's docstring); `stop` it when done, or use
    it as a context manager."""

    lmtp: bool = False
    port: int = 0                 # 0: a free port, chosen at start
    refused: str = 'nosuchuser'
    deferred: str = 'slowpoke'
    advertise_dsn: bool = False
    handler: SinkHandler = field(init=False)
    _controller: Controller | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.handler = SinkHandler(self.refused, self.deferred, self.lmtp,
                                   self.advertise_dsn)

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name == 'advertise_dsn' and 'handler' in self.__dict__:
            # Asked of the handler at each EHLO: a change applies from the
            # next session.
            self.handler.advertise_dsn = value

    @property
    def received(self) -> list[Received]:
        """Every message accepted (and not taken), in order."""
        return self.handler.received

    @property
    def attempts(self) -> list[tuple[str, int]]:
        return self.handler.attempts

    def take(self) -> list[Received]:
        """The messages accepted since the last `take`, forgotten here."""
        return self.handler.take()

    def wait(self, count: int, timeout: float = 20,
             match: Callable[[Received], bool] | None = None
             ) -> list[Received]:
        """The first `count` messages received (that `match`, if given),
        waiting up to `timeout` seconds for them."""
        return self.handler.wait(count, timeout, match)

    def start(self) -> Self:
        self.port = self.port or free_port()
        self._controller = _Controller(self.handler, self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
