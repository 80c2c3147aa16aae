"""Running a command in a network namespace of its own.

A namespace has its own loopback interface, so test runs in different
namespaces can listen on the same fixed ports side by side.  Making one
needs ``unshare -n`` (util-linux) and root; the database servers are then
reached through their Unix sockets (see `databases.socket_url`).

Usage (what `wrapped` builds)::

    unshare -n python -m mailman_bounces.tests.netns COMMAND...
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys


def available() -> str | None:
    """None when a network namespace can be made here; else what is
    missing, in words."""
    if shutil.which('unshare') is None:
        return 'unshare (util-linux)'
    if subprocess.run(['unshare', '-n', 'true'], capture_output=True,
                      check=False).returncode != 0:
        return 'a network namespace (unshare -n needs root)'
    return None


def wrapped(command: list[str]) -> list[str]:
    """`command`, run in a new network namespace with loopback up."""
    return ['unshare', '-n', sys.executable, '-m', __spec__.name, *command]


def bring_loopback_up() -> None:
    """Set the loopback interface of this (new) network namespace up, as
    ``ip link set lo up`` does."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    request = struct.pack('16sH14s', b'lo', 0, b'')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack('16sH14s', fcntl.ioctl(
            sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags,
                    struct.pack('16sH14s', b'lo', flags | iff_up, b''))


if __name__ == '__main__':
    bring_loopback_up()
    os.execvp(sys.argv[1], sys.argv[1:])
