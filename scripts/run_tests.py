"""Run the test suite on every reachable database backend.

Mailman's configuration is process-wide, so each backend gets its own
pytest process.  The pure detection tests and the lint run once.  At the
end a summary says what ran, what failed and what was skipped and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'src'))

from mailman_bounces.tests.databases import (
    BACKENDS,
    backend_url,
    reachable,
)

TESTS = ROOT / 'src' / 'mailman_bounces' / 'tests'
PYTHON = sys.executable


def _required() -> set[str]:
    names = os.environ.get('MAILMAN_BOUNCES_REQUIRE_DBS', '')
    required = {n.strip() for n in names.split(',') if n.strip()}
    unknown = required - set(BACKENDS)
    if unknown:
        raise SystemExit(f'MAILMAN_BOUNCES_REQUIRE_DBS: unknown backend(s) '
                         f'{", ".join(sorted(unknown))}; known: '
                         f'{", ".join(BACKENDS)}')
    return required


def _run(title: str, command: list[str], env: dict[str, str]) -> bool:
    print(f'\n=== {title}', flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    print(f'=== {title}: {"ok" if result.returncode == 0 else "FAILED"} '
          f'({time.monotonic() - started:.0f}s)', flush=True)
    return result.returncode == 0


def main(pytest_args: list[str]) -> int:
    required = _required()
    results: list[tuple[str, str]] = []
    base_env = {k: v for k, v in os.environ.items()
                if k != 'MAILMAN_EXTRA_TESTING_CFG'}
    lint = _run('ruff', [PYTHON, '-m', 'ruff', 'check', 'src', 'bench',
                         'scripts'], base_env)
    results.append(('ruff', 'ok' if lint else 'FAILED'))
    for backend in BACKENDS:
        if not reachable(backend):
            where = backend_url(backend)
            if backend in required:
                reason = f'FAILED: server required, none at {where}'
                results.append((backend, reason))
            else:
                results.append((backend, f'skipped: no server at {where}'))
            continue
        env = dict(base_env, MAILMAN_BOUNCES_TEST_DB=backend)
        command = [PYTHON, '-m', 'pytest', str(TESTS), '-p', 'no:cacheprovider']
        if backend != 'sqlite':
            # The pure detection engine does not touch the database.
            command += ['--ignore', str(TESTS / 'detect')]
        ok = _run(f'tests on {backend}', command + pytest_args, env)
        results.append((backend, 'ok' if ok else 'FAILED'))
    print('\nSummary:')
    for name, outcome in results:
        print(f'  {name:<11} {outcome}')
    failed = [name for name, outcome in results if outcome.startswith('FAIL')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
