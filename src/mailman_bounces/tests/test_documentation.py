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


def _suite(name: str) -> unittest.TestSuite:
    from mailman.testing.documentation import setup, teardown
    return doctest.DocFileSuite(
        f'../docs/{name}', package='mailman_bounces.tests',
        setUp=setup, tearDown=teardown, optionflags=FLAGS,
        encoding='utf-8')


@pytest.mark.parametrize('name', DOCS)
def test_doctest(name, rest):
    result = unittest.TestResult()
    _suite(name).run(result)
    problems = [text for _, text in result.failures + result.errors]
    assert result.testsRun == 1
    assert not problems, '\n'.join(problems)
