"""IMAP and POP3 clients for the bouncemail runner (and the scan tool).

Each client connects with the mailbox's security (implicit TLS, STARTTLS
or, on a loopback host only, none), verifies the server's certificate and
name, and logs in with a password or an XOAUTH2 bearer token.  Anything
that goes wrong (refused login, bad certificate, missing STARTTLS, timeout,
a protocol error) raises `MailboxError`: the caller backs off, and nothing
ever falls back to plain text.

This module does not import Mailman: the scan tool uses it too.
"""

from __future__ import annotations

import base64
import imaplib
import poplib
import re
import shlex
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from public import public

# The most bytes of one message a poll fetches into memory; a larger
# message is cut (it is stored cut anyway) and still moved.
MAX_FETCH = 10 * 1024 * 1024
# How long a token command may run.
TOKEN_TIMEOUT = 30


@public
class MailboxError(Exception):
    """Polling a mailbox failed (login, TLS, timeout, protocol)."""


@public
@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: the part of a mailbox's configuration the
    clients need (`MailboxConfig` has these attributes too)."""

    protocol: str
    host: str
    port: int
    security: str
    user: str
    password_file: str | None = None
    token_command: str | None = None
    ca_file: str | None = None
    timeout: float = 60.0


def _ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    # Certificate and host name always verified: a wrong certificate is a
    # failure, never a reason to go on unencrypted.
    return ssl.create_default_context(cafile=endpoint.ca_file or None)


def _secret(endpoint: Endpoint) -> tuple[str, str]:
    """('password', password) or ('xoauth2', bearer token)."""
    if endpoint.password_file:
        try:
            text = Path(endpoint.password_file).read_text(encoding='utf-8')
        except OSError as error:
            raise MailboxError(
                f'cannot read password_file: {error}') from None
        return 'password', text.rstrip('\r\n')
    if not endpoint.token_command:
        raise MailboxError('neither password_file nor token_command set')
    try:
        done = subprocess.run(
            shlex.split(endpoint.token_command), capture_output=True,
            text=True, timeout=TOKEN_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MailboxError(f'token_command failed: {error}') from None
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        raise MailboxError(
            f'token_command failed (exit {done.returncode}): '
            f'{done.stderr.strip()[:200]}')
    return 'xoauth2', token


def _xoauth2(user: str, token: str) -> bytes:
    return f'user={user}\x01auth=Bearer {token}\x01\x01'.encode()


def _quote(name: str) -> str:
    """An IMAP mailbox name as a quoted string."""
    return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'


_UID = re.compile(rb'UID (\d+)')


@public
class IMAPClient:
    """A logged-in IMAP connection."""

    def __init__(self, endpoint: Endpoint) -> None:
        context = _ssl_context(endpoint)
        if endpoint.security == 'tls':
            self._imap = imaplib.IMAP4_SSL(
                endpoint.host, endpoint.port, ssl_context=context,
                timeout=endpoint.timeout)
        else:
            self._imap = imaplib.IMAP4(
                endpoint.host, endpoint.port, timeout=endpoint.timeout)
            if endpoint.security == 'starttls':
                # Raises if the server does not offer STARTTLS.
                self._imap.starttls(ssl_context=context)
        method, secret = _secret(endpoint)
        if method == 'password':
            self._imap.login(endpoint.user, secret)
        else:
            answers = iter([_xoauth2(endpoint.user, secret)])
            # A refused token gets a JSON error as a continuation, which
            # the client must answer with an empty line.
            self._imap.authenticate(
                'XOAUTH2', lambda _challenge: next(answers, b''))
        # What the server offers changes at login (MOVE, UIDPLUS ...).
        _, lines = self._imap.capability()
        self.capabilities = set(lines[-1].decode('ascii', 'replace')
                                .upper().split())

    def _ok(self, typ: str, data: list, what: str) -> list:
        if typ != 'OK':
            raise MailboxError(f'{what}: {typ} {data!r}')
        return data

    def select(self, folder: str, readonly: bool = False) -> int:
        """Open `folder`; return its UIDVALIDITY."""
        self._ok(*self._imap.select(_quote(folder), readonly),
                 f'SELECT {folder}')
        # The SELECT's own answer is the last one kept.
        _, values = self._imap.response('UIDVALIDITY')
        return int(values[-1])

    def ensure_folder(self, folder: str) -> None:
        typ, data = self._imap.list('""', _quote(folder))
        if typ == 'OK' and any(data) and data != [None]:
            return
        self._ok(*self._imap.create(_quote(folder)), f'CREATE {folder}')

    def uids_after(self, last_uid: int) -> list[int]:
        """The UIDs above `last_uid` in the selected folder, ascending."""
        data = self._ok(*self._imap.uid('SEARCH', f'UID {last_uid + 1}:*'),
                        'UID SEARCH')
        # "N:*" also matches the highest UID when it is below N.
        return sorted(u for u in map(int, b' '.join(
            d for d in data if d).split()) if u > last_uid)

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The messages with these UIDs, without marking them seen."""
        uidset = ','.join(map(str, uids))
        data = self._ok(*self._imap.uid(
            'FETCH', uidset, f'(UID BODY.PEEK[]<0.{MAX_FETCH}>)'),
            'UID FETCH')
        found = {}
        for item in data:
            if isinstance(item, tuple):
                match = _UID.search(item[0])
                if match:
                    found[int(match.group(1))] = item[1]
        return found

    def move(self, uids: list[int], folder: str) -> None:
        """Move the messages to `folder` (MOVE, or COPY + delete)."""
        if not uids:
            return
        uidset = ','.join(map(str, uids))
        if 'MOVE' in self.capabilities:
            self._ok(*self._imap.uid('MOVE', uidset, _quote(folder)),
                     'UID MOVE')
            return
        self._ok(*self._imap.uid('COPY', uidset, _quote(folder)), 'UID COPY')
        self._ok(*self._imap.uid('STORE', uidset, '+FLAGS.SILENT',
                                 r'(\Deleted)'), 'UID STORE')
        if 'UIDPLUS' in self.capabilities:
            self._ok(*self._imap.uid('EXPUNGE', uidset), 'UID EXPUNGE')
        else:
            self._ok(*self._imap.expunge(), 'EXPUNGE')

    def close(self) -> None:
        self._imap.logout()

    def abort(self) -> None:
        try:
            self._imap.shutdown()
        except OSError:
            pass


@public
class POP3Client:
    """A logged-in POP3 connection (deletions happen at `close`)."""

    def __init__(self, endpoint: Endpoint) -> None:
        context = _ssl_context(endpoint)
        if endpoint.security == 'tls':
            self._pop = poplib.POP3_SSL(
                endpoint.host, endpoint.port, context=context,
                timeout=endpoint.timeout)
        else:
            self._pop = poplib.POP3(
                endpoint.host, endpoint.port, timeout=endpoint.timeout)
            if endpoint.security == 'starttls':
                self._pop.stls(context=context)
        method, secret = _secret(endpoint)
        if method == 'password':
            self._pop.user(endpoint.user)
            self._pop.pass_(secret)
        else:
            initial = base64.b64encode(_xoauth2(endpoint.user, secret))
            self._pop._shortcmd('AUTH XOAUTH2 ' + initial.decode())

    def uidls(self) -> dict[str, int]:
        """{UIDL: message number}; servers without UIDL are refused."""
        try:
            _, lines, _ = self._pop.uidl()
        except poplib.error_proto as error:
            raise MailboxError(
                f'the server does not support UIDL: {error}') from None
        found = {}
        for line in lines:
            number, uidl = line.decode('ascii', 'replace').split(None, 1)
            found[uidl.strip()] = int(number)
        return found

    def retrieve(self, number: int, peek: bool = False) -> bytes:
        """The message; with `peek`, by TOP with every line, which
        servers do not count as reading it (Dovecot marks what was RETRed
        \\Seen, even without QUIT)."""
        if peek:
            _, lines, _ = self._pop.top(number, 10 ** 9)
        else:
            _, lines, _ = self._pop.retr(number)
        content = b'\r\n'.join(lines) + b'\r\n'
        return content[:MAX_FETCH]

    def delete(self, number: int) -> None:
        self._pop.dele(number)

    def close(self) -> None:
        """QUIT: the server deletes the messages marked for deletion."""
        self._pop.quit()

    def abort(self) -> None:
        """Drop the connection without QUIT: nothing is deleted."""
        try:
            self._pop.close()
        except OSError:
            pass


# What a failed connection or command raises, turned into MailboxError.
FAILURES = (OSError, ssl.SSLError, socket.timeout, imaplib.IMAP4.error,
            poplib.error_proto, ValueError, EOFError)


@public
@contextmanager
def connected(endpoint: Endpoint, read_only: bool = False
              ) -> Iterator[IMAPClient | POP3Client]:
    """A logged-in client for `endpoint`, closed on exit (a POP3 client
    only on success: its deletions must not happen after an error; and
    never when `read_only`: a QUIT would commit the \\Seen flags Dovecot
    and others set on what was retrieved)."""
    factory = IMAPClient if endpoint.protocol == 'imap' else POP3Client
    try:
        client = factory(endpoint)
    except FAILURES as error:
        raise MailboxError(_describe(error)) from None
    try:
        yield client
        if read_only and isinstance(client, POP3Client):
            client.abort()
        else:
            client.close()
    except FAILURES as error:
        client.abort()
        raise MailboxError(_describe(error)) from None
    except BaseException:
        client.abort()
        raise


def _describe(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f'TLS certificate refused: {error.verify_message}'
    if isinstance(error, (socket.timeout, TimeoutError)):
        return 'timed out'
    text = str(error) or type(error).__name__
    return f'{type(error).__name__}: {text}'


@public
def read_only(endpoint: Endpoint, folder: str = 'INBOX',
              batch: int = 50) -> Iterator[tuple[str, bytes]]:
    """Every message of the mailbox as (UID or UIDL, bytes), changing
    nothing: IMAP opens the folder read-only and fetches with PEEK, POP3
    never deletes."""
    with connected(endpoint, read_only=True) as client:
        if isinstance(client, IMAPClient):
            client.select(folder, readonly=True)
            uids = client.uids_after(0)
            for start in range(0, len(uids), batch):
                fetched = client.fetch(uids[start:start + batch])
                for uid in sorted(fetched):
                    yield str(uid), fetched[uid]
        else:
            for uidl, number in client.uidls().items():
                yield uidl, client.retrieve(number, peek=True)
