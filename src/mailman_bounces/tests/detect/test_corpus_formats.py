"""Table-driven tests per format family, over the corpus copy.

Each table maps a corpus file to what the engine must report: kind, detector and,
per recipient, the address, the status class, the reason and the severity.  The
expected values are Sisimai's (the corpus oracle) on messages where we agree
with it; a regression in a format module shows up in its own table.
"""

from __future__ import annotations

import pytest

from mailman_bounces.detect import detect

from .conftest import corpus_file

# file -> (kind, [(address, status class, reason, severity), ...])
TABLES: dict[str, dict[str, tuple[str, list[tuple[str, str | None, str, str]]]]] = {
    'arf': {
        'bsd/arf-01.eml': ('complaint', [('redacted@example.net', None, 'feedback', 'none')]),
        'bsd/arf-02.eml': ('complaint', [('this-local-part-does-not-exist-on-yahoo@yahoo.com', None, 'feedback', 'none')]),
    },
    'au': {
        'bsd/lhost-ezweb-04.eml': ('bounce', [('this-local-part-does-not-exist-on-the-server@ezweb.ne.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-ezweb-07.eml': ('bounce', [('this-local-part-does-not-exist@ezweb.ne.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-kddi-01.eml': ('bounce', [('kijitora@x0000000000000.dion.ne.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-kddi-02.eml': ('bounce', [('kijitora@00000000000000.dion.ne.jp', '5', 'mailboxfull', 'soft')]),
    },
    'domino': {
        'bsd/lhost-domino-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-notes-01.eml': ('bounce', [('kijitora@u1.example.co.jp', '5', 'onhold', 'soft')]),
        'bsd/lhost-notes-02.eml': ('bounce', [('kijitora@u1.example.co.jp', '5', 'userunknown', 'hard')]),
    },
    'dragonfly': {
        'bsd/lhost-dragonfly-01.eml': ('bounce', [('pseudo-local-part@google.example.com', '5', 'authfailure', 'soft')]),
        'bsd/lhost-dragonfly-03.eml': ('bounce', [('pseudo-local-part@yahoo-inc.example.com', '5', 'policyviolation', 'soft')]),
    },
    'exchange2003': {
        'bsd/lhost-exchange2003-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-exchange2003-03.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
    },
    'exim': {
        'bsd/lhost-exim-02.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard'), ('sabatora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-exim-05.eml': ('bounce', [('kijitora@neko.example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-mailru-02.eml': ('bounce', [('kijitora@example.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-mailru-03.eml': ('bounce', [('mikeneko@example.jp', '5', 'mailboxfull', 'soft'), ('sabineko@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-mxlogic-01.eml': ('bounce', [('kijitora@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-mxlogic-02.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
    },
    'fml': {
        'bsd/lhost-fml-02.eml': ('bounce', [('neko-nyaan@example.org', '5', 'rejected', 'soft')]),
        'bsd/lhost-fml-03.eml': ('bounce', [('neko@example.co.jp', '5', 'systemerror', 'soft')]),
    },
    'generic': {
        'bsd/lhost-biglobe-01.eml': ('bounce', [('postmaster@mxr.biglobe.ne.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-imailserver-01.eml': ('bounce', [('kijitora@example.com', '5', 'userunknown', 'hard')]),
        'bsd/lhost-imailserver-02.eml': ('bounce', [('kijitora@example.co.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-office365-02.eml': ('bounce', [('kijitora@example.onmicrosoft.com', '5', 'userunknown', 'hard')]),
        'bsd/lhost-opensmtpd-01.eml': ('bounce', [('apdugoaidugoaidugoaeiudggadi@gmail.com', '5', 'userunknown', 'hard')]),
        'bsd/lhost-opensmtpd-05.eml': ('bounce', [('kijitora@mail.example.co.jp', '5', 'expired', 'soft')]),
        'bsd/lhost-trendmicro-01.eml': ('bounce', [('kijitora@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-verizon-01.eml': ('bounce', [('0000000000@vzwpix.com', '5', 'userunknown', 'hard')]),
        'bsd/lhost-x2-03.eml': ('bounce', [('kijitora@example.org', '5', 'expired', 'soft')]),
        'bsd/lhost-x2-04.eml': ('bounce', [('kijitora@example.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-x4-01.eml': ('bounce', [('kijitora@example.com', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-x6-01.eml': ('bounce', [('kijitora@nyaan.example.org', '5', 'networkerror', 'soft')]),
        'bsd/lhost-x6-02.eml': ('bounce', [('kijitora@libsisimai.org', '5', 'userunknown', 'hard')]),
        'bsd/lhost-zoho-01.eml': ('bounce', [('kijitora@example.co.jp', '5', 'userunknown', 'hard')]),
    },
    'gmail': {
        'bsd/lhost-gmail-04.eml': ('bounce', [('kijitora@example.com', '5', 'blocked', 'soft')]),
        'bsd/lhost-gmail-06.eml': ('delay', [('kijitora@example.jp', '4', 'mailboxfull', 'soft')]),
        'bsd/lhost-googlegroups-01.eml': ('bounce', [('libsisimai@googlegroups.com', '5', 'rejected', 'soft')]),
        'bsd/lhost-googlegroups-03.eml': ('bounce', [('libsisimai@googlegroups.com', '5', 'rejected', 'soft')]),
    },
    'gmx': {
        'bsd/lhost-gmx-02.eml': ('bounce', [('shironeko@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-gmx-03.eml': ('bounce', [('mikeneko@example.co.jp', '5', 'userunknown', 'hard'), ('sabineko@example.co.jp', '5', 'mailboxfull', 'soft')]),
    },
    'james': {
        'bsd/lhost-verizon-02.eml': ('bounce', [('may-be-straycat-nyaaaaaan@vtext.com', '5', 'userunknown', 'hard')]),
    },
    'mailmarshal': {
        'bsd/lhost-mailmarshal-02.eml': ('bounce', [('kijitora@nyaan.example.com', '5', 'userunknown', 'hard')]),
    },
    'mfilter': {
        'bsd/lhost-mfilter-01.eml': ('bounce', [('kijitora@example.com', '5', 'filtered', 'soft')]),
        'bsd/lhost-mfilter-03.eml': ('bounce', [('kijitora@example.org', '5', 'filtered', 'soft')]),
    },
    'qmail': {
        'bsd/lhost-qmail-01.eml': ('bounce', [('kijitora@example.ne.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-qmail-02.eml': ('bounce', [('userunknown@example.jp', '5', 'userunknown', 'hard'), ('filtered@example.jp', '5', 'userunknown', 'hard')]),
    },
    'rfc3464': {
        'bsd/lhost-amavis-01.eml': ('bounce', [('neko@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-amavis-02.eml': ('bounce', [('neko@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-amazonses-03.eml': ('bounce', [('kijitora@example.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-amazonses-07.eml': ('bounce', [('6@neko.nyaan.example.org', '5', 'securityerror', 'soft')]),
        'bsd/lhost-amazonworkmail-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-amazonworkmail-03.eml': ('bounce', [('kuroneko@example.org', '5', 'systemerror', 'soft')]),
        'bsd/lhost-barracuda-01.eml': ('bounce', [('kijitora@example.org', '5', 'spamdetected', 'soft')]),
        'bsd/lhost-barracuda-02.eml': ('bounce', [('kijitora@example.jp', '5', 'spamdetected', 'soft')]),
        'bsd/lhost-bigfoot-02.eml': ('bounce', [('kijitora@example.org', '5', 'userunknown', 'hard')]),
        'bsd/lhost-courier-01.eml': ('bounce', [('kijitora@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-courier-02.eml': ('bounce', [('kijitora@example.jp', '5', 'filtered', 'soft')]),
        'bsd/lhost-exchange2007-02.eml': ('bounce', [('kijitora@example.edu', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-exchange2007-04.eml': ('bounce', [('neko-nyaan@example.jp', '5', 'securityerror', 'soft')]),
        'bsd/lhost-mcafee-01.eml': ('bounce', [('kijitora@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-mcafee-03.eml': ('bounce', [('kijitora@example.or.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-messagingserver-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-messagingserver-02.eml': ('bounce', [('kijitora@example.net', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-office365-03.eml': ('bounce', [('kijitora@example.com', '5', 'authfailure', 'soft')]),
        'bsd/lhost-outlook-01.eml': ('bounce', [('kijitora@example.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-outlook-03.eml': ('bounce', [('kijitora@example.jp', '5', 'hostunknown', 'hard')]),
        'bsd/lhost-postfix-01.eml': ('bounce', [('r@p351355.pool.example.ne.jp', '5', 'mailererror', 'soft')]),
        'bsd/lhost-postfix-02.eml': ('bounce', [('filtered@example.co.jp', '5', 'userunknown', 'hard'), ('userunknown@example.co.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-powermta-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-powermta-02.eml': ('bounce', [('kijitora@example.com', '5', 'userunknown', 'hard')]),
        'bsd/lhost-receivingses-04.eml': ('bounce', [('mailboxfull@neko.example.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-receivingses-05.eml': ('bounce', [('exceedlimit@neko.example.jp', '5', 'mesgtoobig', 'soft')]),
        'bsd/lhost-sendgrid-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-sendgrid-02.eml': ('bounce', [('this-local-part-does-not-exist-on-the-server@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-sendmail-01.eml': ('bounce', [('userunknown@bouncehammer.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-sendmail-04.eml': ('bounce', [('kijitora@example.com', '5', 'rejected', 'soft')]),
        'bsd/lhost-x5-01.eml': ('bounce', [('kijitora@neko.example.org', '5', 'userunknown', 'hard')]),
        'bsd/lhost-yandex-01.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/lhost-yandex-02.eml': ('bounce', [('mikeneko@example.jp', '5', 'userunknown', 'hard'), ('sabineko@example.jp', '5', 'mailboxfull', 'soft')]),
        'err/make-test-01.eml': ('bounce', [('domain-does-not-exist@example.gov', '5', 'hostunknown', 'hard')]),
        'err/make-test-02.eml': ('bounce', [('recipient-address-does-not-exist@docomo.ne.jp', '5', 'userunknown', 'hard')]),
        'bsd/rfc3464-08.eml': ('bounce', [('kijitora@example.net', '5', 'spamdetected', 'soft')]),
        'bsd/rfc3464-09.eml': ('delay', [('kijitora-cat@mx4.gr3.example.jp', '4', 'mailboxfull', 'soft')]),
        'bsd/rhost-aol-01.eml': ('bounce', [('kijitora@example.jp', '5', 'hostunknown', 'hard')]),
        'bsd/rhost-aol-02.eml': ('bounce', [('kijitora@example.co.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/rhost-apple-01.eml': ('bounce', [('kijitora@example.jp', '5', 'hasmoved', 'hard')]),
        'bsd/rhost-apple-02.eml': ('bounce', [('kijitora@apple.example.com', '5', 'authfailure', 'soft')]),
        'bsd/rhost-facebook-03.eml': ('bounce', [('kijitora@facebook.com', '5', 'filtered', 'soft')]),
        'bsd/rhost-facebook-04.eml': ('bounce', [('kijitora@facebook.com', '5', 'userunknown', 'hard')]),
        'bsd/rhost-franceptt-01.eml': ('bounce', [('pseudo-local-part-kijitora-nyaaan@orange.fr', '5', 'userunknown', 'hard')]),
        'bsd/rhost-google-01.eml': ('bounce', [('shironeko@example.ne.jp', '5', 'suspend', 'soft')]),
        'bsd/rhost-google-03.eml': ('bounce', [('kijitora@google.example.com', '5', 'authfailure', 'soft')]),
        'bsd/rhost-gsuite-02.eml': ('bounce', [('kijitora@example.it', '5', 'userunknown', 'hard')]),
        'bsd/rhost-gsuite-03.eml': ('bounce', [('neko@libsisimai.org', '4', 'notaccept', 'soft')]),
        'bsd/rhost-iua-01.eml': ('bounce', [('neko@email.example.ua', '5', 'suspend', 'soft')]),
        'bsd/rhost-kddi-01.eml': ('bounce', [('otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp', '5', 'filtered', 'soft')]),
        'bsd/rhost-kddi-02.eml': ('bounce', [('otsu-sakaba-hunter-neko-nyaaaaaaan@au.com', '5', 'userunknown', 'hard')]),
        'bsd/rhost-messagelabs-02.eml': ('bounce', [('kijitora@neko.example.org', '5', 'userunknown', 'hard')]),
        'bsd/rhost-microsoft-01.eml': ('bounce', [('kijitora@example.com', '5', 'blocked', 'soft')]),
        'bsd/rhost-microsoft-03.eml': ('bounce', [('kijitora@example.com', '5', 'userunknown', 'hard')]),
        'bsd/rhost-nttdocomo-01.eml': ('bounce', [('azumakuniyuki@ntt.docomo.example.ne.jp', '5', 'filtered', 'soft')]),
        'bsd/rhost-outlook-02.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
        'bsd/rhost-outlook-03.eml': ('bounce', [('kijitora@example.jp', '5', 'hostunknown', 'hard')]),
        'bsd/rhost-tencent-03.eml': ('bounce', [('neko@qq.example.cn', '5', 'authfailure', 'soft')]),
        'bsd/rhost-yahooinc-01.eml': ('bounce', [('kijitora@aol.example.jp', '5', 'policyviolation', 'soft')]),
        'bsd/rhost-zoho-01.eml': ('bounce', [('kijitora@zoho.example.com', '5', 'userunknown', 'hard')]),
    },
    'sendmail': {
        'bsd/lhost-activehunter-01.eml': ('bounce', [('kijitora@example.org', '5', 'userunknown', 'hard')]),
        'bsd/lhost-v5sendmail-03.eml': ('bounce', [('kijitora@example.org', '5', 'userunknown', 'hard')]),
        'bsd/lhost-v5sendmail-04.eml': ('bounce', [('kijitora@example.ed.jp', '5', 'hostunknown', 'hard'), ('mikeneko@example.ac.jp', '5', 'hostunknown', 'hard')]),
    },
    'yahoo': {
        'bsd/lhost-yahoo-02.eml': ('bounce', [('kijitora@example.ed.jp', '5', 'mailboxfull', 'soft')]),
        'bsd/lhost-yahoo-03.eml': ('bounce', [('kijitora@example.jp', '5', 'userunknown', 'hard')]),
    },
}


CASES = [(detector, name, expected) for detector, table in TABLES.items() for name, expected in table.items()]


@pytest.mark.parametrize('detector, name, expected', CASES, ids=[f'{d}:{n}' for d, n, _ in CASES])
def test_corpus_message(detector: str, name: str, expected) -> None:
    kind, recipients = expected
    report = detect(corpus_file(name))
    assert report.kind.value == kind
    assert report.detector == detector
    got = [(r.address, (r.status or '')[:1] or None, r.reason, r.severity.value)
           for r in report.recipients if r.reason not in ('delivered', 'vacation')]
    assert sorted(got) == sorted(recipients)


def test_every_format_family_is_covered() -> None:
    assert len(TABLES) >= 15
