"""Why a message bounced: the reason vocabulary, its severity, and the classifier.

The vocabulary is Sisimai's, so results compare directly with it.  A reason is
decided from two signals: the enhanced status code (RFC 3463), and the diagnostic
text, matched against phrase tables (the wording MTAs and providers actually use).
A precise status code wins over a vague phrase; a precise phrase wins over a vague
status code (``5.7.1``, ``5.0.0``, ``5.2.0`` ... say little on their own).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType

from .report import Severity


def gettext_noop(text: str) -> str:
    """Mark `text` for the translation catalogs and give it back unchanged.

    This module stays pure (no gettext, no Django, no Mailman): the
    descriptions are English here, and the web app translates them when it
    shows them (``gettext(REASONS[reason])``).  The name is the one Django's
    ``makemessages`` and ``xgettext --keyword=gettext_noop`` extract.
    """
    return text


_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    # reason: (severity rule, one-line description for people: translated
    # where it is shown)
    'userunknown': ('hard', gettext_noop('the mailbox does not exist at the destination')),
    'hostunknown': ('hard', gettext_noop('the domain does not exist or has no mail server')),
    'hasmoved': ('hard', gettext_noop('the address has moved; a new one is given')),
    'notaccept': ('hard if 5.x.x, else soft', gettext_noop('the destination accepts no mail (null MX, 5.3.2)')),
    'mailboxfull': ('soft', gettext_noop('the mailbox is full or over quota')),
    'exceedlimit': ('soft', gettext_noop('the message exceeds a per-recipient size limit (5.2.3)')),
    'systemfull': ('soft', gettext_noop('the destination server is out of disk space')),
    'mesgtoobig': ('soft', gettext_noop('the message is larger than the server accepts')),
    'filtered': ('soft', gettext_noop("rejected by the recipient's or domain's filter")),
    'rejected': ('soft', gettext_noop('the envelope sender was rejected')),
    'blocked': ('soft', gettext_noop("the sending host's IP or name is blocked (blocklist, RBL)")),
    'spamdetected': ('soft', gettext_noop('the message was judged to be spam')),
    'virusdetected': ('soft', gettext_noop('the message was judged to carry a virus')),
    'policyviolation': ('soft', gettext_noop("the message violates the destination's policy")),
    'securityerror': ('soft', gettext_noop('authentication or encryption (TLS) was required or failed')),
    'authfailure': ('soft', gettext_noop('SPF, DKIM or DMARC failed')),
    'badreputation': ('soft', gettext_noop("the sending IP's reputation is too low")),
    'requireptr': ('soft', gettext_noop('the sending host has no (matching) reverse DNS')),
    'notcompliantrfc': ('soft', gettext_noop('the message does not comply with RFC 5322')),
    'norelaying': ('soft', gettext_noop('relaying was refused')),
    'suspend': ('soft', gettext_noop('the mailbox exists but is suspended or disabled')),
    'onhold': ('soft', gettext_noop('a failure whose cause could not be decided')),
    'expired': ('soft', gettext_noop('delivery time expired (retries exhausted) or delayed')),
    'networkerror': ('soft', gettext_noop('network or DNS problem, mail loop, connection failure')),
    'mailererror': ('soft', gettext_noop('the local delivery program (pipe, procmail) failed')),
    'systemerror': ('soft', gettext_noop('an error on the destination server')),
    'toomanyconn': ('soft', gettext_noop('too many connections or recipients at once')),
    'speeding': ('soft', gettext_noop('rate limited: too many messages too fast')),
    'syntaxerror': ('soft', gettext_noop('SMTP protocol or command syntax error')),
    'contenterror': ('soft', gettext_noop('the content (headers, encoding, MIME) was refused')),
    'undefined': ('soft', gettext_noop('a failure without any usable detail')),
    'delivered': ('none', gettext_noop('delivered successfully (success DSN)')),
    'feedback': ('none', gettext_noop('an abuse complaint (ARF feedback report)')),
    'vacation': ('none', gettext_noop('an auto-reply / out-of-office message')),
}

#: reason name -> one-line description.
REASONS = MappingProxyType({name: text for name, (_, text) in _DESCRIPTIONS.items()})
#: reason name -> how it maps to severity, in words.
SEVERITY_RULES = MappingProxyType({name: rule for name, (rule, _) in _DESCRIPTIONS.items()})

HARD_REASONS = frozenset({'userunknown', 'hostunknown', 'hasmoved'})
NON_FAILURE_REASONS = frozenset({'delivered', 'feedback', 'vacation'})


def severity_of(reason: str, permanent: bool) -> Severity:
    """Severity for *reason*; *permanent* is True for a 5.x.x failure.

    Hard means "this address will never work": only the reasons that say so about
    the address itself.  Everything else (full mailbox, spam filters, blocks)
    is about this message or the sending side, so it is soft even when permanent.
    """
    if reason in NON_FAILURE_REASONS:
        return Severity.none
    if reason in HARD_REASONS or (reason == 'notaccept' and permanent):
        return Severity.hard
    return Severity.soft


# Status code (without its class digit) -> reason, when the code alone is decisive.
DECISIVE_STATUS = {
    '1.1': 'userunknown', '1.2': 'hostunknown', '1.3': 'userunknown', '1.6': 'hasmoved',
    '1.8': 'rejected', '1.7': 'rejected', '1.10': 'notaccept', '2.2': 'mailboxfull',
    '2.3': 'exceedlimit', '3.1': 'systemfull', '3.2': 'notaccept', '3.4': 'mesgtoobig', '3.5': 'systemerror',
    '4.7': 'expired', '5.3': 'toomanyconn', '6.1': 'contenterror',
    '7.13': 'suspend', '7.18': 'suspend', '7.25': 'requireptr',
    '7.26': 'authfailure', '7.27': 'notaccept', '7.20': 'authfailure', '7.21': 'authfailure',
    '7.22': 'authfailure', '7.23': 'authfailure', '7.24': 'authfailure', '7.3': 'securityerror',
    '7.4': 'securityerror', '7.5': 'securityerror', '7.7': 'securityerror',
    '7.8': 'securityerror', '7.10': 'securityerror',
    '7.11': 'securityerror', '7.12': 'securityerror', '7.15': 'securityerror',
}
# Status codes that only hint at a reason: used when no phrase matches.
HINT_STATUS = {
    # x.1.4 "destination mailbox address ambiguous" (RFC 3463): the address
    # matches several mailboxes there, a fault of the receiving directory,
    # not a dead address.
    '1.0': 'userunknown', '1.4': 'systemerror', '1.5': 'userunknown',
    '2.0': 'filtered', '2.1': 'suspend', '2.4': 'systemerror',
    '3.3': 'systemerror', '4.0': 'networkerror', '4.1': 'expired',
    '4.2': 'networkerror', '4.3': 'systemerror', '4.4': 'hostunknown', '4.5': 'toomanyconn',
    '4.6': 'networkerror', '5.0': 'syntaxerror', '6.0': 'contenterror', '5.1': 'syntaxerror', '5.2': 'syntaxerror',
    '5.4': 'syntaxerror', '5.5': 'syntaxerror', '6.2': 'contenterror', '6.3': 'contenterror',
    '6.4': 'contenterror', '6.5': 'contenterror', '7.0': 'securityerror', '7.1': 'rejected',
    '7.2': 'systemerror', '7.6': 'securityerror',
    # x.7.17 "mailbox owner has changed"; qmail sites misuse it for a missing
    # mailbox, so the wording decides first.
    '7.17': 'hasmoved',
    # RFC 4954: x.7.9 "authentication mechanism is too weak".
    '7.9': 'securityerror',
}

# Phrase tables, most specific reasons first: the first reason whose phrases
# match the (lower-cased) diagnostic wins.  Plain data, one regex per reason.
PHRASES: list[tuple[str, tuple[str, ...]]] = [
    ('userunknown:strong', (
        # Microsoft's directory-based edge blocking: the recipient is not in the directory.
        r'recipient address rejected: access denied(?![.,;:]? *(?:by|due|because|for|per|as)\b)',
    )),
    ('spamdetected', (
        # The server says outright that it judged the message spam; advice that
        # follows (e.g. "set up SPF records") is not the cause.
        r'(?:rejected|refused|blocked) (?:due to|because of) spam classification',
        r'(?:classified|flagged|identified|detected) as spam\b',
        r'(?:failed|did not pass) .{0,30}(?:anti-?spam|spam) (?:checks?|filters?|tests?)',
        r'appears? to be (?:spam|unsolicited)', r'\bdspam\b', r'mass mail(?:er|ing)',
    )),
    ('virusdetected', (
        r'\bvirus', r'malware', r'infected', r'trojan', r'\bworm\b',
    )),
    ('norelaying', (
        r'relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed)|prohibited)',
        r'(?:not permitted|unable|not allowed|not authori[sz]ed|cannot|can.t) to relay',
        r'we do not relay', r'no relaying', r'relaying (?:mail )?(?:to .{1,60} )?(?:is )?not allowed',
        r'relay not permitted', r'not local host', r'relay denied', r'not configured to relay',
        r'insecure mail relay', r'not an open relay', r'relaying denied', r'use me .{0,80}as a relay',
        r'(?:not|n.t) in my list of allowed rcpthosts',  # qmail's refusal to relay
    )),
    ('hasmoved', (
        r'has been replaced by', r'address has (?:been )?(?:moved|changed)', r'moved permanently',
        r'user has moved', r'new address is',
    )),
    ('badreputation', (
        r'reputation', r'poor sending', r'user complaints', r'sending ip .{0,40}(?:low|poor)',
    )),
    ('speeding', (
        r'(?<!connection )rate limit', r'too much mail from', r'(?:sending|message|receiving) rate', r'rate (?:that|of)',
        r'throttl', r'too fast', r'too many (?:messages|mails|emails|recipients) (?:from|sent)',
        r'too many (?:messages|mails|emails|recipients) in (?:a short|an? |the last |one )', r'slow down', r'exceeded (?:the )?(?:hourly|daily) (?:sending )?(?:limit|quota)',
        r'sending limits?', r'(?:per|this|an|each|the last) (?:hour|minute|day)\b',
    )),
    ('toomanyconn', (
        r'too many (?:connections|concurrent|simultaneous|sessions|smtp sessions|recipients)',
        r'connection (?:limit|rate limit)', r'too many hosts', r'maximum number of connections',
        r'too many open connections', r'frequency limit',
    )),
    ('mailboxfull', (
        r'mail ?box (?:is )?(?:full|over)', r'mailbox size limit', r'over (?:the |his |her )?(?:allowed )?quota', r'space (?:has been |is )?used up', r'mail ?file size exceeds',
        r'quota (?:exceeded|full|violation|limit)', r'exceeds? (?:the |his |her |their )?(?:storage |mailbox |disk )?quota',
        r'exceeded (?:the |his |her |their |its )?(?:storage |mailbox |disk )?(?:quota|storage)',
        r'(?:inbox|account|mailfolder|mail folder|mailbox|box) (?:is |was )?full',
        r'out of (?:storage|disk)? ?quota', r'disk quota', r'insufficient (?:disk )?space in',
        r'not enough (?:storage |disk )?(?:space|storage) (?:in|for)', r'maildir over quota', r'user is over',
        r'mailbox (?:has )?exceeded', r'mailbox exceeds', r'full mailbox', r'storage (?:full|limit)',
        r'would exceed (?:the )?(?:maximum |max )?(?:allowed )?(?:mailbox )?(?:quota|storage)', r'no space left in mailbox', r'overquota',
        r'mail box full', r'boite .{0,20}pleine', r'reached (?:its|the) (?:storage|quota)',
        r'exceed(?:s|ed|ing)? (?:the |his |her |their |its )?(?:storage |mailbox |disk )?quota',
        (r'too (?:many|much) (?:messages|mails?) (?:stored )?(?:on|in) (?:the |this |his |her |their )?'
        r'(?:server|mail ?box|account)'), r'(?:does not|doesn.t) have enough (?:disk |storage )?space',
        r'quota usage exceeded',
    )),
    ('exceedlimit', (
        r'message (?:length|size) exceeds? (?:the )?(?:administrative|per[- ]recipient)',
        r'exceeds? (?:the )?(?:administrative|per[- ]recipient) limit',
        r'message header size exceeds', r'header (?:size )?(?:too large|exceeds)',
    )),
    ('mesgtoobig', (
        r'message (?:is |was )?too (?:big|large|long)', r'message size exceeds',
        r'exceeds? (?:the |our )?(?:maximum |max )?(?:allowed |permitted )?(?:message )?size',
        r'(?:message|mail) size (?:limit|too)', r'size (?:limit )?exceeded', r'too big for',
        r'message length exceeds', r'message file too big', r'larger than .{0,40}(?:limit|allowed)',
        r'size of (?:the )?message', r'exceeds? (?:the )?(?:fixed )?maximum message size',
        r'message too large', r'mail too large', r'email is too large',
        r'(?<!mailbox )(?<!quota )\bsize limit\b',
        r'exceeds? (?:the |our )?(?:fixed )?(?:maximum|max)\b(?:(?!mailbox|quota|storage|disk)[\w ]){0,20}\bsize',
        r'exceed(?:s|ed|ing)? (?:the |our |your )?(?:maximum|max|allowed|permitted)\b[\w ]{0,20}(?:message|mail) size',
    )),
    ('systemfull', (
        r'insufficient system storage', r'(?:mail )?system (?:is )?full', r'disk (?:is )?full',
        r'out of disk space', r'no space left on device', r'not enough (?:system )?storage',
        r'insufficient (?:disk )?space(?! in)',
    )),
    ('mailererror', (
        # The local delivery program (a pipe, procmail, a filter script)
        # failed: whatever its output quotes ("Missing header", "RFC822 parse
        # error") is about that program, not a verdict on the message.
        r'command died', r'x-unix;', r'\bprocmail\b', r'command output', r'child process',
        r'unknown mailer', r'program (?:not found|exited|failed)', r'\bpipe to \|',
    )),
    ('authfailure', (
        # SPF, DKIM or DMARC named together with a verdict: the name alone
        # (a header called DKIM-Signature, advice to publish SPF) is no failure.
        (r'\b(?:spf|dkim|dmarc)\b(?!-signature).{0,40}(?:fail|reject|refus|invalid|not pass|did not|check|polic|'
        r'alignment|quarantine|softfail|permerror|temperror|none\b)'),
        (r'(?:fail|reject|invalid|bad|not pass|did not pass|violat|not allowed|not permitted|not authori)'
        r'\w*.{0,40}\b(?:spf|dkim|dmarc)\b(?!-signature)'),
        r'sender policy framework', r'domainkeys',
        r'authentication (?:check|checks) failed', r'unauthenticated email',
        r'is not authorized to send on behalf', r'not permitted by domain',
        r'sender (?:address )?(?:is )?not authenticated',
    )),
    ('requireptr', (
        r'reverse (?:dns|lookup|hostname|address)', r'\bptr\b', r'\brdns\b',
        r'cannot find your (?:reverse )?hostname', r'hostname (?:does not|doesn.t) resolve',
        r'cannot resolve your', r'unresolvable (?:client |relay )?(?:host ?)?name', r'no reverse',
        r'name lookup failed for', r'ip name lookup failed', r'client host .{0,60}unknown',
        r'(?:unable|cannot|could not) to? ?resolve (?:the )?(?:ip|host|client)',
        r'not have (?:a )?(?:valid )?reverse', r'dns (?:name|hostname) .{0,30}does not match',
        r'ip (?:address )?has no (?:ptr|name)', r'hostname .{0,40}is not resolvable',
        r'(?:mismatch(?:es)?|does not match) (?:the )?client ip', r'unverif(?:y|i)able sending ips?',
    )),
    ('notcompliantrfc', (
        r'rfc ?5322', r'rfc ?2822', r'rfc ?822', r'rfc ?5321', r'not (?:rfc|standards?)[- ]compliant',
        r'(?:duplicate|multiple|more than one) .{0,20}headers?', r'header (?:is )?(?:missing|invalid)',
        r'missing .{0,20}header', r'bare (?:line ?feed|lf)', r'does not conform',
        r'not (?:in )?compliance with', r'non[- ]compliant', r'multiple addresses in from',
    )),
    ('blocked:strong', (
        # Block lists are named as such: "blocked by ROTA DNSBL. If you are not a
        # spammer ..." is about the sending host, whatever else it mentions.
        r'\brbl\b', r'dnsbl', r'spamhaus', r'spamcop', r'(?<!not )listed (?:at|on|in|by)',
        r'client host .{0,80}(?:rejected|blocked|refused)',
        r'\b(?:ip|host) (?:address )?.{0,40}(?:is |has been )?(?:blocked|banned|blacklisted|blocklisted)',
        # The sending host is said to send spam: about the host, not this message.
        r'(?:you are|currently|is) sending spam', r'spams? from your (?:ip|host|server|network)',
        r'like (?:a )?spammer', r'\bips (?:are )?blocked', r'open proxy',
    )),
    ('spamdetected', (
        r'\bspam(?!haus|cop)', r'\bjunk(?: ?e?-?mail)?\b', r'unsolicited', r'bulk (?:e-?mail|mail)', r'mail appears to be',
        r'message (?:was |has been )?(?:classified|identified|detected|flagged) as',
        r'content filter', r'content (?:reject|refus|deni)', r'rejecting (?:mail |message )?content', r'\buce\b', r'scored? (?:too )?high', r'suspicious',
        r'phishing', r'message content rejected', r'contains? (?:a )?(?:url|link)',
        r'sorbs', r'scam', r'rejected due to content', r'uribl', r'blacklisted (?:url|link)',
    )),
    ('policyviolation', (
        r'polic(?:y|ies) violation', r'violat(?:es|ed|ion of) (?:our |the )?(?:\w+ )?polic',
        r'attachment', r'prohibited', r'executable', r'not allowed (?:content|file)',
        r'dangerous', r'banned (?:file|content|attachment)', r'message (?:was )?not accepted',
        r'restricted (?:content|file)', r'(?:local|security|content|email|message|organi[sz]ation(?:al)?) polic(?:y|ies)', r'organi[sz]ational settings',
        r'policy reasons?', r'due to (?:a )?polic', r'\b(?:our|site|local) polic(?:y|ies)\b', r'against (?:our |the )?polic', r'by policy',
    )),
    ('suspend:strong', (
        r'mailbox (?:is )?(?:currently |temporarily )?suspended', r'account (?:is |has been )?suspended',
    )),
    ('suspend', (
        r'suspended', r'disabled', r'deactivated', r'inactive', r'not active', r'no longer active',
        r'account (?:has been |is )?(?:locked|closed|frozen|expired|blocked|terminated|cancell?ed)',
        r'mailbox (?:is )?(?:locked|temporarily)', r'is not currently',
        r'(?<!resources )temporarily (?:disabled|unavailable|suspended)', r'expired account', r'dormant',
        r'(?:user|account|mailbox) (?:is )?not in service', r'this account has been', r'\blocked\b',
        r'(?:mailbox|account) (?:is )?frozen', r'(?:recipient|user).{0,4} account is (?:blocked|locked|disabled)',
    )),
    ('rejected', (
        r'sender (?:e-?mail )?(?:address |domain )?(?:was |is )?(?:rejected|refused|denied|unknown|invalid|not allowed|blocked)',
        r'sender (?:address |domain )?(?:is |has been )?(?:in (?:my|the|our) )?black ?list', r'\bbatv\b', r'bogus mail from',
        r'administrative prohibition', r'fully[- ]qualified (?:e-?mail )?address (?:is )?(?:required|needed)',
        r'need fully[- ]qualified address', r'not owned by (?:the )?(?:auth\w* )?user', r'address is not verified',
        r'[ée]metteur invalide', r'delivery not authori[sz]ed',  # RFC 3463's wording of x.7.1
        r'unroutable sender', r'sender verif', r'domain of sender', r'sender domain (?:must|does not|is)',
        r'(?:you are|you.re) sending (?:to/from|from) an address', r'invalid sender', r'bad sender',
        r'not (?:a )?member of', r'envelope sender', r'mail from .{0,40}(?:rejected|refused|denied)',
        r"'?send mail as'? (?:feature|account|address)",
    )),
    ('blocked', (
        r'blacklist', r'black list', r'blocklist', r'block list', r'denylist', r'\brbl\b',
        r'dnsbl', r'spamhaus', r'spamcop', r'barracuda', r'(?<!not )listed (?:at|on|in|by)',
        r'client host .{0,80}(?:rejected|blocked|refused)', r'your (?:ip|host|server|network)',
        r'(?:ip|host|address) .{0,40}(?:is |has been )?(?:blocked|banned|blacklisted|blocklisted)',
        r'dynamic (?:ip|address|pool)', r'dial-?up', r'residential',
        r'refused to talk', r'connection (?:refused|rejected) (?:by|from)', r'not allowed to connect',
        r'ip addresses? .{0,40}(?:not allowed|rejected)',
        r'sender ip', r'too many bad', r'blocked using', r'service permits', r'invalid ip',
        r'which is an open relay', r'messages from \S+ weren.t sent',
        r'(?:access|connections?) (?:is )?blocked',
        r'is not allowed to send', r'(?:helo|ehlo) command rejected',
        r'(?:smtp|mail|outgoing) server of your (?:isp|provider)',
    )),
    ('blocked:vague', (
        # "Access denied" alone does not say what was refused; in answer to
        # MAIL FROM it is the sender (see classify).
        r'access denied', r'denied',
    )),
    ('securityerror', (
        r'authentication (?:is )?required', r'auth(?:entication)? (?:failed|failure)', r'smtp authentication',
        r'(?:must|should) (?:issue|use) (?:a )?starttls', r'starttls', r'\btls\b', r'encryption',
        r'certificate', r'insecure', r'not authenticated', r'authentication credentials',
        r'access (?:is )?not (?:permitted|allowed)', r'unauthori[sz]ed', r'security',
        r'sender address (?:is )?(?:forged|spoofed)', r'forged', r'spoof', r'unauthenticated senders?',
    )),
    ('mailererror', (
        r'mailer error', r'command (?:died|failed)', r'program (?:not found|exited|failed)',
        r'pipe to', r'exit (?:code|status)', r'x-unix;', r'procmail', r'unknown mailer',
        r'local delivery failed', r'mail\.local(?![\w-]*\.\w)', r'command output', r'\bsh: ',
        r'return(?:ed)? (?:code|status) \d', r'child process',
    )),
    ('filtered:vague', (
        # RFC 5321's standard text for 550 covers "mailbox not found, no access,
        # or command rejected for policy reasons": it does not say the address
        # is unknown (a specific x.1.1 code still decides first).
        r'requested action not taken: mailbox unavailable',
    )),
    ('filtered', (
        # au/EZweb answer "550 : User unknown" (no address) when a domain filter refuses.
        r'filter', r'\b550 : user unknown', r'recipient (?:has )?(?:blocked|refused|rejected) (?:you|this|the|your|mail)',
        r'(?:blocked|refused|rejected) by (?:the )?recipient(?! domain|.s (?:mail )?server|.s domain)',
        r'not authori[sz]ed to (?:send|email)',
        r'due to (?:the )?(?:user|recipient)\S{0,2} (?:settings?|preferences?|restrictions?|rules?)',
        r'has restrictions', r'only accept(?:s|ing)? (?:mail|e-?mail|messages) from', r'refuses? to receive (?:mail|e-?mail|messages)',
        r'resolver\.rst\.notauthorized', r'not (?:accepting|accept) (?:mail|messages) from',
        r'recipient (?:has )?chosen to', r'refused by (?:the )?(?:user|recipient)',
        r'rejected for (?:policy )?reasons? by (?:the )?recipient',
        r'is not accepting (?:any )?(?:mail|email)', r'rejected by (?:the )?user',
    )),
    ('notaccept', (
        r'not accepting network messages',  # RFC 3463's wording of x.3.2
        r'does not accept (?:any )?mail', r'null mx', r'accepts? no mail', r'not accepting mail',
        r'no mail (?:is )?accepted', r'mail is not accepted', r'(?:does not|doesn.t) receive (?:e-?mails?|mail)',
        r'no smtp service', r'null mx', r'no mx (?:found|record)',
        r'(?:couldn.t|could not|unable to) find (?:a|any) mail exchanger',
    )),
    ('networkerror', (
        # The resolver could not get an answer this time (h_errno TRY_AGAIN,
        # SERVFAIL): the domain may well exist, so this is no "host unknown".
        r'not found, try again', r'temporary failure in name resolution', r'host name lookup failure',
        r'(?:host|network|destination) (?:is )?(?:unreachable|not reachable)',
        r'dns records? .{0,60}(?:could not|couldn.t|cannot) be found',
        r'temporary (?:dns|name ?server|name service|lookup) (?:failure|error|problem)',
    )),
    ('hostunknown', (
        r'bad destination (?:system|host|domain)',  # RFC 3463's wording of x.1.2
        r'host (?:or domain name )?(?:unknown|not found)', r'unknown (?:host|domain)',
        # ... but not "does not exist in our policy list": a list is no DNS.
        (r'domain (?:name )?(?:not found|does not exist|doesn.t exist|is not reachable|must exist|not exist)'
        r'(?! in (?:our|the|my|this|any|local)\b)'),
        r'no such domain', r'name or service not known', r'unrout(?:e)?able (?:mail )?domain',
        r'illegal host', r'dns lookup failure', r'host \S+ not found',
        r'[a-z0-9-]\.[a-z]{2,}\.? (?:does not|doesn.t) exist(?! in (?:our|the|my|this|any|local)\b)', r'host or domain name not found', r'nxdomain',
        r'recipient domain must exist', r'unrout(?:e)?able address', r'domain (?:is )?(?:invalid|unknown)',
        r'dns error', r'domain lookup failed', r'non-existent (?:host|domain)',
        r'domain .{0,60}(?:is not|isn.t) (?:a )?(?:valid|hosted|served|local)',
        r'all (?:relevant )?mx records point to non-existent hosts',
        r'couldn.t find any host named',
    )),
    ('userunknown:strong', (
        # Wording that states the address does not exist, whatever SMTP phase it
        # answered (Yahoo and La Poste refuse unknown users after DATA).
        r"(?:user|recipient) doesn.?t have an? .{1,60} account", r'adresse destinataire invalide',
        r'invalid recipient', r'check (?:if|that|whether) (?:the )?(?:e-?mail )?address is correct',
    )),
    ('userunknown', (
        r'user (?:is )?unknown', r'unknown (?:virtual )?(?:e-?mail )?(?:user|recipient|local[- ]?part|mailbox|address|account)',
        r'(?:user|recipient|address) (?:\S+ )?(?:was |is )?not (?:found|known)', r'validrcptto', r'badrcptto', r'badrecipientto',
        r'no one at this address', r'no longer accepts? (?:mail|e-?mail|messages)', r'not present in (?:the )?directory',
        r'mailbox is unavailable', r"can.t accept user",
        r'utilisateur inconnu', r'destinataire inconnu', r'usuario (?:desconocido|inexistente|no existe)',
        r'no existe (?:ese|dicho|el) usuario', r'no existe dicha persona', r'nessun utente', r'utente (?:sconosciuto|inesistente)',
        r'(?:empf[aä]nger|benutzer) unbekannt', r'unbekannte[rn]? (?:empf[aä]nger|benutzer)',
        r'no such (?:user|mailbox|recipient|address|account|local user|person)',
        r'(?:user|recipient|mailbox|address|account|addressee) (?:was )?(?:not found|does not exist|doesn.t exist|unknown|not exist|invalid|is invalid)',
        r'(?:invalid|bad|unknown|non-?existent|unavailable) (?:recipient|mailbox|user|address|destination|account)',
        r'(?:does not|doesn.t) exist(?! in (?:our|the|my|this|any|local)\b)', r'not a valid (?:recipient|mailbox|user|address)',
        r'no (?:such )?mail ?box', r'mailbox unavailable', r'bad[-_ ](?:recipient|mailbox|address|user)\b',
        r'not an? (?:active|valid|known) (?:e-?mail )?(?:address|mailbox|user|recipient|account)', r'mailbox not (?:found|present|available)',
        r'user not (?:listed|local|here)',
        r'could not be found', r'couldn.t be found', r'not (?:found|listed) in', r'no longer (?:valid|exists?|available)',
        r'recipnotfound', r'recipientnotfound', r'account (?:is )?(?:not|no longer) (?:available|valid)',
        r'undeliverable address', r'unknown or invalid', r'not our customer', r'is not a known',
        r'user doesn.t have', r'no account', r'not a (?:known|registered) user', r'destination mailbox address',
        r'address (?:is )?(?:not valid|invalid)', r'bad address',
        r'unknown$', r'user_unknown', r'invalid address', r'unknown user account', r'unknown in',
        r'no valid recipients', r'no one with that', r'unable to find (?:the )?(?:recipient|user|mailbox)',
        r'invalid final delivery userid', r'unknown or illegal alias', r'(?:name|address) is not recognized', r'recipient not found',
        r'ディレクトリ.{0,12}(?:ありません|見つかりません)', r'(?:宛先|アドレス).{0,12}(?:存在しません|見つかりません)',
    )),
    ('blocked', (
        # "Blocked" or "rejected by the server" without saying what was
        # blocked: a statement that the address does not exist (above) says
        # more ("550 Rejected by the server: user unknown").
        r'banned', r'server refused', r'rejected by (?:the )?(?:remote|destination)? ?(?:server|host)',
        r'blocked by', r'\bblocked\b',
    )),
    ('expired', (
        r'retry time(?:out)? (?:not reached|exceeded|expired)',
        r'did not accept our requests to connect', r'failing for a long time',
        r'could not be delivered (?:for|within|in)', r'(?:connection|operation) timed out',
        r'retry timeout', r'(?:failed|after) \d+ (?:delivery )?attempts',
        # Greylisting (RFC 6647): "try again later" by design; a delay, not
        # a refusal of the address.
        r'gr[ae]y-?list', r'after (?:multiple|several|many|repeated) (?:retries|attempts)',
        r'within the allowed (?:queue |delivery |retry )?(?:period|time)',
    )),
    ('networkerror', (
        r'connection (?:was |has been )?(?:refused|reset|lost|dropped|closed|failure|failed)',
        r'network (?:is )?unreachable', r'no route to host', r'could not connect', r'couldn.t connect',
        r'connect to .{0,80}(?:failed|refused)', r'too many hops', r'mail loop', r'loops? back to myself',
        r'routing loop', r'message looping', r'lost connection', r'dns (?:lookup|query|resolution) (?:failed|error|timeout)',
        r'temporary failure in name resolution', r'hop count exceeded', r'read timeout',
        r'failed to connect', r'connection to .{0,80}(?:failed|lost)',
        r'(?:establish|make|open) an? (?:smtp )?connection', r'network error', r'socket error',
        r'host not reachable', r'malformed or unexpected name server reply', r'loop detected',
        r'name server', r'nameserver', r'loop(?:ing)? ', r'too many (?:received|\"?received\"?) headers',
    )),
    ('systemerror', (
        r'system error', r'internal (?:server )?error', r'server error', r'config(?:uration)? error',
        r'temporary (?:local|server) (?:problem|failure)', r'temporary local problem', r'too many recursive', r'mailing list expansion',
        r'routing server failure', r'unable to process', r'i/o error', r'system (?:is )?(?:down|unavailable)',
        r'local error', r'server (?:is )?(?:busy|unavailable|down)', r'unable to contact', r'service (?:is )?(?:currently |temporarily )?(?:not )?(?:un)?available',
        r'temporarily (?:rejected|deferred)', r'unexpected', r'general failure',
        # An address the receiving directory cannot resolve to one mailbox
        # (RFC 3463's x.1.4): "not unique", "several matches found".
        r'(?:address|recipient|mailbox|user|name)\b.{0,60}\b(?:is )?(?:not unique|ambiguous)',
        r'ambiguous (?:address|recipient|mailbox|user)', r'(?:several|multiple) matches found',
    )),
    ('syntaxerror', (
        r'syntax error', r'command (?:unrecognized|not recognized|not implemented)',
        r'unrecognized command', r'invalid command', r'bad sequence of commands',
        r'parameters? (?:not recognized|unrecognized)', r'line too long', r'not implemented',
    )),
    ('contenterror', (
        r'content', r'media (?:error|type)', r'header', r'charset', r'encoding', r'\bmime\b', r'8-?bit', r'invalid character',
        r'malformed', r'message (?:contains|has) invalid',
    )),
    ('userunknown:vague', (
        # Postfix's "Recipient address rejected:" prefixes every RCPT refusal
        # (user unknown, access denied, greylisted, policy ...): it names the
        # reason only when nothing after it does.
        r'recipient address rejected', r'(?:address|recipient|user|mailbox) (?:rejected|refused)',
    )),
    ('expired:weak', (
        # The outcome, not the cause: "Message expired, DNS query failed" is a
        # DNS failure; these name the reason only when nothing else does.
        r'delivery time expired', r'message (?:has )?expired', r'delivery (?:attempts? )?(?:has )?expired',
        r'envelope expired',
        r'message (?:has been )?delayed', r'\bexpired\b', r'expir(?:y|ation)', r'giving up', r'gave up',
        r'time limit', r'too long in (?:the )?queue', r'queue(?:d)? (?:too long|timeout)',
        r'(?:has not|hasn.t) been delivered', r'not yet been delivered',
        r'will (?:keep|continue) (?:trying|retrying|to try)', r'delayed', r'deferred', r'timeout',
        r'timed out', r'still trying',
        # qmail gives up with "I'm not going to try again; this message has been
        # in the queue too long": the cause, if stated, is in the lines before.
        r'in the queue too long', r'not going to try again',
    )),
    ('onhold', ()),
]

# 'name:weak' tables hold vague wording ("giving up", "delayed"): it names the
# reason only when nothing more specific matches and no status code hints.
# 'name:strong' wording is explicit enough to stand whatever the SMTP phase.
# 'name:vague' wording names the reason, but the SMTP command may correct it.
def compile_phrases(tables: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str, re.Pattern[str]]]:
    """(reason, strength, one alternation) per table, in order."""
    return [(name.split(':')[0], name.partition(':')[2],
             re.compile('|'.join(f'(?:{phrase})' for phrase in phrases), re.ASCII))
            for name, phrases in tables if phrases]


#: The compiled phrase tables (the benchmark swaps them to leave entries out).
PHRASE_RES = compile_phrases(PHRASES)


# The local part is bounded: unbounded, a long run without '@' was scanned
# again from each of its characters (quadratic: 4,000 characters, 0.1 s).
# No address has a local part of 256 characters (RFC 5321: 64).
_NOT_WORDING_RE = re.compile(r'#[\w-]+|[^\s<>()\[\]"\',;:]{1,256}@[^\s<>()\[\]"\',;:]+')


MAX_TEXT = 4000  # a diagnostic's cause is in its first lines

# MTA boilerplate that contains reason words without being the reason.
_BOILERPLATE_RE = re.compile(r'delivery temporarily suspended:')


# "Will retry": the sending side has not given up.  RFC 3464 calls that
# Action: delayed whatever the last answer's class digit was.
_WILL_RETRY_RE = re.compile(
    r'will (?:continue|keep)(?: on)? (?:to )?(?:try|retry)|will (?:try|retry)(?: to deliver| delivery)? again|'
    r'will (?:be )?retr(?:y|ied)|will retry (?:for|until|delivery)|(?:delivery )?attempts will continue|'
    r'will (?:attempt|try) (?:to deliver|delivery) (?:again|for)|still (?:be )?(?:trying|retrying)|'
    r'warning message only|this is (?:just )?a warning|not yet been delivered|has been delayed|'
    r'do not need to (?:re-?send|take any action)',
)


# One of these words is in every phrase above: most texts have none, and
# testing them is much cheaper than the expression.
_WILL_RETRY_WORDS = ('will', 'warning', 'not yet', 'delayed', 'still', 'do not need')


def says_will_retry(text: str | None) -> bool:
    """True when *text* says delivery will be retried (a delay, not a failure)."""
    if not text:
        return False
    lowered = text.lower()
    if not any(word in lowered for word in _WILL_RETRY_WORDS):
        return False
    return _WILL_RETRY_RE.search(lowered) is not None


def reason_from_text(text: str | None) -> str | None:
    """The first reason whose phrases match *text* (any case), or ``None``."""
    return _match_text(text)[0] if text else None


def wording(text: str) -> str:
    """*text* as the phrase tables read it: lower case, bounded, without
    addresses and URL fragments ("filtered@example.com" or a help link ending
    in "#userunknown" must not decide the reason) or MTA boilerplate."""
    lowered = _NOT_WORDING_RE.sub('\x00', text[:MAX_TEXT].lower())
    if '\x00' in lowered:
        # A bare address between words leaves one space, so that they meet
        # again ("mailbox a@example.org not found").
        lowered = _REMOVED_RE.sub(' ', lowered)
    return _BOILERPLATE_RE.sub(' ', lowered)


_REMOVED_RE = re.compile(r' ?\x00 ?')


def _match_text(text: str) -> tuple[str | None, str]:
    """(reason, '', 'weak', 'vague' or 'strong': how the wording named it) for *text*."""
    lowered = wording(text)
    vague: tuple[str | None, str] = (None, '')
    for reason, strength, pattern in PHRASE_RES:
        if strength == 'vague':
            if vague[0] is None and pattern.search(lowered):
                vague = (reason, strength)
                # Words that name a reason outright after them ("mailbox
                # unavailable. Recipient not found") say more: the vague
                # words are set aside and the rest is read on.
                lowered = pattern.sub(' ', lowered)
            continue
        if pattern.search(lowered):
            return (reason, strength) if strength != 'weak' or vague[0] is None else vague
    return vague


def _status_key(status: str | None) -> str | None:
    if not status or len(status) < 5:
        return None
    return status.split('.', 1)[1]


# Reasons that, in answer to MAIL FROM, can only be about the sender.
_SENDER_SIDE_REASONS = frozenset({'userunknown', 'hostunknown', 'filtered', 'onhold', 'undefined'})
# What a bare SMTP reply code means when no wording names a reason (RFC 5321
# section 4.2.2 and 4.5.3.1.10; RFC 4954 for 530, 534, 535, 538).
_REPLY_CODE_HINT = {
    '552': 'mailboxfull',      # exceeded storage allocation
    '530': 'securityerror', '534': 'securityerror', '535': 'securityerror', '538': 'securityerror',
    '500': 'syntaxerror', '501': 'syntaxerror', '502': 'syntaxerror', '503': 'syntaxerror',
    '504': 'syntaxerror',
}


def classify(status: str | None, diagnostic: str | None, action: str | None = None,
             command: str | None = None, reply_code: str | None = None,
             provider: Callable[[], str | None] | None = None) -> str:
    """Decide the reason for one failed recipient, in this order:

    1. the enhanced status code (RFC 3463) when it is specific (``x.1.1``,
       ``x.2.2``, ``x.7.26`` ...), unless the wording names a reason the code
       is known to be misused for;
    2. the SMTP command the reply answered: a refusal of MAIL FROM is about the
       sender; "unknown user" after DATA (the recipient had been accepted at
       RCPT time) is a filter's answer;
    3. the phrase tables, one per reason, written for how mail servers word
       failures in general;
    4. the receiving provider's own table (*provider* returns its answer, if
       any; it is called only when the steps before leave the reason open);
    5. what is left: the status code's or the reply code's hint, vague
       wording, the DSN action; else ``onhold`` (words that name no reason)
       or ``undefined`` (no words at all).

    *command* is the SMTP command the remote server was answering and
    *reply_code* its reply code, when known.
    """
    reason = _classify(status, diagnostic, action, command, reply_code, provider)
    if reason == 'hostunknown' and status and status[0] == '4':
        # A temporary DNS failure: the domain may well exist.
        return 'networkerror'
    return reason


def _classify(status: str | None, diagnostic: str | None, action: str | None, command: str | None,
              reply_code: str | None, provider: Callable[[], str | None] | None) -> str:
    key = _status_key(status)
    text_reason, strength = _match_text(diagnostic) if diagnostic else (None, '')
    decisive = DECISIVE_STATUS.get(key) if key else None
    if decisive and not _text_overrides(decisive, text_reason, strength):
        return decisive                                                # 1
    klass = (status or reply_code or '')[:1]
    by_command = _by_command(command, text_reason, strength, decisive, klass == '4')
    if by_command:
        return by_command                                              # 2
    if text_reason and strength not in ('weak', 'vague'):
        return text_reason                                             # 3
    if decisive:
        return decisive     # overridden only by wording that names a reason
    by_provider = provider() if provider is not None else None
    if by_provider:
        return by_provider                                             # 4
    if action and action.startswith(('delayed', 'expired')) and not text_reason:
        return 'expired'    # still queued (or given up) with nothing said about why
    hint = HINT_STATUS.get(key) if key else None                       # 5
    if key == '4.1' and reply_code:
        # x.4.1 is "no answer from host" (RFC 3463): a server that answered
        # with a reply code contradicts it, so it hints nothing.
        hint = None
    if text_reason and key and key.endswith('.0'):
        # RFC 3463: a detail of 0 is "other or undefined" status within the
        # subject; even vague wording says more than that.
        return text_reason
    return hint or text_reason or _REPLY_CODE_HINT.get(reply_code or '') or (
        'expired' if action and action.startswith(('delayed', 'expired')) else
        'onhold' if diagnostic and diagnostic.strip() else 'undefined')


def _by_command(command: str | None, text_reason: str | None, strength: str,
                decisive: str | None, temporary: bool = False) -> str | None:
    """The reason the SMTP command decides, whatever the wording says."""
    if command == 'MAIL' and (text_reason in _SENDER_SIDE_REASONS or text_reason is None
                              or (text_reason == 'blocked' and strength == 'vague')):
        # Refused in answer to MAIL FROM: it is the sender that was rejected.
        return 'rejected'
    if command == 'HELO' and (text_reason is None or strength == 'vague') and not temporary:
        # Refused at the greeting or in answer to HELO/EHLO, before any
        # sender or recipient was named: it is the connecting host that was
        # refused.
        return 'blocked'
    if command == 'RCPT' and text_reason in ('userunknown', 'filtered') and strength == 'vague' \
            and not temporary:
        # Refused in answer to RCPT TO with RFC 5321's bare "mailbox
        # unavailable" (or "recipient rejected"): the refusal is about the
        # recipient address.
        return 'userunknown'
    if command == 'DATA' and text_reason == 'userunknown' and decisive != 'userunknown' \
            and strength != 'strong':
        # The server accepted the recipient at RCPT time, so the mailbox
        # exists: "unknown user" after the message data, without a 5.1.x
        # code, is a content filter's answer.
        return 'filtered'
    return None


_WORD_RE = re.compile(r'[^\W\d_]{2,}')


def has_wording(diagnostic: str | None) -> bool:
    """True when *diagnostic* says something besides addresses and punctuation."""
    return bool(diagnostic) and bool(_WORD_RE.search(_NOT_WORDING_RE.sub(' ', diagnostic or '')))


# A decisive status code can still be overridden by an unambiguous phrase: servers
# often answer 5.1.1 for a full mailbox or a filter rejection.
_OVERRIDABLE = {
    'userunknown': frozenset({'mailboxfull', 'filtered', 'speeding', 'mailererror', 'mesgtoobig', 'suspend',
                              'blocked', 'spamdetected', 'policyviolation', 'hostunknown'}),
    # x.3.1 "mail system full" for one user's full mailbox.
    'systemfull': frozenset({'mailboxfull'}),
    # x.7.3-x.7.15 (security) answered for a spam or virus verdict.
    'securityerror': frozenset({'spamdetected', 'virusdetected'}),
    'expired': frozenset({'hostunknown', 'mailboxfull', 'blocked', 'systemerror', 'requireptr', 'networkerror',
                          'systemfull', 'badreputation', 'notaccept'}),
    # Microsoft answers 5.1.10 (null MX in RFC 7505) for "RecipientNotFound".
    'notaccept': frozenset({'userunknown', 'toomanyconn', 'speeding'}),
}


def _text_overrides(decisive: str, text_reason: str | None, strength: str) -> bool:
    if not text_reason or text_reason == decisive or strength == 'vague':
        return False
    if decisive == 'userunknown' and text_reason in ('blocked', 'suspend') and strength != 'strong':
        # "Rejected by the server for the recipient domain" (a provider's
        # boilerplate) says nothing against an x.1.1; a block list named does.
        return False
    return text_reason in _OVERRIDABLE.get(decisive, frozenset())
