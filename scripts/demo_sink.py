"""A local mail sink standing in for the MTA of the demo instance.

Mailman hands its outgoing mail (posts, warnings, owner notices, probes) to
an SMTP server.  This one accepts everything on 127.0.0.1 and writes each
message to OUTBOX as NNNNN.eml, so the demo needs no real MTA and its mail
can be read afterwards.  Each message gets two headers: the envelope
recipients (X-Demo-Envelope-To) and the time it arrived on the instance's
clock (X-Demo-Received; see `mailman_bounces.testing.clock`), which runs
behind the real clock while the demo plays.

Usage: python scripts/demo_sink.py PORT OUTBOX CLOCK-FILE
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

from mailman_bounces.testing.clock import read_offset


class Outbox:
    """aiosmtpd handler writing every message to a directory."""

    def __init__(self, directory: Path, clock: Path) -> None:
        self.directory = directory
        self.clock = clock
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = len(list(directory.glob('*.eml')))
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        received = (datetime.now(UTC).replace(tzinfo=None)
                    + read_offset(self.clock))
        with self.lock:
            self.count += 1
            path = self.directory / f'{self.count:05d}.eml'
        headers = (f'X-Demo-Envelope-To: {", ".join(envelope.rcpt_tos)}\r\n'
                   f'X-Demo-Received: {received.isoformat()}\r\n')
        # Written aside and renamed: a reader never sees half a message.
        scratch = path.with_suffix('.tmp')
        scratch.write_bytes(headers.encode() + envelope.content)
        scratch.rename(path)
        return '250 Message accepted for delivery'


def main(port: int, outbox: str, clock: str) -> None:
    controller = Controller(Outbox(Path(outbox), Path(clock)),
                            hostname='127.0.0.1', port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == '__main__':
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
