"""Mailman's own test suite, run with the plugin enabled.

Mailman 3.3.10 ships its tests (unit tests and the .rst doctests) in the
wheel; they run under nose2 with the ``flufl.testing`` plugin, configured
as core's own ``unittest.cfg`` does.  This module runs them with the plugin
enabled through ``MAILMAN_EXTRA_TESTING_CFG`` (on SQLite, core's default)
and compares the tests that fail with the documented differences in
``data/core_differences.toml``: a test failing that is not listed there (a
new incompatibility), or a listed test that passes (a difference that went
away, so the list is stale), fails the comparison.

The suite binds Mailman's fixed test ports, so it runs in a network
namespace of its own (``unshare -n``), where it cannot clash with the
plugin's own tests or with anything else on the machine.

Usage::

    python -m mailman_bounces.tests.core_suite [--without-plugin] [--log FILE]

``--without-plugin`` runs core's suite as shipped: only the differences of
kind ``environment`` (failures this machine causes, not the plugin) may fail.
Exit status: 0 as expected, 1 not as expected, 2 could not run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

from mailman_bounces.tests import netns

# Core's unittest.cfg (from the mailman 3.3.10 sdist), which the wheel does
# not ship.
NOSE2_CONFIG = """\
[unittest]
plugins = flufl.testing.nose
          nose2.plugins.layers

[log-capture]
always-on = False

[flufl.testing]
always-on = True
package = mailman
start_run = mailman.testing.helpers.nose2_start_test_run_callback
default_layer = mailman.testing.layers.SMTPLayer
setup = mailman.testing.documentation.setup
teardown = mailman.testing.documentation.teardown
"""

PLUGIN_CONFIG = """\
[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
"""

DIFFERENCES = files('mailman_bounces.tests').joinpath(
    'data', 'core_differences.toml')
KINDS = ('environment', 'plugin')

# A run that has not finished by then is stuck (it takes about 5 minutes).
TIMEOUT_SECONDS = 30 * 60
# The exit status when the suite cannot run here (no nose2, no namespace).
CANNOT_RUN = 2


@dataclass(frozen=True)
class Difference:
    """A test of core's suite that fails by design, and why."""

    test: str
    kind: str
    reason: str


def load_differences(text: str | None = None) -> dict[str, Difference]:
    """The documented differences, by test id; a malformed file raises
    ValueError naming the problem."""
    data = tomllib.loads(DIFFERENCES.read_text(encoding='utf-8')
                         if text is None else text)
    differences: dict[str, Difference] = {}
    for number, entry in enumerate(data.get('difference', []), 1):
        kind, reason = entry.get('kind'), (entry.get('reason') or '').strip()
        tests = entry.get('tests') or []
        if kind not in KINDS or not reason or not tests:
            raise ValueError(f'difference {number}: needs a kind (one of '
                             f'{", ".join(KINDS)}), a reason and tests')
        for test in tests:
            if test in differences:
                raise ValueError(f'{test} is listed twice')
            differences[test] = Difference(test, kind, reason)
    return differences


@dataclass
class Outcome:
    """What one run of core's suite reported."""

    ran: int
    failing: set[str]
    summary: str
    seconds: float


_SEPARATOR = '=' * 70
_SUMMARY = re.compile(r'^Ran (\d+) tests? in ')
# "expected failures=N" is not a failure.
_COUNTS = re.compile(r'(?<!expected )\b(failures|errors|unexpected successes)'
                     r'=(\d+)')
_UNEXPECTED = re.compile(r'^(.+) \.\.\. unexpected success$')


def id_of(description: str, top: Path) -> str:
    """The id of a test as nose2 describes it: ``module.Class.method``
    for a unit test, the path under `top` for a doctest file."""
    match = re.fullmatch(r'\S+ \((.+)\)', description.strip())
    if match:
        return match.group(1)
    path = description.strip()
    prefix = f'{top}{os.sep}'
    return path.removeprefix(prefix)


def read_outcome(output: str, top: Path, seconds: float = 0.0) -> Outcome:
    """The failing tests in nose2's verbose output.  Raises ValueError if
    the output is not a complete run, or its counts do not add up."""
    lines = output.splitlines()
    ran = None
    summary = ''
    for number, line in enumerate(lines):
        match = _SUMMARY.match(line)
        if match:
            ran = int(match.group(1))
            summary = next((later for later in lines[number + 1:]
                            if later.strip()), '')
    if ran is None:
        raise ValueError('nose2 did not finish (no "Ran N tests" line)')
    failing = set()
    for before, line in itertools.pairwise(lines):
        if before == _SEPARATOR and line.startswith(('FAIL: ', 'ERROR: ')):
            failing.add(id_of(line.split(': ', 1)[1], top))
    unexpected = {id_of(m.group(1), top) for m in map(
        _UNEXPECTED.match, lines) if m}
    expected_count = sum(int(n) for _, n in _COUNTS.findall(summary))
    if len(failing) + len(unexpected) != expected_count:
        raise ValueError(f'read {len(failing) + len(unexpected)} failing '
                         f'tests, nose2 counted {expected_count}: {summary}')
    return Outcome(ran, failing | unexpected, summary, seconds)


def compare(failing: set[str], expected: set[str]
            ) -> tuple[set[str], set[str]]:
    """(tests failing that should not, listed tests that did not fail)."""
    return failing - expected, expected - failing


def mailman_top() -> Path:
    """The directory holding the installed ``mailman`` package."""
    spec = find_spec('mailman')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('the mailman package is not installed')
    return Path(next(iter(spec.submodule_search_locations))).parent


def missing_tools() -> list[str]:
    """What running the suite needs and this environment lacks."""
    missing = [name for name in ('nose2', 'flufl.testing')
               if find_spec(name) is None]
    namespace = netns.available()
    if namespace:
        missing.append(namespace)
    return missing


def run_suite(plugin: bool, log: Path) -> Outcome:
    """Run core's whole suite in a network namespace of its own, with its
    output in `log`."""
    top = mailman_top()
    with tempfile.TemporaryDirectory(prefix='mailman-core-suite-') as work:
        workdir = Path(work)
        (workdir / 'unittest.cfg').write_text(NOSE2_CONFIG)
        env = {key: value for key, value in os.environ.items()
               if key != 'MAILMAN_EXTRA_TESTING_CFG'}
        if plugin:
            extra = workdir / 'plugin.cfg'
            extra.write_text(PLUGIN_CONFIG)
            env['MAILMAN_EXTRA_TESTING_CFG'] = str(extra)
        command = netns.wrapped([
            sys.executable, '-m', 'nose2', '-v', '-c',
            str(workdir / 'unittest.cfg'), '-s', str(top / 'mailman'),
            '-t', str(top)])
        started = time.monotonic()
        with log.open('w', encoding='utf-8') as output:
            subprocess.run(command, cwd=workdir, env=env, stdout=output,
                           stderr=subprocess.STDOUT, check=False,
                           timeout=TIMEOUT_SECONDS)
        seconds = time.monotonic() - started
    text = log.read_text(encoding='utf-8', errors='replace')
    return read_outcome(text, top, seconds)


def _report(outcome: Outcome, differences: dict[str, Difference],
            expected: set[str], log: Path) -> bool:
    new, gone = compare(outcome.failing, expected)
    print(f'core suite: ran {outcome.ran} tests in {outcome.seconds:.0f}s; '
          f'{outcome.summary.strip()}')
    by_kind = {kind: sum(1 for test in outcome.failing & expected
                         if differences[test].kind == kind)
               for kind in KINDS}
    print('core suite: failing as documented: '
          + ', '.join(f'{count} ({kind})' for kind, count in by_kind.items()))
    for test in sorted(new):
        print(f'core suite: NEW FAILURE (not in {DIFFERENCES.name}): {test}')
    for test in sorted(gone):
        print(f'core suite: PASSES, but listed in {DIFFERENCES.name} '
              f'({differences[test].kind}): {test}')
    if new or gone:
        print(f'core suite: full output in {log}')
    return not new and not gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--without-plugin', action='store_true',
                        help='run core as shipped (environment differences '
                             'only)')
    parser.add_argument('--log', type=Path,
                        help='where to keep nose2\'s output')
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f'core suite: cannot run: no {", ".join(missing)}')
        return CANNOT_RUN
    differences = load_differences()
    plugin = not args.without_plugin
    expected = {test for test, difference in differences.items()
                if plugin or difference.kind == 'environment'}
    log = args.log or Path(tempfile.mkstemp(
        prefix='mailman-core-suite-', suffix='.log')[1])
    try:
        outcome = run_suite(plugin, log)
    except (ValueError, subprocess.TimeoutExpired) as error:
        print(f'core suite: {error}; output in {log}')
        return 1
    return 0 if _report(outcome, differences, expected, log) else 1


if __name__ == '__main__':
    sys.exit(main())
