#!/usr/bin/env python3
"""Vocabulary check: the phrase tables against another parser's per-reason wording.

Sisimai keeps one module per reason (``Sisimai/Reason/*.pm``), each with the
phrases servers use for that reason.  This script expands each module's
pattern into sample phrases (one per alternative), asks ``classify`` what each
is with no status code and no SMTP command (the words alone decide), and prints
the agreement and the phrases we read otherwise, grouped by reason.  It is an
evaluation on wording the tables were not written from; nothing is copied from
it into the engine, and it reads Sisimai from where it is installed:

    apt-get download libsisimai-perl && dpkg-deb -x libsisimai-perl_*.deb sisimai
    PYTHONPATH=src python bench/detect_vocabulary.py sisimai/usr/share/perl5/Sisimai/Reason

Sisimai 4.25 lacks the 5.x reasons ``authfailure``, ``badreputation``,
``requireptr``, ``notcompliantrfc`` and ``speeding``: its own names for them
count as the same (as in ``detect_beyond``).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from detect_beyond import SISIMAI4_NAMES

from mailman_bounces.detect.reasons import classify

try:  # Python 3.11+
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

SKIPPED = {'delivered', 'feedback', 'vacation', 'undefined', 'onhold', 'syntaxerror'}
CAP = 40


def perl_patterns(source: str) -> list[str]:
    """The ``qr{...}x`` patterns and ``$index`` string lists of one module."""
    patterns = [match.group(1) for match in re.finditer(r'qr\{(.*?)\}x', source, re.DOTALL)]
    for match in re.finditer(r'state \$index = \[(.*?)\];', source, re.DOTALL):
        patterns.extend(re.escape(text) for text in re.findall(r"'([^']+)'", match.group(1)))
    return patterns


def python_pattern(pattern: str) -> str:
    """A Perl ``/x`` pattern as Python reads it: comments and layout removed."""
    pattern = re.sub(r'#[^\n]*', '', pattern)
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == '\\':
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if char == '[':
            in_class = True
        elif char == ']':
            in_class = False
        if not (char.isspace() and not in_class):
            out.append(char)
        index += 1
    return ''.join(out).replace('(?>', '(?:').replace('\\z', '$')


def samples(items: list) -> list[str]:
    texts = ['']
    for op, value in items:
        texts = [a + b for a in texts for b in _node(op, value)][:CAP]
    return texts


def _node(op, value) -> list[str]:
    c = sre_constants
    if op is c.LITERAL:
        return [chr(value)]
    if op in (c.NOT_LITERAL, c.ANY, c.GROUPREF):
        return ['x']
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return ['']
    if op is c.IN:
        for kind, item in value:
            if kind is c.LITERAL:
                return [chr(item)]
            if kind is c.RANGE:
                return [chr(item[0])]
            if kind is c.CATEGORY:
                return [' ' if 'SPACE' in str(item) else 'a']
        return ['x']
    if op is c.SUBPATTERN:
        return samples(list(value[-1]))
    if op is c.BRANCH:
        return [text for branch in value[1] for text in samples(list(branch))][:CAP * 4]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) or str(op) == 'POSSESSIVE_REPEAT':
        low, high, sub = value
        count = 0 if low == 0 and high == 1 else max(low, 1)
        return [samples(list(sub))[0] * count] if count else ['']
    return ['']


def phrases(directory: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in sorted(os.listdir(directory)):
        reason = name.removesuffix('.pm').lower()
        if reason in SKIPPED:
            continue
        with open(os.path.join(directory, name), encoding='utf-8') as handle:
            source = handle.read()
        for pattern in perl_patterns(source):
            try:
                parsed = list(sre_parse.parse(python_pattern(pattern)))
            except re.error:
                continue
            if len(parsed) == 1 and parsed[0][0] is sre_constants.SUBPATTERN:
                parsed = list(parsed[0][1][-1])
            branches = parsed[0][1][1] if len(parsed) == 1 and parsed[0][0] is sre_constants.BRANCH \
                else [parsed]
            for branch in branches:
                found.extend((reason, text.strip()) for text in samples(list(branch))[:8])
    unique = dict.fromkeys((reason, text) for reason, text in found if len(text) >= 6)
    return list(unique)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reason_dir', help='the Sisimai/Reason directory of an installed Sisimai')
    parser.add_argument('--list', action='store_true', help='list the phrases read otherwise')
    arguments = parser.parse_args()
    others: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    cases = phrases(arguments.reason_dir)
    agree = 0
    for reason, text in cases:
        ours = classify(None, text)
        if ours == reason or reason in SISIMAI4_NAMES.get(ours, ()):
            agree += 1
        else:
            others[reason].append((ours, text))
    print(f'phrases read as the same reason: {agree} of {len(cases)} ({agree / len(cases) * 100:.1f} %)')
    if arguments.list:
        for reason, rows in sorted(others.items(), key=lambda item: -len(item[1])):
            print(f'{reason} ({len(rows)}):')
            for ours, text in rows:
                print(f'    {ours:16} {text[:100]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
