"""Fixtures for the detection engine tests: the corpus copy and its oracle."""

from __future__ import annotations

import os
import sys

import pytest

# The scoring code is benchmark code (bench/detect_evaluate.py), not part of
# the runtime package; the accuracy tests share it with the benchmark.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
sys.path.insert(0, os.path.join(_ROOT, 'bench'))

from detect_evaluate import Case, load_cases

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'corpus')


def corpus_file(name: str) -> bytes:
    """Raw bytes of a corpus message, e.g. ``corpus_file('bsd/lhost-exim-01.eml')``."""
    with open(os.path.join(CORPUS, 'maildir', name), 'rb') as handle:
        return handle.read()


@pytest.fixture(scope='session')
def corpus_cases() -> tuple[list[Case], list[Case]]:
    return load_cases(CORPUS)
