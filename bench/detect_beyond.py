"""Figures beyond the shared corpus, for ``bench/detect_bench.py``.

* flufl.bounce's own corpus: the files its tests expect addresses from (111),
  found exactly by the engine and by flufl.bounce;
* the held-out corpora (``tests/data/heldout``: real bounces not in the
  shared corpus, from other parsers' test suites) against their Sisimai 4.25
  oracle, and flufl.bounce on the same messages;
* leave-one-family-out: for each MTA family of the shared corpus, the
  agreement when the phrase-table entries that only that family's messages
  use are removed;
* speed: whole process (interpreter start, imports, reading the files) and
  in process; the engine's cost on messages it recognises, with and without
  the fallback.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable

from detect_evaluate import Case, Score, load_cases, score

from mailman_bounces.detect import Kind, detect, engine, reasons

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'src', 'mailman_bounces', 'tests', 'data')
HELDOUT = os.path.join(DATA, 'heldout')
FLUFL = os.path.join(DATA, 'flufl')

# Sisimai 4.25 has no authfailure, badreputation, requireptr, notcompliantrfc
# or speeding (5.x split them out): its names for what we call so.
SISIMAI4_NAMES = {
    'authfailure': {'securityerror', 'policyviolation', 'spamdetected', 'rejected'},
    'badreputation': {'blocked'}, 'requireptr': {'blocked'},
    'notcompliantrfc': {'contenterror', 'spamdetected', 'policyviolation'},
    'speeding': {'toomanyconn', 'blocked'},
}


def flufl_addresses(data: bytes) -> set[str] | None:
    """flufl.bounce's failed addresses (lower case); None when it raises."""
    import email

    from flufl.bounce import all_failures
    try:
        temporary, permanent = all_failures(email.message_from_bytes(data))
    except Exception:  # noqa: BLE001 - flufl.bounce raises on some inputs
        return None
    return {(a.decode('utf-8', 'replace') if isinstance(a, bytes) else str(a)).lower()
            for a in temporary | permanent}


def _engine_addresses(report) -> set[str]:
    return {r.address for r in report.recipients} | {r.original for r in report.recipients if r.original}


def flufl_corpus() -> dict[str, object]:
    """Files of flufl.bounce's corpus with expected addresses, found exactly."""
    with open(os.path.join(FLUFL, 'expected.json'), encoding='utf-8') as handle:
        rows = json.load(handle)['rows']
    expected: dict[str, set[str]] = {}
    for row in rows:
        expected.setdefault(row['file'], set()).update(a.lower() for a in row['addresses'])
    expected = {name: addresses for name, addresses in expected.items() if addresses}
    engine_ok, flufl_ok, by_fallback, misses = 0, 0, 0, []
    for name, addresses in sorted(expected.items()):
        with open(os.path.join(FLUFL, name), 'rb') as handle:
            data = handle.read()
        report = detect(data)
        if addresses <= _engine_addresses(report) and len(report.recipients) == len(addresses):
            engine_ok += 1
            by_fallback += report.detector == 'flufl.bounce'
        else:
            misses.append(name)
        flufl_ok += flufl_addresses(data) == addresses
    return {'files': len(expected), 'engine': engine_ok, 'flufl': flufl_ok,
            'engine_via_fallback': by_fallback, 'engine_misses': misses}


def _same_reason(ours: str, theirs: str) -> bool:
    return ours == theirs or theirs in SISIMAI4_NAMES.get(ours, ())


def oracle_figures(corpus: str) -> dict[str, object]:
    """Engine and flufl.bounce against a Sisimai 4.25 oracle (held-out sets)."""
    bounces, others = load_cases(corpus)
    result = score(bounces, detect)
    equivalent = sum(1 for miss in result.reason_misses if _equivalent_miss(miss))
    engine_found = sum(1 for case in bounces if detect(case.data).recipients)
    flufl_found = sum(1 for case in bounces if flufl_addresses(case.data))
    not_bounces = [case for case in others if '/not/' in case.file]
    wrongly = [case.file for case in not_bounces if detect(case.data).kind in (Kind.bounce, Kind.delay)]
    flufl_wrongly = [case.file for case in not_bounces if flufl_addresses(case.data)]
    raised = 0
    for case in bounces + others:
        try:
            detect(case.data)
        except Exception:  # noqa: BLE001
            raised += 1
    return {
        'messages': result.messages, 'recipients': result.recipients, 'found_by_both': result.matched,
        'exact': result.ratio('exact'), 'status_class': result.ratio('status_agree'),
        'reason': (result.reason_agree + equivalent) / result.matched if result.matched else 0.0,
        'hard_soft': result.ratio('hard_agree'),
        'weight': result.ratio('weight_agree'),
        'flufl_exact': flufl_exact_count(bounces) / result.messages if result.messages else 0.0,
        'engine_bounces_found': engine_found, 'flufl_bounces_found': flufl_found,
        'non_bounces': len(not_bounces), 'non_bounces_as_bounce': wrongly,
        'flufl_non_bounces_as_bounce': flufl_wrongly, 'inputs_raising': raised,
        'misses': result.misses,
        'reason_misses': [m for m in result.reason_misses if not _equivalent_miss(m)],
    }


def _equivalent_miss(miss: str) -> bool:
    match = re.search(r'expected (\w+) got (\w+)', miss)
    return bool(match) and _same_reason(match.group(2), match.group(1))


def flufl_exact_count(cases: list[Case]) -> int:
    exact = 0
    for case in cases:
        found = flufl_addresses(case.data) or set()
        expected = [{str(r['recipient']).lower(), str(r.get('alias') or '').lower()} - {''}
                    for r in case.expected]
        if len(found) == len(expected) and all(e & found for e in expected):
            exact += 1
    return exact


# -- leave one family out ------------------------------------------------------

def family_of(case: Case) -> str:
    """lhost-postfix-01.eml -> lhost-postfix; rfc3464-01 -> rfc3464; err/* -> err."""
    name = os.path.basename(case.file)
    if '/err/' in case.file:
        return 'err'
    return re.sub(r'-\d+\.eml$', '', name)


def leave_one_family_out(bounces: list[Case]) -> list[dict[str, object]]:
    """For each family: reason agreement with every phrase-table entry, and
    without the entries that only this family's diagnostics match."""
    entries = [(reason, strength, phrase) for name, phrases in reasons.PHRASES
               for reason, _, strength in [name.partition(':')] for phrase in phrases]
    compiled = [re.compile(phrase) for _, _, phrase in entries]
    families: dict[str, list[Case]] = {}
    for case in bounces:
        families.setdefault(family_of(case), []).append(case)
    users: list[set[str]] = [set() for _ in entries]
    for family, cases in families.items():
        for case in cases:
            for recipient in detect(case.data).recipients:
                wording = reasons.wording(recipient.diagnostic or '')
                for number, pattern in enumerate(compiled):
                    if pattern.search(wording):
                        users[number].add(family)
    rows = []
    original = reasons.PHRASE_RES
    try:
        for family in sorted(families):
            own = {number for number, used in enumerate(users) if used == {family}}
            if not own:
                continue
            cases = families[family]
            with_all = score(cases, detect)
            reasons.PHRASE_RES = reasons.compile_phrases(
                [(f'{reason}:{strength}' if strength else reason,
                  tuple(phrase for number, (r, s, phrase) in enumerate(entries)
                        if r == reason and s == strength and number not in own))
                 for reason, strength in _tables(entries)])
            without = score(cases, detect)
            reasons.PHRASE_RES = original
            rows.append({'family': family, 'messages': len(cases), 'entries_removed': len(own),
                         'recipients': with_all.matched,
                         'reason_with': with_all.ratio('reason_agree'),
                         'reason_without': without.ratio('reason_agree'),
                         'hard_with': with_all.ratio('hard_agree'),
                         'hard_without': without.ratio('hard_agree')})
    finally:
        reasons.PHRASE_RES = original
    return rows


def _tables(entries: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for reason, strength, _ in entries:
        if (reason, strength) not in seen:
            seen.append((reason, strength))
    return seen


def overall_without_own_entries(bounces: list[Case], rows: list[dict[str, object]]) -> float:
    """Reason agreement over the corpus when each family is scored without its
    own entries (the held-out estimate of the phrase tables)."""
    matched = sum(int(row['recipients']) for row in rows)
    agree = sum(float(row['reason_without']) * int(row['recipients']) for row in rows)
    rest = [case for case in bounces if family_of(case) not in {row['family'] for row in rows}]
    others = score(rest, detect)
    total = matched + others.matched
    return (agree + others.reason_agree) / total if total else 0.0


# -- speed ---------------------------------------------------------------------

def rates(functions: dict[str, Callable[[bytes], object]], messages: list[bytes],
          repeat: int) -> dict[str, float]:
    """Best messages per CPU second of each function over *repeat* rounds, in
    this process.  CPU time, not wall time: the machine is shared, and other
    work on it must not count as ours; the functions also take turns within
    each round, so what remains of its effect falls on both alike."""
    best = dict.fromkeys(functions, 0.0)
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.process_time()
            for data in messages:
                try:
                    function(data)
                except Exception:  # noqa: BLE001, S110 - flufl.bounce raises on some inputs
                    pass
            best[name] = max(best[name], len(messages) / max(time.process_time() - start, 1e-9))
    return best


def without_fallback(data: bytes):
    """The engine with the flufl.bounce fallback switched off."""
    saved = engine.fallback.parse
    engine.fallback.parse = lambda mail, message: None
    try:
        return detect(data)
    finally:
        engine.fallback.parse = saved


_WHOLE_PROCESS = {
    'engine': ('from mailman_bounces.detect import detect as run',),
    'flufl': ('import email', 'from flufl.bounce import all_failures',
              'def run(data):',
              '    try:', '        all_failures(email.message_from_bytes(data))',
              '    except Exception:', '        pass'),
}


def whole_process(paths: list[str], repeat: int) -> dict[str, float]:
    """CPU seconds (user + system) for a fresh interpreter to start, import the
    detector and run it over every file (reading them included), best of
    *repeat*, per detector; the detectors take turns."""
    # As installed: pip compiles the bytecode of what it installs (flufl.bounce's
    # is), so the engine's is compiled too, not compiled again in every run.
    package = os.path.join(ROOT, 'src', 'mailman_bounces')
    subprocess.run([sys.executable, '-m', 'compileall', '-q', os.path.join(package, '__init__.py'),
                    os.path.join(package, 'detect')], check=True)
    listing = os.path.join(ROOT, 'bench', 'results', '.detect_files')
    with open(listing, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(paths))
    best: dict[str, float] = {}
    try:
        for _ in range(repeat):
            for name, setup in _WHOLE_PROCESS.items():
                program = '\n'.join((*setup, f'for path in open({listing!r}).read().split("\\n"):',
                                     '    run(open(path, "rb").read())'))
                env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'src'))
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([sys.executable, '-c', program], check=True, env=env)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                best[name] = min(best.get(name, elapsed), elapsed)
    finally:
        os.unlink(listing)
    return best


def recognised(messages: list[bytes]) -> list[bytes]:
    """The messages a format of the engine recognises (no fallback needed)."""
    return [data for data in messages
            if (report := without_fallback(data)).kind is not Kind.none or report.recipients]


def speed(messages: list[bytes], paths: list[str], repeat: int) -> dict[str, float]:
    known = recognised(messages)
    seconds = whole_process(paths, repeat)
    everything = rates({'engine': detect, 'flufl': flufl_addresses}, messages, repeat)
    fallback = rates({'with': detect, 'without': without_fallback}, known, repeat)
    return {
        'messages': len(messages),
        'engine_msgs_per_s': everything['engine'],
        'flufl_msgs_per_s': everything['flufl'],
        'recognised_messages': len(known),
        'recognised_with_fallback_msgs_per_s': fallback['with'],
        'recognised_without_fallback_msgs_per_s': fallback['without'],
        'whole_process_engine_s': seconds['engine'],
        'whole_process_flufl_s': seconds['flufl'],
    }


def corpus_paths(corpus: str) -> list[str]:
    with open(os.path.join(corpus, 'oracle.jsonl'), encoding='utf-8') as handle:
        return [os.path.join(corpus, json.loads(line)['file']) for line in handle if line.strip()]


__all__ = ['HELDOUT', 'Score', 'flufl_corpus', 'leave_one_family_out', 'oracle_figures',
           'overall_without_own_entries', 'speed']
