"""``mailman-bounces scan``: files, directories, maildirs, mboxes, unreadable paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mailman_bounces.detect.cli import main

from .conftest import CORPUS, corpus_file

FLUFL = os.path.join(os.path.dirname(CORPUS), 'flufl')

EXIM = corpus_file('bsd/lhost-exim-02.eml')      # two failed recipients
QMAIL = corpus_file('bsd/lhost-qmail-01.eml')
VACATION = corpus_file('bsd/rfc3834-01.eml')


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_scan_a_file_as_json(tmp_path, capsys) -> None:
    path = tmp_path / 'bounce.eml'
    path.write_bytes(EXIM)
    assert main(['scan', '--json', str(path)]) == 0
    [record] = _json_lines(capsys.readouterr().out)
    assert record['file'] == str(path) and record['index'] == 0 and record['kind'] == 'bounce'
    assert [r['address'] for r in record['recipients']] == ['kijitora@example.jp', 'sabatora@example.jp']
    assert set(record['recipients'][0]) == {'address', 'original', 'action', 'severity', 'reason',
                                            'status', 'reply_code', 'diagnostic', 'remote_mta', 'detector'}


def test_scan_a_directory_as_table(tmp_path, capsys) -> None:
    (tmp_path / 'a.eml').write_bytes(QMAIL)
    (tmp_path / 'b.eml').write_bytes(VACATION)
    assert main(['scan', str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ['file', 'index', 'kind', 'address', 'severity', 'reason', 'status', 'detector']
    assert any('kijitora@example.ne.jp' in line and 'bounce' in line for line in lines)
    assert any('autoreply' in line and 'vacation' in line for line in lines)


def test_scan_an_mbox(tmp_path, capsys) -> None:
    mbox = tmp_path / 'bounces.mbox'
    separator = b'From MAILER-DAEMON  Thu Apr 29 23:34:45 2021\n'
    mbox.write_bytes(separator + QMAIL + b'\n' + separator + EXIM + b'\n')
    assert main(['scan', '--json', str(mbox)]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert [r['index'] for r in records] == [0, 1]
    assert records[1]['recipients'][1]['address'] == 'sabatora@example.jp'


def test_scan_a_maildir(tmp_path, capsys) -> None:
    for sub in ('cur', 'new', 'tmp'):
        (tmp_path / sub).mkdir()
    (tmp_path / 'new' / '1700000000.1.host').write_bytes(QMAIL)
    (tmp_path / 'cur' / '1700000001.2.host:2,S').write_bytes(EXIM)
    (tmp_path / 'tmp' / 'partial').write_bytes(b'garbage')
    assert main(['scan', '--json', str(tmp_path)]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert len(records) == 2
    assert {r['kind'] for r in records} == {'bounce'}


def test_missing_path_is_reported_and_scan_goes_on(tmp_path, capsys) -> None:
    good = tmp_path / 'good.eml'
    good.write_bytes(QMAIL)
    missing = tmp_path / 'missing.eml'
    assert main(['scan', '--json', str(missing), str(good)]) == 1
    captured = capsys.readouterr()
    assert 'missing.eml' in captured.err and 'No such file' in captured.err
    assert len(_json_lines(captured.out)) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason='root can read anything')
def test_unreadable_file(tmp_path, capsys) -> None:
    locked = tmp_path / 'locked.eml'
    locked.write_bytes(QMAIL)
    locked.chmod(0)
    assert main(['scan', str(locked)]) == 1
    assert 'Permission denied' in capsys.readouterr().err


def test_usage_errors_exit_2(capsys) -> None:
    assert main([]) == 2
    assert main(['scan']) == 2
    assert main(['frobnicate']) == 2


def test_console_script_runs_as_a_process() -> None:
    path = os.path.join(CORPUS, 'maildir', 'not')
    source_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [source_root, os.environ.get('PYTHONPATH')]))}
    result = subprocess.run([sys.executable, '-m', 'mailman_bounces.detect.cli', 'scan', '--json', path],
                            capture_output=True, text=True, timeout=60, check=False, env=environment)
    assert result.returncode == 0, result.stderr
    kinds = [record['kind'] for record in _json_lines(result.stdout)]
    assert kinds and 'bounce' not in kinds


def test_scan_names_the_fallback_detector(tmp_path, capsys) -> None:
    # Sina's notice: only flufl.bounce (Mailman core's detector, the engine's
    # fallback) reads it.
    path = tmp_path / 'sina.eml'
    with open(os.path.join(FLUFL, 'sina_01.txt'), 'rb') as handle:
        path.write_bytes(handle.read())
    assert main(['scan', '--json', str(path)]) == 0
    [record] = _json_lines(capsys.readouterr().out)
    assert (record['kind'], record['detector']) == ('bounce', 'flufl.bounce')
    assert {r['detector'] for r in record['recipients']} == {'flufl.bounce'}


def test_scan_reports_a_failure_naming_nobody_as_a_bounce(tmp_path, capsys) -> None:
    # flufl.bounce's simple_43: "could not be delivered", the returned
    # message's To: is a display name only.
    path = tmp_path / 'anonymous.eml'
    with open(os.path.join(FLUFL, 'simple_43.txt'), 'rb') as handle:
        path.write_bytes(handle.read())
    assert main(['scan', '--json', str(path)]) == 0
    [record] = _json_lines(capsys.readouterr().out)
    assert (record['kind'], record['recipients']) == ('bounce', [])
    assert record['detector'] == 'generic'
