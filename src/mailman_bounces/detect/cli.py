"""``mailman-bounces scan``: run the detection engine over files, maildirs and mboxes,
or over a mailbox on an IMAP or POP3 server, read-only.

No Mailman instance is needed.  A mailbox is given as a URL: ``imaps://user@host/INBOX``
(implicit TLS), ``imap://`` (STARTTLS), ``pop3s://`` or ``pop3://`` (STARTTLS), with the
password in a file (``--password-file``) or an OAuth2 token printed by a command
(``--token-command``), as in a ``[mailbox.NAME]`` section.  Nothing on the server changes:
the IMAP folder is opened read-only, POP3 messages are never deleted.  Prints one JSON
object per message with ``--json``, otherwise an aligned table.  A path that cannot be
read or is refused (a FIFO, socket or device; a file over the size cap) is reported on
stderr and the scan goes on with the others.  Exit status: see :data:`EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import unquote, urlsplit

from ..utilities.mailbox_clients import Endpoint, MailboxError, read_only
from .engine import detect
from .report import Report
from .scan import Failure, Item, new_seen, scan_paths

EXIT_OK = 0         # every path was read and scanned
EXIT_SKIPPED = 1    # something was skipped: refused, unreadable or too large
EXIT_USAGE = 2      # bad command line (argparse's own status)
EXIT_CODES = {EXIT_OK: 'every path was read and scanned',
              EXIT_SKIPPED: 'some path was skipped (refused, unreadable or too large); '
                            'the others were scanned',
              EXIT_USAGE: 'usage error'}

_COLUMNS = ('file', 'index', 'kind', 'address', 'severity', 'reason', 'status', 'detector')


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='mailman-bounces',
                                     description='Bounce detection for GNU Mailman 3.')
    commands = parser.add_subparsers(dest='command', required=True)
    epilog = 'exit status: ' + '; '.join(f'{code} {text}' for code, text in EXIT_CODES.items())
    scan = commands.add_parser('scan', help='detect bounces in message files, maildirs or mboxes',
                               epilog=epilog)
    scan.add_argument('--json', action='store_true', help='one JSON object per message')
    scan.add_argument('--password-file', help='mailbox URLs: a file holding the password')
    scan.add_argument('--token-command', help='mailbox URLs: a command printing an OAuth2 token')
    scan.add_argument('--ca-file', help='mailbox URLs: trusted CA certificates (PEM)')
    scan.add_argument('--timeout', type=float, default=60.0, help='mailbox URLs: seconds per operation')
    scan.add_argument('paths', nargs='+', metavar='PATH',
                      help='file, directory, maildir, mbox or mailbox URL (imaps://user@host/INBOX)')
    return parser


# Mailbox URL schemes: (protocol, security).
_SCHEMES = {'imaps': ('imap', 'tls'), 'imap': ('imap', 'starttls'),
            'pop3s': ('pop3', 'tls'), 'pop3': ('pop3', 'starttls')}
_PORTS = {'imaps': 993, 'imap': 143, 'pop3s': 995, 'pop3': 110}


def mailbox_url(path: str, options: argparse.Namespace) -> tuple[Endpoint, str] | None:
    """The endpoint and folder of a mailbox URL, or None for a local path."""
    parts = urlsplit(path)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        return None
    protocol, security = _SCHEMES[parts.scheme]
    endpoint = Endpoint(
        protocol=protocol, host=parts.hostname, port=parts.port or _PORTS[parts.scheme],
        security=security, user=unquote(parts.username or ''),
        password_file=options.password_file, token_command=options.token_command,
        ca_file=options.ca_file, timeout=options.timeout)
    return endpoint, unquote(parts.path.lstrip('/')) or 'INBOX'


def _mailbox_items(path: str, endpoint: Endpoint, folder: str) -> list[Item]:
    return [Item(f'{path}#{key}', index, data)
            for index, (key, data) in enumerate(read_only(endpoint, folder))]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mailman-bounces`` console script."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    return scan(arguments.paths, as_json=arguments.json, out=sys.stdout, err=sys.stderr,
                options=arguments)


def _entries(paths: Sequence[str], options: argparse.Namespace | None):
    """The items and failures of *paths*, mailbox URLs included, in order;
    each real file or directory once, whichever path reaches it."""
    seen = new_seen()
    for path in paths:
        found = mailbox_url(path, options) if options is not None else None
        if found is None:
            yield from scan_paths([path], seen)
            continue
        try:
            yield from _mailbox_items(path, *found)
        except MailboxError as error:
            yield Failure(path, str(error))


def scan(paths: Sequence[str], *, as_json: bool, out: TextIO, err: TextIO,
         options: argparse.Namespace | None = None) -> int:
    """Scan *paths*, print the results; return the exit status."""
    skipped = 0
    rows: list[tuple[str, ...]] = []
    for entry in _entries(paths, options):
        if isinstance(entry, Failure):
            skipped += 1
            print(f'mailman-bounces: skipped {entry.path}: {entry.error}', file=err)
            continue
        report = detect(entry.data)
        if as_json:
            print(json.dumps(message_record(entry, report), ensure_ascii=False), file=out)
        else:
            rows.extend(table_rows(entry, report))
    if not as_json:
        print_table(rows, out)
    if skipped:
        print(f'mailman-bounces: {skipped} path(s) skipped', file=err)
        return EXIT_SKIPPED
    return EXIT_OK


def message_record(item: Item, report: Report) -> dict[str, object]:
    """The JSON object printed for one message."""
    return {
        'file': item.path,
        'index': item.index,
        'kind': report.kind.value,
        # Which format (or 'flufl.bounce', the fallback) recognised the message;
        # a bounce naming nobody usable has a detector and no recipients.
        'detector': report.detector,
        'recipients': [
            {
                'address': r.address,
                'original': r.original,
                'action': r.action,
                'severity': r.severity.value,
                'reason': r.reason,
                'status': r.status,
                'reply_code': r.reply_code,
                'diagnostic': r.diagnostic,
                'remote_mta': r.remote_mta,
                'detector': r.detector,
            }
            for r in report.recipients
        ],
    }


def table_rows(item: Item, report: Report) -> list[tuple[str, ...]]:
    if not report.recipients:
        return [(item.path, str(item.index), report.kind.value, '-', '-', '-', '-',
                 report.detector or '-')]
    return [(item.path, str(item.index), report.kind.value, r.address, r.severity.value,
             r.reason, r.status or '-', r.detector) for r in report.recipients]


def print_table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max([len(column)] + [len(row[n]) for row in rows]) for n, column in enumerate(_COLUMNS)]
    for row in [_COLUMNS, *rows]:
        print('  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
              file=out)


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
