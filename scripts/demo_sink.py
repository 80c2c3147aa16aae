"""A local mail sink standing in for the MTA of the demo instance.

Mailman hands its outgoing mail (posts, warnings, owner notices, probes) to
an SMTP server.  This one accepts everything on 127.0.0.1 and writes each
message to OUTBOX as NNNNN.eml, so the demo needs no real MTA and its mail
can be read afterwards.

Usage: python scripts/demo_sink.py PORT OUTBOX
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Outbox:
    """aiosmtpd handler writing every message to a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = len(list(directory.glob('*.eml')))
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            path = self.directory / f'{self.count:05d}.eml'
        recipients = ', '.join(envelope.rcpt_tos)
        path.write_bytes(b'X-Demo-Envelope-To: ' + recipients.encode()
                         + b'\r\n' + envelope.content)
        return '250 Message accepted for delivery'


def main(port: int, outbox: str) -> None:
    controller = Controller(Outbox(Path(outbox)), hostname='127.0.0.1',
                            port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == '__main__':
    main(int(sys.argv[1]), sys.argv[2])
