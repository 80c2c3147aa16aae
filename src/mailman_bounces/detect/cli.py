"""``mailman-bounces scan``: run the detection engine over files, maildirs and mboxes.

No Mailman instance is needed.  Prints one JSON object per message with
``--json``, otherwise an aligned table.  Unreadable paths are reported on stderr
and the scan goes on; the exit status is 0 when every path was read, 1 when
some could not be, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from .engine import detect
from .report import Report
from .scan import Failure, Item, scan_paths

_COLUMNS = ('file', 'index', 'kind', 'address', 'severity', 'reason', 'status', 'detector')


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='mailman-bounces',
                                     description='Bounce detection for GNU Mailman 3.')
    commands = parser.add_subparsers(dest='command', required=True)
    scan = commands.add_parser('scan', help='detect bounces in message files, maildirs or mboxes')
    scan.add_argument('--json', action='store_true', help='one JSON object per message')
    scan.add_argument('paths', nargs='+', metavar='PATH', help='file, directory, maildir or mbox')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mailman-bounces`` console script."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    return scan(arguments.paths, as_json=arguments.json, out=sys.stdout, err=sys.stderr)


def scan(paths: Sequence[str], *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """Scan *paths*, print the results; return the exit status."""
    failed = False
    rows: list[tuple[str, ...]] = []
    for entry in scan_paths(list(paths)):
        if isinstance(entry, Failure):
            failed = True
            print(f'mailman-bounces: cannot read {entry.path}: {entry.error}', file=err)
            continue
        report = detect(entry.data)
        if as_json:
            print(json.dumps(message_record(entry, report), ensure_ascii=False), file=out)
        else:
            rows.extend(table_rows(entry, report))
    if not as_json:
        print_table(rows, out)
    return 1 if failed else 0


def message_record(item: Item, report: Report) -> dict[str, object]:
    """The JSON object printed for one message."""
    return {
        'file': item.path,
        'index': item.index,
        'kind': report.kind.value,
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
