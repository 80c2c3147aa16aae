"""A test SMTP sink that advertises DSN (RFC 3461), or not.

Mailman's test SMTP server (aiosmtpd) advertises no DSN and refuses
``RET``, ``ENVID``, ``NOTIFY`` and ``ORCPT`` (555).  This sink, started on
a port of its own, advertises ``DSN`` when asked to and then accepts those
parameters; it keeps every message it receives with its envelope, the
MAIL and RCPT parameters included, as received.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from queue import Empty, Queue

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# The parameters a DSN server accepts (RFC 3461).
DSN_PARAMETERS = frozenset({'RET', 'ENVID', 'NOTIFY', 'ORCPT'})


@dataclass
class Received:
    """One message as the sink received it."""

    mail_from: str
    mail_parameters: list[str]
    # (address, its parameters) per RCPT, in order.
    recipients: list[tuple[str, list[str]]]
    content: bytes
    advertised_dsn: bool = field(default=False)


class _Session(SMTP):
    def __init__(self, handler) -> None:
        super().__init__(handler, enable_SMTPUTF8=True)
        self._raw_rcpts: list[str] = []
        self._raw_mail = ''

    def _getparams(self, params):
        found = super()._getparams(params)
        if found is not None and self.event_handler.sink.advertise_dsn:
            for name in DSN_PARAMETERS:
                found.pop(name, None)
        return found

    async def smtp_MAIL(self, arg):
        self._raw_mail = arg or ''
        self._raw_rcpts = []
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self._raw_rcpts.append(arg or '')
        await super().smtp_RCPT(arg)


def _parameters(argument: str) -> list[str]:
    # 'FROM:<a@b> RET=HDRS ENVID=x': what follows the address, as sent.
    return argument.partition('>')[2].split()


class _Handler:
    def __init__(self, sink: DSNSink) -> None:
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.sink.advertise_dsn:
            responses.insert(-1, '250-DSN')
        return responses

    async def handle_DATA(self, server, session, envelope):
        rcpts = server._raw_rcpts[-len(envelope.rcpt_tos):]
        self.sink.queue.put(Received(
            envelope.mail_from, _parameters(server._raw_mail),
            [(address, _parameters(raw))
             for address, raw in zip(envelope.rcpt_tos, rcpts, strict=True)],
            envelope.original_content or envelope.content,
            self.sink.advertise_dsn))
        return '250 OK'


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class DSNSink(Controller):
    """The sink; `advertise_dsn` may change between messages."""

    def __init__(self, port: int, advertise_dsn: bool = True) -> None:
        self.advertise_dsn = advertise_dsn
        self.queue: Queue[Received] = Queue()
        super().__init__(_Handler(self), hostname='127.0.0.1', port=port)

    def factory(self):
        return _Session(self.handler)

    def received(self) -> list[Received]:
        """The messages received since the last call."""
        found = []
        while True:
            try:
                found.append(self.queue.get_nowait())
            except Empty:
                return found
