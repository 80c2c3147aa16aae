"""The figures the README quotes, computed from ``bench/results/``.

The README's "Why" section is written here, from the results the two
benchmarks saved, and `tests/test_readme.py` fails when the README says
anything else.  After a benchmark run::

    python bench/readme_figures.py        # rewrite the README's figures
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / 'README.rst'
RESULTS = ROOT / 'bench' / 'results'
BEGIN = '.. begin figures: written by bench/readme_figures.py from bench/results'
END = '.. end figures'
def _percent(fraction: float) -> str:
    return f'{100 * fraction:.1f}%'


def _times(ratio: float) -> str:
    return f'{ratio:.1f} times'


def _runs(policy: dict, backend: str) -> list[dict]:
    return [run for run in policy['results'] if run['backend'] == backend]


def _same_run_ratio(runs: list[dict]) -> tuple[int, float] | None:
    """Core's cost per bounce over the plugin's, at the largest membership
    where both ran on the same day (core in its real cadence: the warnings
    scan after every bounce, as Mailman does)."""
    plugin: dict[tuple, dict] = {}
    for run in runs:
        key = (run['members'], run.get('date'))
        if run['impl'] == 'plugin' and (
                key not in plugin or run['events'] < plugin[key]['events']):
            plugin[key] = run       # the plugin's run closest to core's size
    pairs = [(run['members'], run['total_ms'] / plugin[key]['total_ms'])
             for run in runs
             if run['impl'] == 'core' and run['cadence'] == 'real'
             and (key := (run['members'], run.get('date'))) in plugin]
    return max(pairs) if pairs else None


def _growth(runs: list[dict]) -> tuple[int, int, float] | None:
    """(fewest events, most events, the plugin's cost per bounce at the
    most over its cost at the fewest), among runs of one day and one
    membership: the one reaching the most events."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        if run['impl'] == 'plugin':
            groups.setdefault((run['members'], run.get('date')),
                              []).append(run)
    ranges = []
    for group in groups.values():
        low = min(group, key=lambda run: run['events'])
        high = max(group, key=lambda run: run['events'])
        if high['events'] > low['events']:
            ranges.append((high['events'], -low['events'],
                           _round(low['events']), _round(high['events']),
                           high['total_ms'] / low['total_ms']))
    if not ranges:
        return None
    return max(ranges)[2:]


def _round(events: int) -> int:
    """A run's number of bounces as the benchmark names its size."""
    return round(events, -len(str(events)) + 2)


def _bullet(text: str) -> str:
    return textwrap.fill(' '.join(text.split()), width=76,
                         initial_indent='* ', subsequent_indent='  ',
                         break_on_hyphens=False)


def figures(detect: dict, policy: dict) -> str:
    """The README's figure bullets, from the two benchmarks' results."""
    bullets = [
        f"""core's detector (flufl.bounce) names exactly the recipients the
        leading parser (Sisimai) names for only
        {_percent(detect['flufl_exact_recipients'])} of
        {detect['bounce_messages']} real bounces; mailman-bounces' engine for
        {_percent(detect['exact_recipients'])}, with the same reason for
        {_percent(detect['reason'])} of recipients and the same hard/soft
        verdict for {_percent(detect['hard_soft'])}, at
        {_times(detect['ratio_vs_flufl'])} flufl.bounce's speed (see
        `Benchmarks`_);"""]
    speed = []
    for backend, name in (('sqlite', 'SQLite'), ('postgresql', 'PostgreSQL')):
        runs = _runs(policy, backend)
        said = []
        if ratio := _same_run_ratio(runs):
            members, times = ratio
            said.append(f'{_times(times)} faster than core per bounce at '
                        f'{members:,} members')
        if growth := _growth(runs):
            fewest, most, times = growth
            said.append(f'its cost per bounce at {most:,} bounces is '
                        f'{_times(times)} its cost at {fewest:,}')
        if said:
            speed.append(f'on {name}, ' + ', and '.join(said))
    if speed:
        bullets.append(
            """core registers bounces one transaction at a time and runs its
            warnings query after every single bounce; mailman-bounces
            processes them in set-based batches, safely with several
            runners: """ + '; '.join(speed)
            + ' (registration, processing, warnings and notices; see '
            '`Benchmarks`_).')
    return '\n'.join(_bullet(text) for text in bullets)


def current() -> str:
    """The figures the saved results give."""
    detect = json.loads((RESULTS / 'detect.json').read_text())
    policy = json.loads((RESULTS / 'policy.json').read_text())
    return figures(detect, policy)


def quoted(readme: str) -> str:
    """What the README says between its figure markers."""
    start = readme.index(BEGIN) + len(BEGIN)
    return readme[start:readme.index(END, start)].strip('\n')


def main() -> int:
    readme = README.read_text()
    old = quoted(readme)
    README.write_text(readme.replace(old, current(), 1))
    print('README figures ' + ('unchanged' if old == current() else
                               'rewritten'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
