"""Run the test suite on every reachable database backend, then Mailman's
own suite with the plugin enabled.

Mailman's configuration is process-wide, so each backend gets its own
pytest process.  The pure detection tests and the lint run once.  Core's
suite (about 5 minutes) runs in a network namespace of its own and must
fail exactly as documented (see mailman_bounces/tests/core_suite.py); it
is left out when pytest arguments select tests, and skipped with a note
where no network namespace can be made, unless
MAILMAN_BOUNCES_REQUIRE_CORE_SUITE=yes (as in CI).  The tests needing
Dovecot, Chromium or Postfix skip with a note without them, unless
MAILMAN_BOUNCES_REQUIRE names them (dovecot,chromium,postfix in CI).  At the end a summary
says what ran, what failed and what was skipped and why.

Where network namespaces can be made, the runs go side by side, each in a
namespace of its own (the tests listen on fixed ports) reaching the
database servers through their Unix sockets: MAILMAN_BOUNCES_TEST_JOBS
of them at a time (default: the number of processors); each run's output
is printed when it ends.

No run may take longer than MAILMAN_BOUNCES_LANE_TIMEOUT seconds (default
30 minutes): a run that does is stopped with SIGABRT first, on which
pytest's faulthandler prints every thread's stack (what hung), then its
whole process group is killed, and it counts as failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'src'))

from lazr.config import as_boolean

from mailman_bounces.tests import core_suite, netns
from mailman_bounces.tests.databases import (
    BACKENDS,
    backend_url,
    reachable,
    socket_url,
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


# What MAILMAN_BOUNCES_REQUIRE may name: the programs whose tests fail,
# instead of skipping, when they are missing (the tests read it).
REQUIRABLE = ('dovecot', 'chromium', 'postfix')


def _check_require() -> None:
    """A misspelt MAILMAN_BOUNCES_REQUIRE name would quietly require
    nothing: refuse it."""
    names = os.environ.get('MAILMAN_BOUNCES_REQUIRE', '')
    unknown = {n.strip() for n in names.split(',') if n.strip()} - set(
        REQUIRABLE)
    if unknown:
        raise SystemExit(f'MAILMAN_BOUNCES_REQUIRE: unknown name(s) '
                         f'{", ".join(sorted(unknown))}; known: '
                         f'{", ".join(REQUIRABLE)}')


@dataclass
class Lane:
    """One run of the suite: its title, command and environment."""

    title: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # The backend's URL for a run in a network namespace (None: the run
    # cannot go in one).
    namespaced_env: dict[str, str] | None = None


def _lane_timeout() -> int:
    wanted = os.environ.get('MAILMAN_BOUNCES_LANE_TIMEOUT', '')
    return int(wanted) if wanted.isdigit() else 30 * 60


def _bounded(command: list[str], env: dict[str, str], **output) -> int:
    """Run `command` in a session of its own for at most the lane timeout;
    its exit status (TIMED_OUT when it was stopped)."""
    process = subprocess.Popen(command, cwd=ROOT, env=env,
                               start_new_session=True, **output)
    try:
        return process.wait(timeout=_lane_timeout())
    except subprocess.TimeoutExpired:
        pass
    process.send_signal(signal.SIGABRT)       # faulthandler: the stacks
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)   # and whatever it started
    except ProcessLookupError:
        pass
    process.wait()
    print(f'(stopped: still running after {_lane_timeout()}s, '
          'MAILMAN_BOUNCES_LANE_TIMEOUT)', file=output.get('stdout'),
          flush=True)
    return TIMED_OUT


TIMED_OUT = 124


def _run(title: str, command: list[str], env: dict[str, str]) -> int:
    """Run `command`; its exit status."""
    print(f'\n=== {title}', flush=True)
    started = time.monotonic()
    status = _bounded(command, env)
    print(f'=== {title}: {"ok" if status == 0 else "FAILED"} '
          f'({time.monotonic() - started:.0f}s)', flush=True)
    return status


def _run_captured(lane: Lane) -> int:
    """Run `lane` in a network namespace of its own, printing its output
    in one piece when it ends; its exit status."""
    started = time.monotonic()
    with tempfile.TemporaryFile('w+', encoding='utf-8',
                                errors='replace') as output:
        status = _bounded(netns.wrapped(lane.command),
                          lane.namespaced_env or {}, stdout=output,
                          stderr=subprocess.STDOUT)
        output.seek(0)
        text = output.read()
    outcome = 'ok' if status == 0 else 'FAILED'
    print(f'\n=== {lane.title}\n{text}=== {lane.title}: {outcome} '
          f'({time.monotonic() - started:.0f}s)', flush=True)
    return status


def _jobs() -> int:
    wanted = os.environ.get('MAILMAN_BOUNCES_TEST_JOBS', '')
    return int(wanted) if wanted.isdigit() else (os.cpu_count() or 1)


def _run_lanes(lanes: list[Lane]) -> list[int]:
    """Run `lanes`, side by side where they can be; their exit statuses."""
    jobs = _jobs()
    if jobs < 2 or netns.available() or len(lanes) < 2 or any(
            lane.namespaced_env is None for lane in lanes):
        return [_run(lane.title, lane.command, lane.env) for lane in lanes]
    print(f'\n{len(lanes)} runs, {jobs} at a time, each in a network '
          f'namespace of its own: {", ".join(l.title for l in lanes)}',
          flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run_captured, lanes))


def _backend_lane(backend: str, base_env: dict[str, str],
                  pytest_args: list[str]) -> Lane:
    env = dict(base_env, MAILMAN_BOUNCES_TEST_DB=backend)
    command = [PYTHON, '-m', 'pytest', str(TESTS), '-p', 'no:cacheprovider']
    if backend != 'sqlite':
        # The pure detection engine does not touch the database.
        command += ['--ignore', str(TESTS / 'detect')]
    namespaced = _namespaced(env)
    if backend != 'sqlite' and URL_VARIABLES[backend] not in namespaced:
        namespaced = None             # its server has no socket here
    return Lane(f'tests on {backend}', command + pytest_args, env,
                namespaced)


URL_VARIABLES = {'postgresql': 'MAILMAN_BOUNCES_PG_URL',
                 'mysql': 'MAILMAN_BOUNCES_MYSQL_URL'}


def _namespaced(env: dict[str, str]) -> dict[str, str]:
    """`env` for a run in a network namespace: every server that has a
    Unix socket is reached through it."""
    sockets = {variable: url for backend, variable in URL_VARIABLES.items()
               if (url := socket_url(backend)) is not None}
    return dict(env, **sockets)


def _core_suite_lane(pytest_args: list[str], env: dict[str, str]
                     ) -> Lane | str:
    """The run of Mailman's own suite with the plugin, or why it does not
    run (the summary's outcome)."""
    if pytest_args:
        return ('skipped: pytest arguments select tests (run it alone: '
                'python -m mailman_bounces.tests.core_suite)')
    missing = core_suite.missing_tools()
    if missing:
        required = os.environ.get('MAILMAN_BOUNCES_REQUIRE_CORE_SUITE', 'no')
        outcome = 'FAILED: required' if as_boolean(required) else 'skipped'
        return f'{outcome}, cannot run here: no {", ".join(missing)}'
    # It makes its own namespace: run beside the others as it is.
    command = [PYTHON, '-m', 'mailman_bounces.tests.core_suite']
    return Lane("Mailman's own suite with the plugin", command, env,
                namespaced_env=env)


def main(pytest_args: list[str]) -> int:
    required = _required()
    _check_require()
    results: dict[str, str] = {}
    base_env = {k: v for k, v in os.environ.items()
                if k != 'MAILMAN_EXTRA_TESTING_CFG'}
    lint = _run('ruff', [PYTHON, '-m', 'ruff', 'check', 'src', 'bench',
                         'scripts'], base_env)
    results['ruff'] = 'ok' if lint == 0 else 'FAILED'
    lanes: dict[str, Lane] = {}
    for backend in BACKENDS:
        if reachable(backend):
            lanes[backend] = _backend_lane(backend, base_env, pytest_args)
            continue
        where = backend_url(backend)
        results[backend] = (f'FAILED: server required, none at {where}'
                            if backend in required
                            else f'skipped: no server at {where}')
    core = _core_suite_lane(pytest_args, base_env)
    if isinstance(core, Lane):
        lanes['core suite'] = core
    else:
        results['core suite'] = core
    for name, status in zip(lanes, _run_lanes(list(lanes.values())),
                            strict=True):
        results[name] = 'ok' if status == 0 else 'FAILED'
    print('\nSummary:')
    for name in ('ruff', *BACKENDS, 'core suite'):
        print(f'  {name:<11} {results[name]}')
    failed = [name for name, outcome in results.items()
              if outcome.startswith('FAIL')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
