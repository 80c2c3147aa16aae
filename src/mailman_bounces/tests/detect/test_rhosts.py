"""Receiving providers' tables (detect/rhosts/): selection and codes.

Synthetic diagnostics, worded as each provider words its answers but with other
codes, hosts and addresses than the corpus has; then corpus files whose reason
comes from a provider's table.
"""

from __future__ import annotations

import pytest

from mailman_bounces.detect import detect
from mailman_bounces.detect.rhosts import PROVIDERS, provider_reason

from .conftest import corpus_file

# (remote MTA, recipient, diagnostic) -> reason
SYNTHETIC = [
    # Yahoo / AOL
    ('mta7.am0.yahoodns.net', 'ann@yahoo.com',
     '553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL', 'blocked'),
    (None, 'ann@example.com', '421 4.7.0 [TSS09] All messages from 192.0.2.7 will be permanently deferred', 'blocked'),
    (None, 'ann@example.com', '421 4.7.0 [TS01] Messages from 192.0.2.7 temporarily deferred', 'badreputation'),
    ('mx.aol.com', 'bob@aol.com', '554 5.7.1 (DNS:NR) http://postmaster.info.aol.com/errors/554dnsnr.html',
     'requireptr'),
    ('mta5.am0.yahoodns.net', 'cid@yahoo.com',
     ('554 delivery error: dd Sorry your message to cid@yahoo.com cannot be delivered. '
     'This mailbox is disabled (554.30)'), 'suspend'),
    # Google
    ('gmail-smtp-in.l.google.com', 'dee@gmail.com',
     '452 4.2.2 The email account that you tried to reach is over quota. - gsmtp', 'mailboxfull'),
    ('aspmx.l.google.com', 'dee@example.org',
     '550 5.7.1 Our system has detected that this message is likely unsolicited mail. - gsmtp', 'spamdetected'),
    # Microsoft
    ('example-org.mail.protection.outlook.com', 'eve@example.org',
     '550 5.7.621 Access denied, banned sending IP [192.0.2.9]', 'blocked'),
    ('eur.olc.protection.outlook.com', 'eve@hotmail.com',
     '550 5.7.1 Unfortunately, messages from [192.0.2.9] weren\'t sent. (S3140)', 'blocked'),
    (None, 'eve@example.org', '550 5.4.312 Message expired, DNS query failed (prod.outlook.com)', 'networkerror'),
    # Orange / La Poste
    ('smtp-in.orange.fr', 'flo@orange.fr', '550 5.7.1 Mail rejete. Mail rejected. OFR004_506 [506]',
     'spamdetected'),
    (None, 'flo@example.fr', ('550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. '
     'LPN105_426'), 'suspend'),
    # Cox
    ('cxr.mx.a.cloudfilter.net', 'gil@cox.net', '554 5.7.1 192.0.2.3 rejected. AUP#CXBL', 'blocked'),
    (None, 'gil@example.com', '550 5.7.1 rejected: no rDNS for 192.0.2.3. AUP#CXDNS', 'requireptr'),
    # Spectrum
    (None, 'hal@charter.net', '554 5.7.1 192.0.2.4 blocked. AUP#In-1010', 'blocked'),
    (None, 'hal@example.com', '421 4.7.0 Too many connections AUP#Out-1310', 'toomanyconn'),
    # Tencent
    ('mx1.qq.com', 'ida@qq.com', '550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?id=20022',
     'spamdetected'),
    # Apple
    ('mx01.mail.icloud.com', 'jan@icloud.com', '552 5.2.2 <jan@icloud.com>: user is over quota', 'mailboxfull'),
    # GoDaddy
    ('smtp.secureserver.net', 'kim@example.com', '550 192.0.2.5 has sent too many messages this hour. IB605',
     'speeding'),
    # Facebook
    (None, 'lou@facebook.com', '550 5.1.1 RCP-T4 http://postmaster.facebook.com/response_codes#rcp', 'suspend'),
    (None, 'lou@example.com', '421 4.7.1 CON-T2 http://postmaster.facebook.com/response_codes#con', 'toomanyconn'),
    # KDDI au and NTT DoCoMo
    ('msmx.au.com', 'mia@au.com', '550 : User unknown', 'filtered'),
    ('mfsmax.docomo.ne.jp', 'ned@docomo.ne.jp', '552 Too many recipients', 'toomanyconn'),
    # Symantec Email Security.cloud
    ('cluster1.eu.messagelabs.com', 'oz@example.com', '550 Please turn on SMTP Authentication in your mail client',
     'securityerror'),
    # Mimecast
    ('eu-smtp-inbound-1.mimecast.com', 'pia@example.co.uk',
     '554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554', 'policyviolation'),
    # Zoho
    ('mx.zoho.eu', 'quy@zoho.eu', '550 5.1.1 User does not exist - <quy@zoho.eu>', 'userunknown'),
    # Amazon SES submission interface
    ('email-smtp.eu-west-1.amazonaws.com', 'ray@example.com',
     "554 Transaction failed: Illegal header 'From'.", 'contenterror'),
    # McAfee (MX Logic)
    ('example.com.inbound10.mxlogic.net', 'sue@example.com', '451 Could not load DRD for domain (example.com)',
     'systemerror'),
]


@pytest.mark.parametrize('remote, address, diagnostic, reason', SYNTHETIC,
                         ids=[f'{row[1]}:{row[2][:25]}' for row in SYNTHETIC])
def test_provider_reason(remote, address, diagnostic, reason) -> None:
    assert provider_reason(diagnostic, remote, address) == reason


@pytest.mark.parametrize('remote, address, diagnostic', [
    # No provider is selected: the generic tables decide.
    ('mx.example.net', 'tom@example.net', '550 5.1.1 <tom@example.net>: User unknown'),
    # A provider is selected but its table has no answer for this wording.
    ('mx1.outlook.com', 'uma@outlook.com', '550 5.7.1 Something we have never seen'),
    # A marker in unrelated text: Orange's table needs an OFR/LPN code or its wording.
    (None, 'val@example.com', '550 5.1.1 unknown user (offre speciale)'),
])
def test_no_provider_answer(remote, address, diagnostic) -> None:
    assert provider_reason(diagnostic, remote, address) is None


def test_every_provider_module_defines_its_table() -> None:
    for provider in PROVIDERS:
        assert provider.NAME and 'published error codes' in ' '.join((provider.__doc__ or '').split())
        assert isinstance(provider.DOMAINS, tuple) and isinstance(provider.MARKERS, tuple)
        assert all(marker == marker.lower() for marker in provider.MARKERS)


def test_provider_table_decides_in_a_whole_bounce() -> None:
    raw = """\
From: MAILER-DAEMON@relay.example.org (Mail Delivery System)
To: list-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="r1"

--r1
Content-Type: text/plain

This is the mail system at host relay.example.org.

--r1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org

Final-Recipient: rfc822; wes@wanadoo.fr
Action: failed
Status: 5.0.0
Remote-MTA: dns; smtp-in.orange.fr
Diagnostic-Code: smtp; 550 mwinf5c21 ME Adresse IP source bloquee pour incident
    de spam. Client host blocked for spamming issues. OFR006_102 [102]

--r1--
"""
    (recipient,) = detect(raw).recipients
    # "Client host blocked" names the sending host, though the text says "spam".
    assert recipient.reason == 'blocked'
    assert recipient.detector == 'rfc3464/postfix'


# corpus file -> reason its provider's table gives for the diagnostic.  (In a
# whole bounce the generic phrase tables decide first; the provider's table
# decides what they leave undecided.)
CORPUS = {
    'bsd/rhost-cox-01.eml': 'blocked',
    'bsd/rhost-spectrum-01.eml': 'toomanyconn',
    'bsd/rhost-franceptt-03.eml': 'spamdetected',
    'bsd/rhost-franceptt-06.eml': 'blocked',
    'bsd/rhost-franceptt-08.eml': 'systemerror',
    'bsd/rhost-mimecast-01.eml': 'policyviolation',
    'bsd/lhost-office365-06.eml': 'networkerror',
    'bsd/lhost-postfix-40.eml': 'systemerror',
    'bsd/lhost-postfix-78.eml': 'contenterror',
    'bsd/rhost-yahooinc-01.eml': 'policyviolation',
    'bsd/rhost-facebook-03.eml': 'filtered',
    'bsd/rhost-tencent-01.eml': 'toomanyconn',
}


@pytest.mark.parametrize('name', sorted(CORPUS))
def test_corpus_provider_reason(name: str) -> None:
    reasons = {provider_reason(recipient.diagnostic, recipient.remote_mta, recipient.address)
               for recipient in detect(corpus_file(name)).recipients}
    assert reasons == {CORPUS[name]}


def test_provider_table_decides_what_the_generic_tables_leave_open() -> None:
    # Tencent's "Ip frequency limited" names no reason in the generic
    # vocabulary of mail servers; QQ Mail's table says toomanyconn.
    reasons = {recipient.reason for recipient in detect(corpus_file('bsd/rhost-tencent-01.eml')).recipients}
    assert reasons == {'toomanyconn'}
