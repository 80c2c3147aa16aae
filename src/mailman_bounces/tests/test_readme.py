"""The README quotes benchmark figures: they must be the saved results'."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _figures_module():
    spec = importlib.util.spec_from_file_location(
        'readme_figures', ROOT / 'bench' / 'readme_figures.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_quotes_the_saved_benchmark_results():
    figures = _figures_module()
    said = figures.quoted(figures.README.read_text())
    assert said == figures.current(), (
        'README figures differ from bench/results: run '
        'python bench/readme_figures.py')


def test_the_figures_follow_the_results():
    # A change in the results shows in the text (not a frozen sentence).
    figures = _figures_module()
    detect = {'flufl_exact_recipients': 0.5, 'bounce_messages': 10,
              'exact_recipients': 0.9, 'reason': 0.8, 'hard_soft': 0.7,
              'ratio_vs_flufl': 2.0}
    run = {'backend': 'sqlite', 'cadence': 'real', 'members': 100_000,
           'date': '2026-12-01'}
    policy = {'results': [
        dict(run, impl='core', events=9_990, total_ms=50.0),
        dict(run, impl='plugin', events=9_990, total_ms=0.5),
        dict(run, impl='plugin', events=999_990, total_ms=0.6)]}
    text = ' '.join(figures.figures(detect, policy).split())
    assert 'for only 50.0% of 10 real bounces' in text
    assert "engine for 90.0%, with the same reason for 80.0%" in text
    assert 'on SQLite, 100.0 times faster than core per bounce at ' \
           '100,000 members' in text
    assert 'at 1,000,000 bounces is 1.2 times its cost at 10,000' in text
    assert 'PostgreSQL' not in text


def test_the_quoted_mailman_info_lines_are_current():
    # The README shows what ``mailman info`` prints about the plugin; a new
    # migration or version must show there too.
    from mailman_bounces import __version__
    from mailman_bounces.app.processor import BounceProcessor
    from mailman_bounces.database.schema import head_revision
    text = (ROOT / 'README.rst').read_text()
    block = text.split('``mailman info`` shows it::', 1)[1].split('\n\n')[1]
    quoted = [line.strip() for line in block.splitlines()]
    head = head_revision()
    processor = f'{BounceProcessor.__module__}.{BounceProcessor.__name__}'
    assert quoted == [
        f'plugin bounces: mailman-bounces {__version__} (enabled)',
        f'bounce processor: {processor}',
        f'bounces schema: {head} (latest {head})',
    ]


def test_the_layout_names_every_part_of_the_package():
    """The README's Layout lists the package's modules and directories,
    and nothing that is not there."""
    import re
    text = (ROOT / 'README.rst').read_text()
    layout = text.split('\nLayout\n======\n', 1)[1].split('\n\n\n', 1)[0]
    package = ROOT / 'src' / 'mailman_bounces'
    listed = set(re.findall(r'^        ([a-z_]+(?:\.py|/))\s', layout, re.MULTILINE))
    present = {path.name + ('/' if path.is_dir() else '')
               for path in package.iterdir()
               if not path.name.startswith(('_', '.'))
               and (path.is_dir() or path.suffix == '.py')}
    assert listed == present


def _bench_module(name: str):
    import sys
    sys.path.insert(0, str(ROOT / 'bench'))
    try:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / 'bench' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / 'bench'))


# The blocks of docs/benchmarks.rst each benchmark writes (--docs), and the
# saved results file (and its table, in order) each must be.
RESULT_BLOCKS = {
    'policy-benchmark': ('policy.txt', 0),
    'policy-tenths': ('policy.txt', 1),
    'policy-growth': ('policy.txt', 2),
    'verp-benchmark': ('verp.txt', 0),
    'verp-core-benchmark': ('verp-core.txt', 0),
    'rest-benchmark': ('rest.txt', 0),
}


def test_the_benchmark_docs_show_the_saved_results():
    blocks = _bench_module('doc_blocks')
    text = (ROOT / 'src' / 'mailman_bounces' / 'docs' /
            'benchmarks.rst').read_text()
    for name, (results, index) in RESULT_BLOCKS.items():
        saved = (ROOT / 'bench' / 'results' / results).read_text()
        table = saved.strip('\n').split('\n\n')[index]
        assert blocks.block(text, name) == table, (
            f'{name} in benchmarks.rst is not bench/results/{results}: '
            'run the benchmark with --docs')


def test_a_block_is_replaced_and_read_back():
    blocks = _bench_module('doc_blocks')
    text = 'Before.\n\n.. t-begin\n\n    old\n\n.. t-end\n\nAfter.\n'
    replaced = blocks.replace_block(text, 't', 'a  b\n\nc')
    assert blocks.block(replaced, 't') == 'a  b\n\nc'
    assert replaced.startswith('Before.') and replaced.endswith('After.\n')
    assert blocks.block(text, 'missing') is None
