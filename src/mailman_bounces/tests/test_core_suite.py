"""The comparison of Mailman's own suite with the documented differences
(core_suite.py; the suite itself runs from run-tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailman_bounces.tests.core_suite import (
    compare,
    load_differences,
    read_outcome,
)

TOP = Path('/venv/lib/python3.11/site-packages')

# nose2 -v output, shortened: two failures, an error, and the outcomes that
# are not failures (skip, expected failure).
OUTPUT = f"""\
test_a (mailman.x.tests.test_a.TestA.test_a) ... ok
test_b (mailman.x.tests.test_b.TestB.test_b) ... FAIL
test_c (mailman.x.tests.test_c.TestC.test_c) ... ERROR
test_d (mailman.x.tests.test_d.TestD.test_d) ... skipped Cannot run as root
test_e (mailman.x.tests.test_e.TestE.test_e) ... expected failure
{TOP}/mailman/commands/docs/info.rst ... FAIL

======================================================================
FAIL: test_b (mailman.x.tests.test_b.TestB.test_b)
----------------------------------------------------------------------
Traceback (most recent call last):
AssertionError: 1 != 2

======================================================================
ERROR: test_c (mailman.x.tests.test_c.TestC.test_c)
----------------------------------------------------------------------
Traceback (most recent call last):
TypeError: register() got an unexpected keyword argument 'where'

======================================================================
FAIL: {TOP}/mailman/commands/docs/info.rst
----------------------------------------------------------------------
Failed example:

----------------------------------------------------------------------
Ran 6 tests in 1.234s

FAILED (failures=2, errors=1, skipped=1, expected failures=1)
"""


def test_the_failing_tests_are_read_with_their_ids():
    outcome = read_outcome(OUTPUT, TOP)
    assert outcome.ran == 6
    assert outcome.failing == {
        'mailman.x.tests.test_b.TestB.test_b',
        'mailman.x.tests.test_c.TestC.test_c',
        'mailman/commands/docs/info.rst',
    }


def test_an_unexpected_success_is_a_failure():
    output = OUTPUT.replace(
        'TestE.test_e) ... expected failure',
        'TestE.test_e) ... unexpected success').replace(
        'expected failures=1', 'unexpected successes=1')
    assert 'mailman.x.tests.test_e.TestE.test_e' in read_outcome(
        output, TOP).failing


@pytest.mark.parametrize('broken', [
    # The run died before its summary.
    OUTPUT.split('Ran 6')[0],
    # A failure block that was not read (the counts do not add up).
    OUTPUT.replace('FAILED (failures=2', 'FAILED (failures=3'),
])
def test_output_that_does_not_add_up_is_refused(broken):
    with pytest.raises(ValueError):
        read_outcome(broken, TOP)


def test_new_failures_and_stale_entries_are_both_reported():
    new, gone = compare({'a', 'b', 'c'}, expected={'b', 'c', 'd'})
    assert new == {'a'}
    assert gone == {'d'}
    assert compare({'b'}, {'b'}) == (set(), set())


def test_the_documented_differences_are_well_formed():
    differences = load_differences()
    assert differences
    for test, difference in differences.items():
        assert difference.kind in ('environment', 'plugin')
        assert len(difference.reason) > 40, test
        # A unit test id or a doctest path under the mailman package.
        assert test.startswith(('mailman.', 'mailman/')), test


@pytest.mark.parametrize('text, problem', [
    ('[[difference]]\nkind = "plugin"\ntests = ["mailman.a"]\n',
     'needs a kind'),
    ('[[difference]]\nkind = "other"\nreason = "r"\ntests = ["mailman.a"]\n',
     'needs a kind'),
    ('[[difference]]\nkind = "plugin"\nreason = "r"\ntests = ["mailman.a"]\n'
     * 2, 'listed twice'),
])
def test_a_malformed_list_is_refused(text, problem):
    with pytest.raises(ValueError, match=problem):
        load_differences(text)
