"""Run the .rst documentation under src/mailman_bounces/docs as doctests,
the way Mailman runs its own, on the real test layers."""

from __future__ import annotations

import doctest
import unittest
from importlib.resources import files

import pytest

DOCS = sorted(
    path.name for path in files('mailman_bounces').joinpath('docs').iterdir()
    if path.name.endswith('.rst'))

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.REPORT_NDIFF

# Documents about optional extras: the module each needs, and the extra.
NEEDS = {'plotting.rst': ('matplotlib', 'plot')}


def _suite(name: str) -> unittest.TestSuite:
    from mailman.testing.documentation import setup, teardown
    return doctest.DocFileSuite(
        f'../docs/{name}', package='mailman_bounces.tests',
        setUp=setup, tearDown=teardown, optionflags=FLAGS,
        encoding='utf-8')


def _examples(name: str) -> int:
    text = files('mailman_bounces').joinpath('docs', name).read_text(
        encoding='utf-8')
    return len(doctest.DocTestParser().get_examples(text, name))


@pytest.mark.parametrize('name', DOCS)
def test_doctest(name, rest):
    if name in NEEDS:
        module, extra = NEEDS[name]
        pytest.importorskip(
            module, reason=f'the {extra} extra ({module}) is not installed',
            exc_type=ImportError)
    if not _examples(name):
        # It would pass without checking anything: not counted as a pass.
        pytest.skip(f'{name} has no examples')
    result = unittest.TestResult()
    _suite(name).run(result)
    problems = [text for _, text in result.failures + result.errors]
    assert result.testsRun == 1
    assert not problems, '\n'.join(problems)
