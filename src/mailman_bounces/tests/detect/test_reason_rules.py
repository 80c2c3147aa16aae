"""The reason rules, one table per step of ``classify`` (docs/detection.rst).

The expected values come from the protocol (RFC 3463's status codes, RFC 5321's
reply codes and the command they answer, RFC 3464's action) and from how mail
servers word failures in general (Postfix, Exim, Sendmail, qmail, Exchange and
the large providers each have their own way of saying "no such user"), never
from what the code answers today, and none of these inputs is a corpus file.
Severity follows Sisimai's ``hardbounce``: only a reason about the address
itself is hard.
"""

from __future__ import annotations

import pytest

from mailman_bounces.detect import Severity
from mailman_bounces.detect.engine import complete
from mailman_bounces.detect.mail import Found
from mailman_bounces.detect.reasons import classify, says_will_retry, severity_of

# -- 1. the enhanced status code, when it is specific (RFC 3463 and its updates) --
# The diagnostic is the code's own title in the RFC, so the code and the words
# agree; the reason is the code's.
STATUS_CODES = [
    ('5.1.1', 'Bad destination mailbox address', 'userunknown', 'hard'),
    ('5.1.2', 'Bad destination system address', 'hostunknown', 'hard'),
    ('5.1.3', 'Bad destination mailbox address syntax', 'userunknown', 'hard'),
    ('5.1.6', 'Destination mailbox has moved, no forwarding address', 'hasmoved', 'hard'),
    ('5.1.8', "Bad sender's system address", 'rejected', 'soft'),
    ('5.1.10', 'Recipient address has null MX', 'notaccept', 'hard'),          # RFC 7505
    ('5.2.2', 'Mailbox full', 'mailboxfull', 'soft'),
    ('4.2.2', 'Mailbox full', 'mailboxfull', 'soft'),
    ('5.2.3', 'Message length exceeds administrative limit', 'exceedlimit', 'soft'),
    ('5.3.1', 'Mail system full', 'systemfull', 'soft'),
    ('5.3.2', 'System not accepting network messages', 'notaccept', 'hard'),
    ('4.3.2', 'System not accepting network messages', 'notaccept', 'soft'),
    ('5.3.4', 'Message too big for system', 'mesgtoobig', 'soft'),
    ('5.4.7', 'Delivery time expired', 'expired', 'soft'),
    ('4.5.3', 'Too many recipients', 'toomanyconn', 'soft'),
    ('5.6.1', 'Media not supported', 'contenterror', 'soft'),
    ('5.7.25', 'Reverse DNS validation failed', 'requireptr', 'soft'),          # RFC 7372
    ('5.7.26', 'Multiple authentication checks failed', 'authfailure', 'soft'),  # RFC 7372
    ('5.7.8', 'Authentication credentials invalid', 'securityerror', 'soft'),   # RFC 4954
]


@pytest.mark.parametrize(('status', 'text', 'reason', 'severity'), STATUS_CODES)
def test_a_specific_status_code_decides(status: str, text: str, reason: str, severity: str) -> None:
    _check(classify(status, f'{status} {text}'), status, reason, severity)


def test_a_specific_code_yields_to_wording_it_is_known_to_be_misused_for() -> None:
    # Servers answer x.1.1 for a full mailbox.
    assert classify('5.1.1', '550 5.1.1 Mailbox is full') == 'mailboxfull'
    # Vague wording never overrides a specific code.
    assert classify('5.1.1', '550 5.1.1 Requested action not taken: mailbox unavailable') == 'userunknown'


# A detail of 0 is "other or undefined" status within the subject: any words
# that name a reason say more.
DETAIL_ZERO = [
    ('4.4.0', 'Action: Delayed', 'expired'),
    ('5.5.0', '550 Requested action not taken: mailbox unavailable', 'filtered'),
    ('4.3.0', '421 4.3.0 Upstream error, please check the postmaster pages', 'onhold'),
    ('5.2.0', '550 5.2.0 Account disabled', 'suspend'),
]


# x.4.1 is "no answer from host": a server that answered with a reply code
# contradicts it, and "try again later" is advice, not a cause.
CONTRADICTED = [
    ('5.4.1', '541 5.4.1 Mail rejected by destination domain', 'onhold'),
    ('4.3.0', '451 4.3.0 Could not be delivered due to a recipient error. Please try again later.', 'onhold'),
    ('4.4.1', 'No answer from host', 'expired'),
]


@pytest.mark.parametrize(('status', 'text', 'reason'), CONTRADICTED)
def test_a_hint_the_answer_contradicts_is_dropped(status: str, text: str, reason: str) -> None:
    reply = text[:3] if text[:3].isdigit() else None
    assert classify(status, text, None, None, reply) == reason


def test_an_ambiguous_address_is_the_receiving_systems_error() -> None:
    # RFC 3463 x.1.4: "destination mailbox address ambiguous".  No words
    # name a reason here, so the code's hint decides.
    assert classify('5.1.4', '550 5.1.4 Requested action not taken') == 'systemerror'


@pytest.mark.parametrize(('status', 'text', 'reason'), DETAIL_ZERO)
def test_a_detail_of_zero_only_hints(status: str, text: str, reason: str) -> None:
    assert classify(status, text) == reason


# -- 2. the reply code and the SMTP command it answered (RFC 5321) ----------------
COMMANDS = [
    # RFC 5321's bare 550 text answering RCPT TO is about the recipient ...
    (None, '550', 'RCPT', '550 Requested action not taken: mailbox unavailable', 'userunknown', 'hard'),
    (None, '550', 'RCPT', '550 5.7.1 <anna@example.org>: Recipient address rejected', 'userunknown', 'hard'),
    # ... but a temporary (class 4) refusal is no proof the mailbox is gone.
    ('4.7.1', '450', 'RCPT', '450 4.7.1 <anna@example.org>: Recipient address rejected: Greylisted, try later',
     'expired', 'soft'),
    (None, '450', 'RCPT', '450 Requested action not taken: mailbox unavailable', 'filtered', 'soft'),
    # After DATA the recipient had been accepted: "unknown user" is a filter.
    (None, '550', 'DATA', '550 Unknown user', 'filtered', 'soft'),
    (None, '554', 'DATA', '554 delivery error: no such user', 'filtered', 'soft'),
    # ... unless an x.1.1 code says the mailbox does not exist.
    ('5.1.1', '550', 'DATA', '550 5.1.1 User unknown', 'userunknown', 'hard'),
    # A refusal of MAIL FROM is about the sender.
    (None, '550', 'MAIL', '550 Access denied', 'rejected', 'soft'),
    (None, '553', 'MAIL', '553 Requested action not taken: mailbox name not allowed', 'rejected', 'soft'),
    # ... unless the words name another cause.
    ('5.7.0', '530', 'MAIL', '530 5.7.0 Must issue a STARTTLS command first', 'securityerror', 'soft'),
    # Refused at HELO/EHLO, before any address was named: the client host.
    (None, '554', 'HELO', '554 Access denied', 'blocked', 'soft'),
    (None, '550', 'HELO', '550 Requested action not taken', 'blocked', 'soft'),
    # ... but a temporary failure there is not a block.
    (None, '421', 'HELO', '421 Connection timed out', 'expired', 'soft'),
]


@pytest.mark.parametrize(('status', 'reply', 'command', 'text', 'reason', 'severity'), COMMANDS)
def test_the_smtp_command_decides(status: str | None, reply: str, command: str, text: str,
                                  reason: str, severity: str) -> None:
    _check(classify(status, text, None, command, reply), status or reply, reason, severity)


# What a reply code alone says (RFC 5321 4.2.2; RFC 4954) when no word does.
REPLY_CODES = [
    ('552', 'mailboxfull'),    # requested mail action aborted: exceeded storage allocation
    ('530', 'securityerror'),  # authentication required
    ('535', 'securityerror'),  # authentication credentials invalid
    ('501', 'syntaxerror'),    # syntax error in parameters or arguments
]


@pytest.mark.parametrize(('reply', 'reason'), REPLY_CODES)
def test_a_bare_reply_code_hints(reply: str, reason: str) -> None:
    assert classify(None, reply, None, None, reply) == reason


# -- 3. the phrase tables: how servers in general word each reason ----------------
# No status code and no command: the words alone decide.
PHRASES = [
    ('userunknown', '550 5.1.1 <anna@example.org>: Recipient address rejected: User unknown in local recipient table'),
    ('userunknown', '550-5.1.1 The email account that you tried to reach does not exist.'),
    ('userunknown', '550 Requested action not taken: mailbox unavailable. Recipient not found'),
    ('userunknown', '550 No Such User Here'),
    ('userunknown', '550 Unknown local part a in <anna@example.org>'),
    ('userunknown', '511 sorry, no mailbox here by that name (#5.1.1 - chkuser)'),
    ('userunknown', '550 Mailbox not found'),
    ('userunknown', '550 Invalid Recipient'),
    ('userunknown', '553 5.3.0 a@example.org... No such user'),
    ('userunknown', "550 'a@example.org' is not a valid mailbox"),
    ('userunknown', '550 This mailbox does not exist'),
    # A dead mailbox stays a dead mailbox when the server adds "blocked" or
    # "rejected by the server" without saying what was blocked.
    ('userunknown', '550 Rejected by the server: user unknown'),
    ('userunknown', '550 mailbox a@example.org not found, blocked'),
    ('mailboxfull', '552 5.2.2 <anna@example.org>: Recipient address rejected: Mailbox is full'),
    ('mailboxfull', '452 4.2.2 The email account that you tried to reach is over quota.'),
    ('mailboxfull', '552 RCPT TO:<anna@example.org> Mailbox disk quota exceeded'),
    ('mailboxfull', "550 Quota exceeded. The user's mailbox has reached its storage limit."),
    ('mailboxfull', '550 Mailbox quota usage exceeded'),
    ('mailboxfull', 'Error: User\'s Disk Quota Exceeded; too much mail stored in his mailbox'),
    ('hostunknown', ('Host or domain name not found. Name service error for name=example.invalid type=A: '
                    'Host not found')),
    ('hostunknown', 'Domain example.invalid does not exist'),
    ('networkerror', 'Name service error for domain example.org: Host not found, try again'),
    ('networkerror', 'connect to mx.example.org[192.0.2.1]:25: Connection refused'),
    ('networkerror', '554 5.4.6 Too many hops'),
    ('suspend', '550 5.2.1 The email account that you tried to reach is disabled.'),
    ('suspend', '550 Account inactive'),
    ('filtered', "550 5.7.1 Message rejected due to recipient's settings"),
    ('filtered', '550 5.7.1 Recipient has blocked your email address'),
    ('blocked', '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using b.barracudacentral.org'),
    ('blocked', '550 5.7.1 Mail from 192.0.2.1 refused, see http://www.spamhaus.org/query/bl?ip=192.0.2.1'),
    ('blocked', '550 5.7.1 Your IP address has been blocked'),
    ('blocked', '550 65.49.42.68 is not allowed to send mail from example.com (NOT JUNKEMAILFILTER)'),
    ('badreputation', ("554 Your access to this mail system has been rejected due to the sending MTA's "
                      'poor reputation.')),
    ('spamdetected', '550 5.7.1 Message rejected as spam by Content Filtering'),
    ('spamdetected', '550-5.7.1 Our system has detected that this message is likely unsolicited mail'),
    ('virusdetected', '554 5.7.0 Reject, id=12345 - INFECTED: Eicar-Test-Signature'),
    ('mesgtoobig', '552 5.3.4 Message size exceeds fixed limit'),
    ('mesgtoobig', '552 Message exceeds maximum fixed size'),
    ('mesgtoobig', '553 Exceeded maximum inbound message size'),
    ('mesgtoobig', '554 5.7.1 Message Rejected Class=size limit=15728640'),
    ('norelaying', '554 5.7.1 <anna@example.org>: Relay access denied'),
    ('norelaying', "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),
    ('rejected', '553 5.1.8 <x@example.net>... Domain of sender address x@example.net does not exist'),
    ('rejected', '550 Sender verify failed'),
    ('securityerror', '554 5.7.1 TLS required for this domain'),
    ('authfailure', '550 5.7.1 SPF check failed'),
    ('authfailure', '550 5.7.1 Email rejected per DMARC policy for example.org'),
    ('requireptr', '550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]'),
    ('toomanyconn', '421 Too many concurrent SMTP connections; please try again later.'),
    ('speeding', '450 4.7.1 Error: too much mail from 192.0.2.1'),
    ('systemerror', '451 4.3.0 Internal server error'),
    # An address the receiving directory resolves to several mailboxes.
    ('systemerror', 'Recipient user name anna (anna@example.org) not unique. Several matches found in the directory.'),
    ('systemerror', '550 Ambiguous recipient address'),
    ('systemfull', '452 4.3.1 Insufficient system storage'),
    ('notaccept', '554 5.3.2 Host does not accept mail'),
    ('hasmoved', '551 5.1.6 User has moved; please try <b@example.net>'),
    ('notcompliantrfc', '550 5.7.1 Message is not RFC 5322 compliant'),
    ('notcompliantrfc', "554 Transaction failed: Duplicate header 'DKIM-Signature'."),
    ('contenterror', '554 5.6.0 Invalid MIME structure'),
    ('policyviolation', '550 5.7.1 Message rejected due to local policy'),
    ('policyviolation', '554 5.7.1 <a@example.org>: Recipient address rejected: Access denied by policy'),
    # A policy list is not DNS: a name missing from it is no unknown host.
    ('policyviolation', '550 5.7.1 example.net: Domain does not exist in our policy list'),
    ('expired', 'retry timeout exceeded'),
    ('expired', '450 4.2.0 <anna@example.org>: Recipient address rejected: Greylisted, see RFC 6647'),
    # The local delivery program failed: what its output quotes is not the cause.
    ('mailererror', 'Command died with status 1: "/usr/bin/procmail". Command output: procmail: Missing header'),
    ('mailererror', ('X-Unix; Command died with status 127: "/usr/local/bin/filter". Command output: '
                    'rfc822 parse error')),
    ('syntaxerror', '501 5.5.4 Syntax error in parameters'),
    # Wordings of other servers and languages (checked against the per-reason
    # vocabulary of another parser, see docs/detection.rst).
    ('userunknown', '553 sorry, this recipient is not in my validrcptto list (#5.7.1)'),
    ('userunknown', '550 Utilisateur inconnu'),
    ('userunknown', '550 Benutzer unbekannt'),
    ('userunknown', 'vdeliver: Invalid or unknown virtual user'),
    ('userunknown', '550 This address no longer accepts mail'),
    ('mailboxfull', '552 Recipient is over the allowed quota'),
    ('rejected', '553 BATV validation failure'),
    ('rejected', '553 Sender address has been blacklisted'),
    ('networkerror', 'Host is unreachable'),
    ('expired', 'Unable to deliver message after multiple retries'),
    ('filtered', '550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized'),
    ('norelaying', '550 We are not an open relay'),
]


@pytest.mark.parametrize(('reason', 'text'), PHRASES)
def test_the_phrase_tables(reason: str, text: str) -> None:
    assert classify(None, text) == reason


def test_words_that_name_no_reason_are_onhold_and_no_words_undefined() -> None:
    # Any text the server gave, even only the address, is something said:
    # 'onhold'; nothing at all is 'undefined'.  Both weigh the same.
    assert classify(None, '<anna@example.org>') == 'onhold'
    assert classify(None, 'The following recipients did not receive your message') == 'onhold'
    assert classify(None, None) == 'undefined'
    assert classify(None, '') == 'undefined'


# -- severity: Sisimai's hardbounce ----------------------------------------------
SEVERITY = [
    ('userunknown', True, Severity.hard), ('hostunknown', True, Severity.hard),
    ('hasmoved', True, Severity.hard), ('notaccept', True, Severity.hard),
    ('notaccept', False, Severity.soft), ('mailboxfull', True, Severity.soft),
    ('filtered', True, Severity.soft), ('blocked', True, Severity.soft),
    ('suspend', True, Severity.soft), ('onhold', True, Severity.soft),
    ('undefined', True, Severity.soft), ('vacation', True, Severity.none),
    ('feedback', True, Severity.none), ('delivered', False, Severity.none),
]


@pytest.mark.parametrize(('reason', 'permanent', 'severity'), SEVERITY)
def test_severity_follows_the_reason_and_the_class(reason: str, permanent: bool, severity: Severity) -> None:
    assert severity_of(reason, permanent) is severity


# -- "will retry": a delay whatever the class digit --------------------------------
@pytest.mark.parametrize('text', [
    "The recipient server did not accept our requests to connect. We'll retry for 46 more hours.",
    'Delivery attempts will continue to be made for 4 day(s)',
    'This is a warning message only; you do not need to resend your message',
    'The message has not yet been delivered to the following recipients',
    'Your message has been delayed and is still awaiting delivery',
])
def test_says_will_retry(text: str) -> None:
    assert says_will_retry(text.replace("We'll", 'We will'))


def test_a_notice_that_will_retry_is_a_delay_keeping_its_status() -> None:
    found = Found(address='a@example.org', status='5.0.0',
                  diagnostic='Delivery to this address failed; attempts will continue for 3 days')
    recipient = complete(found, 'test')
    assert recipient is not None
    assert recipient.action == 'delayed'
    assert recipient.status == '5.0.0'          # the original status is kept
    assert recipient.reason == 'expired'        # a delay that names no cause
    assert recipient.severity is Severity.soft


def test_a_delay_warning_without_words_is_expired() -> None:
    # A format that knows the sender has not given up (an Exim delay warning
    # lists the addresses and nothing else) states a delay (RFC 3464).
    recipient = complete(Found(address='a@example.org', permanent=False), 'test')
    assert recipient is not None
    assert (recipient.action, recipient.reason, recipient.status[:1]) == ('delayed', 'expired', '4')


def _check(reason: str, status: str | None, expected: str, severity: str) -> None:
    assert reason == expected
    permanent = (status or '5')[:1] == '5'
    assert severity_of(reason, permanent).name == severity


def test_the_command_is_read_from_a_wrapped_explanation() -> None:
    # Postfix wraps a long answer, and the server may quote the address again
    # on the continuation line: the explanation (and the command it names)
    # goes on until a blank line or the next entry.
    from mailman_bounces.detect.formats.common import diagnostic_near
    from mailman_bounces.detect.status import find_command
    text = ('<anna@example.org>: host mx.example.org[192.0.2.1] said: 554 Rcpt\n'
            '    <anna@example.org> does not exist (in reply to end of DATA command)\n'
            '<bert@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown\n'
            '    (in reply to RCPT TO command)\n')
    first = diagnostic_near(text, 'anna@example.org')
    assert first is not None
    assert first.endswith('(in reply to end of DATA command)')
    assert '<bert@example.org>' not in first
    assert find_command(first) == 'DATA'
    assert classify(None, first, None, find_command(first), '554') == 'filtered'
    assert find_command(diagnostic_near(text, 'bert@example.org')) == 'RCPT'


@pytest.mark.parametrize(('text', 'command'), [
    ('SMTP error from remote server for TEXT command, host: mx.example.org reason: 550 5.2.0 rejected', 'DATA'),
    ('SMTP Server <192.0.2.1> refused to accept your message (DATA), with the following error', 'DATA'),
    ('Sorry, no SMTP connection got far enough; most progress was RCPT TO response; remote host said: 550',
     'RCPT'),
    ('SMTP error from remote server for RCPT TO command, host: mx.example.org reason: 550 5.1.1', 'RCPT'),
    ('SMTP error from remote server for MAIL FROM command, host: mx.example.org reason: 550 5.1.8', 'MAIL'),
    ('SMTP error from remote server after RCPT command: host mx.example.org: 550 user unknown', 'RCPT'),
])
def test_how_mtas_name_the_command(text: str, command: str) -> None:
    from mailman_bounces.detect.status import find_command
    assert find_command(text) == command
