"""``mailman-bounces scan`` on paths that are not plain message files.

Each case runs the console script as a process with a timeout and a memory
limit: a scan that hangs (a FIFO), reads without end (``/dev/zero``) or walks
a symlink loop exponentially fails the test instead of stalling the run.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from mailman_bounces.detect import scan as scan_module
from mailman_bounces.detect.cli import EXIT_OK, EXIT_SKIPPED

from .conftest import corpus_file

QMAIL = corpus_file('bsd/lhost-qmail-01.eml')
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MEMORY_LIMIT = 1024 * 1024 * 1024   # far above what a scan of these files needs
TIMEOUT = 60


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


# Root reads anything: to meet an unreadable directory, the scan runs as root
# without the capabilities that override file permissions.
WITHOUT_OVERRIDE = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search'] \
    if os.geteuid() == 0 else []


def _scan(*paths: str, unprivileged: bool = False) -> subprocess.CompletedProcess:
    environment = {**os.environ, 'PYTHONPATH': os.pathsep.join(
        filter(None, [SOURCE_ROOT, os.environ.get('PYTHONPATH')]))}
    prefix = WITHOUT_OVERRIDE if unprivileged else []
    return subprocess.run([*prefix, sys.executable, '-m', 'mailman_bounces.detect.cli', 'scan', '--json',
                           *paths], capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          env=environment, preexec_fn=_limit_memory)


def _records(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def tree() -> Iterator[str]:
    """A scratch directory (not pytest's tmp_path: it is removed with its
    permissions restored, whatever a test did to them)."""
    path = tempfile.mkdtemp(prefix='mailman-bounces-scan-')
    os.chmod(path, 0o755)
    yield path
    for root, directories, _ in os.walk(path):
        for name in directories:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(path)


def _message(directory: str, name: str = 'bounce.eml') -> str:
    path = os.path.join(directory, name)
    with open(path, 'wb') as handle:
        handle.write(QMAIL)
    os.chmod(path, 0o644)
    return path


def test_a_fifo_is_refused_without_hanging(tree) -> None:
    fifo = os.path.join(tree, 'pipe')
    os.mkfifo(fifo)
    good = _message(tree)
    result = _scan(fifo, good)
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert f'skipped {fifo}: not a regular file, directory, mbox or maildir (it is a FIFO)' in result.stderr
    assert [record['file'] for record in _records(result)] == [good]


def test_a_fifo_inside_a_directory_is_reported(tree) -> None:
    os.mkfifo(os.path.join(tree, 'pipe'))
    good = _message(tree)
    result = _scan(tree)
    assert result.returncode == EXIT_SKIPPED
    assert 'pipe: not a regular file' in result.stderr
    assert [record['file'] for record in _records(result)] == [good]


@pytest.mark.parametrize('device', ['/dev/zero', '/dev/urandom'])
def test_devices_are_refused_not_read_until_memory_runs_out(tree, device) -> None:
    good = _message(tree)
    result = _scan(device, good)
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert 'Traceback' not in result.stderr and 'MemoryError' not in result.stderr
    assert f'skipped {device}: not a regular file' in result.stderr
    assert 'character device' in result.stderr
    assert [record['file'] for record in _records(result)] == [good]


def test_read_is_capped_whatever_size_the_file_reports(monkeypatch) -> None:
    # /proc files report a size of 0 but have content: the cap must hold anyway.
    maps = '/proc/self/maps'
    assert os.path.getsize(maps) == 0
    monkeypatch.setattr(scan_module, 'MAX_FILE_BYTES', 100)
    [failure] = list(scan_module.scan_paths([maps]))
    assert isinstance(failure, scan_module.Failure)
    assert failure.error == 'file too large (more than 100 bytes)'


def test_cap_boundary(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scan_module, 'MAX_FILE_BYTES', 1000)
    exact, over = tmp_path / 'exact.eml', tmp_path / 'over.eml'
    exact.write_bytes(b'x' * 1000)
    over.write_bytes(b'x' * 1001)
    entries = list(scan_module.scan_paths([str(exact), str(over)]))
    assert isinstance(entries[0], scan_module.Item) and len(entries[0].data) == 1000
    assert isinstance(entries[1], scan_module.Failure) and 'too large' in entries[1].error


def test_two_symlink_loops_are_walked_once(tree) -> None:
    good = _message(tree)
    os.symlink('.', os.path.join(tree, 'loop1'))
    os.symlink('.', os.path.join(tree, 'loop2'))
    result = _scan(tree)
    assert result.returncode == EXIT_OK, result.stderr
    assert [record['file'] for record in _records(result)] == [good]


def test_a_loop_to_an_ancestor_reports_each_message_once(tree) -> None:
    sub = os.path.join(tree, 'sub')
    os.mkdir(sub)
    first, second = _message(tree, 'a.eml'), _message(sub, 'b.eml')
    os.symlink('..', os.path.join(sub, 'up'))
    result = _scan(tree, sub, first)
    assert result.returncode == EXIT_OK, result.stderr
    assert sorted(record['file'] for record in _records(result)) == [first, second]


def test_a_symlinked_directory_elsewhere_is_followed(tree) -> None:
    elsewhere = tempfile.mkdtemp(prefix='mailman-bounces-elsewhere-')
    try:
        target = _message(elsewhere)
        os.symlink(elsewhere, os.path.join(tree, 'link'))
        result = _scan(tree)
        assert result.returncode == EXIT_OK
        assert [record['file'] for record in _records(result)] == [os.path.join(tree, 'link', 'bounce.eml')]
        assert os.path.exists(target)
    finally:
        shutil.rmtree(elsewhere)


def test_an_unreadable_subdirectory_is_reported_and_the_scan_goes_on(tree) -> None:
    locked = os.path.join(tree, 'a-locked')
    os.mkdir(locked)
    _message(locked)
    os.chmod(locked, 0)
    after = _message(tree, 'b.eml')      # sorted after the locked directory
    if WITHOUT_OVERRIDE and not shutil.which('setpriv'):
        pytest.skip('running as root without setpriv (util-linux) to drop the override')
    result = _scan(tree, unprivileged=True)
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert f'skipped {locked}: Permission denied' in result.stderr
    assert '1 path(s) skipped' in result.stderr
    assert [record['file'] for record in _records(result)] == [after]


def test_help_documents_the_exit_codes(capsys) -> None:
    from mailman_bounces.detect.cli import main

    assert main(['scan', '--help']) == 0
    out = ' '.join(capsys.readouterr().out.split())
    assert '0 every path was read and scanned' in out
    assert '1 some path was skipped' in out and '2 usage error' in out
