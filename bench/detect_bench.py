#!/usr/bin/env python3
"""Benchmark the detection engine against the corpus oracle (Sisimai) and flufl.bounce.

Accuracy: recipients exactly as Sisimai's default records, DSN status class,
reason, hard/soft, on every bounce message of the corpus copy; the same
exact-recipients figure for flufl.bounce; non-bounces never reported as bounces.
Where we believe Sisimai is wrong (recipients, reasons), the cases are listed
with the reason why, and a second figure leaves them out.
Speed: messages per second for parse + classify from the raw bytes, best of
several repetitions, for the engine and for flufl.bounce (``email`` parsing +
``all_failures``) in the same run; Sisimai's figure is the measured 770 msg/s.

Writes ``bench/results/detect.txt`` (the table) and ``bench/results/detect.json``.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import platform
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'src'))

import detect_beyond as beyond
from detect_evaluate import Case, Score, load_cases, score

from mailman_bounces.detect import Kind, detect

CORPUS = os.path.join(ROOT, 'src', 'mailman_bounces', 'tests', 'data', 'corpus')
RESULTS = os.path.join(ROOT, 'bench', 'results')
DOCS = os.path.join(ROOT, 'src', 'mailman_bounces', 'docs', 'detection.rst')
SISIMAI_MESSAGES_PER_SECOND = 770.0  # whole corpus, whole process, this machine class

# Messages where we believe Sisimai's answer is wrong, and why (checked by hand).
SISIMAI_WRONG = {
    'maildir/bsd/arf-11.eml': 'no recipient in the report at all; Sisimai invents the placeholder '
                              'undisclosed-recipient-in-headers@libsisimai.org.invalid',
    'maildir/bsd/arf-12.eml': 'opt-out report names the recipient in Removal-Recipient: '
                              'user@example.com; Sisimai ignores it and reports a placeholder',
    'maildir/bsd/arf-15.eml': 'no recipient in the report (To: "undisclosed"); Sisimai reports a placeholder',
    'maildir/bsd/lhost-apachejames-01.eml': 'RCPT TO is 000000000000@vtext.example.com (12 zeros); '
                                            'Sisimai drops the first zero',
    'maildir/bsd/lhost-domino-03.eml': 'Final-Recipient and To: are kijitora@neko.example.org; '
                                       "Sisimai's .com address appears nowhere in the message",
    'maildir/bsd/lhost-office365-04.eml': 'Final-Recipient is otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp; '
                                          'Sisimai takes the target of a mailto: link in the HTML part',
    'maildir/bsd/lhost-v5sendmail-01.eml': "Sisimai's 'kijitora@exampl' is truncated; the unsent "
                                           'message was sent To: kijitora@example.com',
    'maildir/bsd/lhost-postfix-32.eml': 'not wrong, but out of contract: the recipient has a quoted '
                                        'local part ("neko....nyaan...."@), which the engine never reports',
}

# Reasons where we believe Sisimai is wrong or inconsistent with itself, and why
# (checked by hand).  (files, explanation); the files are under maildir/.
SISIMAI_WRONG_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (('bsd/lhost-amazonworkmail-02.eml', 'bsd/lhost-messagingserver-06.eml', 'bsd/lhost-zoho-02.eml'),
     ('"550 5.2.1 <address>... User Unknown" is filtered for Sisimai here and userunknown for the same '
     'words in eleven other files (dragonfly-09, exim-02, gmx-03, mailru-03, postfix-02, postfix-57, '
     'powermta-01, powermta-03, qmail-02, yahoo-05, yandex-02); the only difference is whether its parser '
     'found the SMTP command. We say userunknown throughout')),
    (('bsd/lhost-activehunter-02.eml', 'bsd/lhost-mailfoundry-01.eml', 'bsd/lhost-mxlogic-03.eml',
      'bsd/lhost-surfcontrol-01.eml', 'bsd/lhost-x1-01.eml', 'bsd/lhost-postfix-07.eml',
      'bsd/lhost-receivingses-01.eml', 'bsd/rfc3464-66.eml',
      'bsd/lhost-exchange2003-04.eml'),
     ('"User unknown", "No such user", "Mailbox does not exist", "Recipient Not Found" with no sign of the '
     'DATA phase are filtered for Sisimai here, userunknown in imailserver-01, mcafee-01, mcafee-04, '
     'messagelabs-02 and verizon-02 (and Gmail\'s "The email account that you tried to reach does not '
     'exist", filtered in rfc3464-66, is userunknown in postfix-31 and make-test-21). "Filtered" would need the recipient to have been accepted before the '
     'refusal; nothing here says so, and activehunter-02 is Postfix\'s RCPT-time wording ("Recipient '
     'address rejected: User unknown in local recipient table")')),
    (('err/make-test-22.eml',),
     ('Yahoo\'s "554 delivery error: dd This user doesn\'t have a yahoo.com account" is filtered here and '
     'userunknown in rhost-yahooinc-03 for the identical answer')),
    (('bsd/lhost-ezweb-02.eml', 'err/make-test-06.eml'),
     ('suspend comes from EZweb\'s template sentence "The user(s) account is disabled."; the server\'s '
     'own answer below it is "550 user unknown (in reply to RCPT TO command)" and the Japanese text says '
     'the address was not found')),
    (('bsd/rhost-nttdocomo-02.eml', 'bsd/rhost-nttdocomo-03.eml'),
     ('DoCoMo\'s "550 Unknown user" after end of DATA is rejected here and filtered for the same answer '
     'after DATA in rhost-nttdocomo-01, make-test-04 and make-test-36; we say filtered')),
    (('bsd/rhost-yahooinc-02.eml',),
     ('Yahoo [TSS04] "temporarily deferred due to unexpected volume or user complaints" is rejected (the '
     'envelope sender) here and badreputation for the same answer in lhost-qmail-19; it is about the '
     'sending IP\'s reputation')),
    (('bsd/rhost-zoho-03.eml',),
     ('"554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam." is spamdetected, not '
     'securityerror')),
    (('bsd/lhost-dragonfly-18.eml',),
     ('Sisimai\'s own sample "Recipient address rejected: Policy violation. See '
     'https://libsisimai.org/en/reason/#policyviolation" is classified securityerror')),
    (('bsd/rhost-microsoft-06.eml',),
     ('Microsoft\'s 5.7.515 "sending domain doesn\'t meet the required authentication level" is about '
     'SPF, DKIM and DMARC for the From domain: authfailure in Sisimai\'s own vocabulary, not securityerror')),
    (('bsd/lhost-gmail-07.eml',),
     ('the remote answer "500 Remote server does not support TLS" is an encryption failure '
     '(securityerror), not systemerror')),
    (('bsd/rhost-aol-06.eml',),
     ('"Name service error for name=libsisimai.org type=MX: Malformed or unexpected name server reply" is '
     'a DNS failure (networkerror); notaccept (hard) means the domain declares it accepts no mail (null MX)')),
    (('bsd/rfc3464-01.eml',),
     ('mailboxfull comes from the text part\'s "Your message to <nekochan> was automatically rejected: Not '
     'enough disk space", about another recipient; the delivery-status block of userunknown@ says '
     '"550 5.1.1 ... User Unknown"')),
)


def flufl_run(data: bytes) -> tuple[set[str], set[str]]:
    from flufl.bounce import all_failures

    message = email.message_from_bytes(data)
    temporary, permanent = all_failures(message)
    return _as_text(temporary), _as_text(permanent)


def _as_text(addresses: set[bytes | str]) -> set[str]:
    return {a.decode('utf-8', 'replace').lower() if isinstance(a, bytes) else str(a).lower()
            for a in addresses}


def flufl_exact(cases: list[Case]) -> tuple[int, int]:
    exact = 0
    for case in cases:
        try:
            temporary, permanent = flufl_run(case.data)
        except Exception:  # noqa: BLE001, S112 - flufl.bounce raises on some inputs; a miss
            continue
        found = temporary | permanent
        expected_sets = [{str(r['recipient']).lower(), str(r.get('alias') or '').lower()} - {''}
                         for r in case.expected]
        matched = [e for e in expected_sets if e & found]
        if len(matched) == len(expected_sets) and len(found) == len(expected_sets):
            exact += 1
    return exact, len(cases)


def false_bounces(others: list[Case]) -> list[str]:
    """Non-bounce messages (maildir/not, auto-replies) reported as bounces or delays."""
    wrong = []
    for case in others:
        if '/not/' not in case.file and 'rfc3834' not in case.file:
            continue
        report = detect(case.data)
        if report.kind in (Kind.bounce, Kind.delay):
            wrong.append(f'{case.file}#{case.index}')
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--corpus', default=CORPUS)
    parser.add_argument('--update-docs', action='store_true',
                        help=f'write the table into {os.path.relpath(DOCS, ROOT)}')
    arguments = parser.parse_args()

    bounces, others = load_cases(arguments.corpus)
    ours = score(bounces, detect)
    flufl_hits, flufl_total = flufl_exact(bounces)
    wrongly_bounced = false_bounces(others)
    all_messages = [case.data for case in bounces + others]
    raised = _raises(all_messages)
    timing = beyond.speed(all_messages, beyond.corpus_paths(arguments.corpus), arguments.repeat)
    results = _results(ours, flufl_hits, flufl_total, timing['engine_msgs_per_s'],
                       timing['flufl_msgs_per_s'], len(all_messages), wrongly_bounced, raised)
    results['engine_bounces_found'] = sum(1 for case in bounces if detect(case.data).recipients)
    results['flufl_bounces_found'] = sum(1 for case in bounces if beyond.flufl_addresses(case.data))
    results['speed'] = timing
    results['flufl_corpus'] = beyond.flufl_corpus()
    results['heldout'] = beyond.oracle_figures(beyond.HELDOUT)
    results['flufl_corpus_vs_sisimai4'] = beyond.oracle_figures(beyond.FLUFL)
    families = beyond.leave_one_family_out(bounces)
    results['leave_one_family_out'] = families
    results['reason_each_family_left_out'] = beyond.overall_without_own_entries(bounces, families)
    check_disputed_reasons(ours)
    os.makedirs(RESULTS, exist_ok=True)
    text = render(results, ours)
    with open(os.path.join(RESULTS, 'detect.txt'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    with open(os.path.join(RESULTS, 'detect.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
        handle.write('\n')
    print(text)
    if arguments.update_docs:
        update_docs(text)
    return 0


def disputed_reason_files() -> set[str]:
    return {f'maildir/{name}' for files, _ in SISIMAI_WRONG_REASONS for name in files}


def check_disputed_reasons(ours: Score) -> None:
    """Warn when a disputed reason now agrees with Sisimai: the list is stale."""
    missed = {miss.split('#')[0] for miss in ours.reason_misses}
    for name in sorted(disputed_reason_files() - missed):
        print(f'warning: {name} is listed as a disputed reason but agrees with Sisimai', file=sys.stderr)


def update_docs(text: str) -> None:
    """Replace the benchmark sections of the documentation with this run's."""
    table = '\n\n'.join(text.split('\n\n')[:3])  # shared corpus, beyond it, families
    wrong = 'Recipients:\n\n' + '\n'.join(f'* ``{name}``: {why}' for name, why in sorted(SISIMAI_WRONG.items()))
    wrong += '\n\nReasons:\n\n' + '\n'.join(
        '* ' + ', '.join(f'``{name}``' for name in files) + f': {why}' for files, why in SISIMAI_WRONG_REASONS)
    with open(DOCS, encoding='utf-8') as handle:
        doc = handle.read()
    literal = '::\n\n' + '\n'.join(f'    {line}' if line else '' for line in table.split('\n'))
    doc = _replace_between(doc, 'benchmark-table', literal)
    doc = _replace_between(doc, 'sisimai-wrong', wrong)
    with open(DOCS, 'w', encoding='utf-8') as handle:
        handle.write(doc)


def _replace_between(doc: str, name: str, content: str) -> str:
    start, end = f'.. {name}-start\n', f'.. {name}-end\n'
    head, _, rest = doc.partition(start)
    _, _, tail = rest.partition(end)
    return f'{head}{start}\n{content}\n\n{end}{tail}'


def _raises(messages: list[bytes]) -> int:
    count = 0
    for data in messages:
        try:
            detect(data)
        except Exception:  # noqa: BLE001
            count += 1
    return count


def _results(ours: Score, flufl_hits: int, flufl_total: int, engine_rate: float, flufl_rate: float,
             messages: int, wrongly_bounced: list[str], raised: int) -> dict[str, object]:
    disputed = [m for m in ours.misses if m.split('#')[0] in SISIMAI_WRONG]
    disputed_reasons = [m for m in ours.reason_misses if m.split('#')[0] in disputed_reason_files()]
    return {
        'python': platform.python_version(),
        'machine': f'{platform.machine()} {os.cpu_count()} cores',
        'bounce_messages': ours.messages,
        'recipients': ours.recipients,
        'exact_recipients': ours.ratio('exact'),
        'exact_recipients_excluding_disputed': (ours.exact + len(disputed)) / ours.messages,
        'recipients_found_by_both': ours.matched,
        'status_class': ours.ratio('status_agree'),
        'reason': ours.ratio('reason_agree'),
        'reason_excluding_disputed': ours.reason_agree / (ours.matched - len(disputed_reasons)),
        'hard_soft': ours.ratio('hard_agree'),
        'weight': ours.ratio('weight_agree'),
        'status_class_of_all': ours.ratio_of_all('status_agree'),
        'reason_of_all': ours.ratio_of_all('reason_agree'),
        'hard_soft_of_all': ours.ratio_of_all('hard_agree'),
        'flufl_exact_recipients': flufl_hits / flufl_total if flufl_total else 0.0,
        'messages_timed': messages,
        'engine_msgs_per_s': engine_rate,
        'flufl_msgs_per_s': flufl_rate,
        'sisimai_msgs_per_s': SISIMAI_MESSAGES_PER_SECOND,
        'ratio_vs_flufl': engine_rate / flufl_rate if flufl_rate else 0.0,
        'ratio_vs_sisimai': engine_rate / SISIMAI_MESSAGES_PER_SECOND,
        'non_bounces_reported_as_bounce': wrongly_bounced,
        'inputs_raising': raised,
        'misses': ours.misses,
        'reason_misses': ours.reason_misses,
        'disputed': {name: SISIMAI_WRONG[name] for name in sorted(SISIMAI_WRONG)},
        'disputed_reasons': [{'files': list(files), 'why': why} for files, why in SISIMAI_WRONG_REASONS],
    }


def render(results: dict[str, object], ours: Score) -> str:
    def pct(name: str) -> str:
        return f'{100 * float(results[name]):.1f} %'  # type: ignore[arg-type]

    all_three = ' / '.join(f"{100 * float(results[name]):.1f}"  # type: ignore[arg-type]
                           for name in ('status_class_of_all', 'reason_of_all', 'hard_soft_of_all')) + ' %'
    rows = [
        ('Bounce messages compared', str(results['bounce_messages'])),
        ('Recipients in Sisimai records', str(results['recipients'])),
        ('Recipients found by both', str(results['recipients_found_by_both'])),
        ('Recipients exactly as Sisimai', pct('exact_recipients')),
        ('  same, disputed messages excluded', pct('exact_recipients_excluding_disputed')),
        ('flufl.bounce: recipients exactly as Sisimai', pct('flufl_exact_recipients')),
        ('DSN status class agrees (recipients found by both)', pct('status_class')),
        ('Reason agrees (recipients found by both)', pct('reason')),
        ('  same, disputed reasons excluded', pct('reason_excluding_disputed')),
        ('Hard/soft agrees with hardbounce (found by both)', pct('hard_soft')),
        ("Weight as Sisimai's reason would be charged", pct('weight')),
        ('  the three above over all Sisimai recipients', all_three),
        ('Non-bounces reported as bounce', str(len(results['non_bounces_reported_as_bounce']))),  # type: ignore[arg-type]
        ('Inputs raising an exception', str(results['inputs_raising'])),
        ('Bounces with recipients: engine / flufl.bounce',
         f"{results['engine_bounces_found']} / {results['flufl_bounces_found']}"),
        ('Messages timed (parse + classify, from bytes)', str(results['messages_timed'])),
        ('Engine, messages/s (best of runs)', f"{results['engine_msgs_per_s']:.0f}"),
        ('flufl.bounce, messages/s (same run)', f"{results['flufl_msgs_per_s']:.0f}"),
        ('Sisimai 5.1.0p3, messages/s (measured separately)', f"{results['sisimai_msgs_per_s']:.0f}"),
        ('Engine / flufl.bounce, in process', f"{results['ratio_vs_flufl']:.2f} x"),
        ('Engine / flufl.bounce, whole process', f"{_whole(results):.2f} x"),
        ('Recognised messages, msg/s with / without fallback', _recognised(results)),
        ('Engine / Sisimai', f"{results['ratio_vs_sisimai']:.2f} x"),
    ]
    lines = _table(rows, ('Shared corpus (tests/data/corpus)', 'Value')) + ['']
    lines += _beyond_table(results) + ['']
    lines += _family_table(results) + ['']
    lines += ['Messages whose recipients differ from Sisimai:']
    lines += [f'  {miss}' for miss in ours.misses]
    lines += ['', 'Recipients whose reason differs from Sisimai:']
    lines += [f'  {miss}' for miss in ours.reason_misses]
    lines += ['', 'Where we believe Sisimai is wrong:']
    lines += [f'  {name}: {why}' for name, why in sorted(SISIMAI_WRONG.items())]
    lines += ['', 'Where we believe Sisimai\'s reason is wrong:']
    lines += [f"  {', '.join(files)}: {why}" for files, why in SISIMAI_WRONG_REASONS]
    return '\n'.join(lines) + '\n'



def _whole(results: dict[str, object]) -> float:
    speed = results['speed']
    return speed['whole_process_flufl_s'] / speed['whole_process_engine_s']  # type: ignore[index]


def _recognised(results: dict[str, object]) -> str:
    speed = results['speed']
    return (f"{speed['recognised_with_fallback_msgs_per_s']:.0f} / "  # type: ignore[index]
            f"{speed['recognised_without_fallback_msgs_per_s']:.0f}")  # type: ignore[index]


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]
    rule = '  '.join('=' * width for width in widths)

    def line(row: tuple[str, ...]) -> str:
        return '  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
    return [rule, line(header), rule, *(line(row) for row in rows), rule]


def _pct(value: object) -> str:
    return f'{100 * float(value):.1f} %'  # type: ignore[arg-type]


def _beyond_table(results: dict[str, object]) -> list[str]:
    """Held-out corpora and flufl.bounce's corpus, engine beside flufl.bounce."""
    flufl = results['flufl_corpus']
    rows: list[tuple[str, ...]] = [
        ("flufl.bounce's corpus: files found exactly (of its tests' 111)",
         f"{flufl['engine']} ({flufl['engine_via_fallback']} by the fallback)", str(flufl['flufl'])),  # type: ignore[index]
    ]
    for name, key in (('held-out', 'heldout'), ("flufl.bounce's corpus", 'flufl_corpus_vs_sisimai4')):
        figures = results[key]
        rows += [
            (f'{name}: bounce messages / recipients (Sisimai 4.25)',
             f"{figures['messages']} / {figures['recipients']}", ''),  # type: ignore[index]
            (f'{name}: recipients exactly as Sisimai', _pct(figures['exact']), _pct(figures['flufl_exact'])),  # type: ignore[index]
            (f'{name}: bounces with recipients found',
             str(figures['engine_bounces_found']), str(figures['flufl_bounces_found'])),  # type: ignore[index]
            (f'{name}: status class / reason / hard-soft agree',
             ' / '.join(_pct(figures[k]) for k in ('status_class', 'reason', 'hard_soft')), ''),  # type: ignore[index]
            (f"{name}: weight as Sisimai's reason would be charged", _pct(figures['weight']), ''),  # type: ignore[index]
            (f'{name}: non-bounces reported as bounce',
             f"{len(figures['non_bounces_as_bounce'])} of {figures['non_bounces']}",  # type: ignore[index, arg-type]
             str(len(figures['flufl_non_bounces_as_bounce']))),  # type: ignore[index, arg-type]
            (f'{name}: inputs raising', str(figures['inputs_raising']), ''),  # type: ignore[index]
        ]
    return _table(rows, ('Beyond the shared corpus', 'Engine', 'flufl.bounce'))


def _family_table(results: dict[str, object]) -> list[str]:
    """Leave one family out: reason agreement without the family's own entries."""
    rows = [(str(row['family']), str(row['messages']), str(row['entries_removed']),
             _pct(row['reason_with']), _pct(row['reason_without']),
             _pct(row['hard_with']), _pct(row['hard_without']))
            for row in results['leave_one_family_out']]  # type: ignore[attr-defined]
    rows.append(('all (each family left out in turn)', '', '', _pct(results['reason']),
                 _pct(results['reason_each_family_left_out']), '', ''))
    return _table(rows, ('Family left out', 'Msgs', 'Entries', 'Reason', 'without', 'Hard/soft', 'without'))


if __name__ == '__main__':
    sys.exit(main())
