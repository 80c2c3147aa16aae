"""A trial run of the REST latency benchmark (bench/rest_bench.py) at a
tiny size, so that the script keeps working: it builds its site on
PostgreSQL, starts Mailman's REST server and times every request it
documents.  No timing is checked here (the figures are in
docs/benchmarks.rst)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailman_bounces.tests.databases import backend_url, selected_backend

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / 'bench' / 'rest_bench.py'

pytestmark = pytest.mark.skipif(
    selected_backend() != 'postgresql' or not BENCH.exists(),
    reason='the benchmark runs on PostgreSQL, from a source checkout')


def _run(tmp_path: Path, *arguments: str) -> list[dict]:
    """The rows of a tiny run (1,000 members, two requests a row) on this
    test run's PostgreSQL server, with `arguments` added."""
    import os
    output = tmp_path / 'rest.json'
    environment = {**os.environ,
                   'MAILMAN_BOUNCES_PG_URL': backend_url('postgresql'),
                   'TMPDIR': str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(BENCH), '--members', '1000', '--repeat', '2',
         '--rebuild', '--port', '8013', '--output', str(output),
         *arguments],
        capture_output=True, text=True, env=environment, timeout=600,
        check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(output.read_text())['rows']


def test_the_benchmark_runs_at_a_tiny_size(tmp_path):
    rows = _run(tmp_path, '--events', '3000')
    requests = [row['request'] for row in rows]
    # Every documented filter of events, first and deep page.
    from mailman_bounces.rest.events import EVENT_PARAMETERS
    filters = {p.name for p in EVENT_PARAMETERS} - {'count', 'page'}
    for name in filters:
        assert f'events {name} (first page)' in requests, name
        assert any(r.startswith(f'events {name} (page ') for r in requests)
    assert 'events/<id>' in requests
    assert {'stats list_id, 7 days', 'stats list_id, 90 days'} <= set(
        requests)
    for row in rows:
        assert 0 < row['p50'] <= row['p95'] <= row['p99'], row


def test_the_benchmark_times_only_the_groups_asked_for(tmp_path):
    requests = [row['request'] for row in _run(
        tmp_path, '--events', '2000', '--database', 'mbbench_rest_only_test',
        '--only', 'members')]
    assert requests[0] == 'core: system/versions'
    assert [request.split(' (')[0] for request in requests[1:]] == [
        'lists/<list>/members'] * 2
    # The site was built in the database named.
    assert (tmp_path / 'mailman-bounces-rest-bench' /
            'mbbench_rest_only_test').is_dir()
    # An unknown group is refused with the groups there are.
    sys.path.insert(0, str(BENCH.parent))
    try:
        import rest_bench
    finally:
        sys.path.remove(str(BENCH.parent))
    with pytest.raises(argparse.ArgumentTypeError,
                       match='unknown groups nothing; choose from events, '
                       'members, stats'):
        rest_bench._groups('members,nothing')
