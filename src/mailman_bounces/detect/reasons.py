"""Why a message bounced: the reason vocabulary, its severity, and the classifier.

The vocabulary is Sisimai's, so results compare directly with it.  A reason is
decided from two signals: the enhanced status code (RFC 3463), and the diagnostic
text, matched against phrase tables (the wording MTAs and providers actually use).
A precise status code wins over a vague phrase; a precise phrase wins over a vague
status code (``5.7.1``, ``5.0.0``, ``5.2.0`` ... say little on their own).
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .report import Severity

_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    # reason: (severity rule, one-line description)
    'userunknown': ('hard', 'the mailbox does not exist at the destination'),
    'hostunknown': ('hard', 'the domain does not exist or has no mail server'),
    'hasmoved': ('hard', 'the address has moved; a new one is given'),
    'notaccept': ('hard if 5.x.x, else soft', 'the destination accepts no mail (null MX, 5.3.2)'),
    'mailboxfull': ('soft', 'the mailbox is full or over quota'),
    'exceedlimit': ('soft', 'the message exceeds a per-recipient size limit (5.2.3)'),
    'systemfull': ('soft', 'the destination server is out of disk space'),
    'mesgtoobig': ('soft', 'the message is larger than the server accepts'),
    'filtered': ('soft', "rejected by the recipient's or domain's filter"),
    'rejected': ('soft', 'the envelope sender was rejected'),
    'blocked': ('soft', "the sending host's IP or name is blocked (blocklist, RBL)"),
    'spamdetected': ('soft', 'the message was judged to be spam'),
    'virusdetected': ('soft', 'the message was judged to carry a virus'),
    'policyviolation': ('soft', "the message violates the destination's policy"),
    'securityerror': ('soft', 'authentication or encryption (TLS) was required or failed'),
    'authfailure': ('soft', 'SPF, DKIM or DMARC failed'),
    'badreputation': ('soft', "the sending IP's reputation is too low"),
    'requireptr': ('soft', 'the sending host has no (matching) reverse DNS'),
    'notcompliantrfc': ('soft', 'the message does not comply with RFC 5322'),
    'norelaying': ('soft', 'relaying was refused'),
    'suspend': ('soft', 'the mailbox exists but is suspended or disabled'),
    'onhold': ('soft', 'a failure whose cause could not be decided'),
    'expired': ('soft', 'delivery time expired (retries exhausted) or delayed'),
    'networkerror': ('soft', 'network or DNS problem, mail loop, connection failure'),
    'mailererror': ('soft', 'the local delivery program (pipe, procmail) failed'),
    'systemerror': ('soft', 'an error on the destination server'),
    'toomanyconn': ('soft', 'too many connections or recipients at once'),
    'speeding': ('soft', 'rate limited: too many messages too fast'),
    'syntaxerror': ('soft', 'SMTP protocol or command syntax error'),
    'contenterror': ('soft', 'the content (headers, encoding, MIME) was refused'),
    'undefined': ('soft', 'a failure without any usable detail'),
    'delivered': ('none', 'delivered successfully (success DSN)'),
    'feedback': ('none', 'an abuse complaint (ARF feedback report)'),
    'vacation': ('none', 'an auto-reply / out-of-office message'),
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
    '4.7': 'expired', '5.3': 'toomanyconn', '6.0': 'contenterror', '6.1': 'contenterror',
    '7.13': 'suspend', '7.17': 'hasmoved', '7.18': 'suspend', '7.25': 'requireptr',
    '7.26': 'authfailure', '7.27': 'notaccept', '7.20': 'authfailure', '7.21': 'authfailure',
    '7.22': 'authfailure', '7.23': 'authfailure', '7.24': 'authfailure', '7.3': 'securityerror',
    '7.4': 'securityerror', '7.5': 'securityerror', '7.7': 'securityerror',
    '7.8': 'securityerror', '7.10': 'securityerror',
    '7.11': 'securityerror', '7.12': 'securityerror', '7.15': 'securityerror',
}
# Status codes that only hint at a reason: used when no phrase matches.
HINT_STATUS = {
    '1.0': 'userunknown', '1.4': 'userunknown', '1.5': 'userunknown',
    '2.0': 'filtered', '2.1': 'suspend', '2.4': 'systemerror', '3.0': 'systemerror',
    '3.3': 'systemerror', '4.0': 'networkerror', '4.1': 'expired',
    '4.2': 'networkerror', '4.3': 'systemerror', '4.4': 'hostunknown', '4.5': 'toomanyconn',
    '4.6': 'networkerror', '5.0': 'syntaxerror', '5.1': 'syntaxerror', '5.2': 'syntaxerror',
    '5.4': 'syntaxerror', '5.5': 'syntaxerror', '6.2': 'contenterror', '6.3': 'contenterror',
    '6.4': 'contenterror', '6.5': 'contenterror', '7.0': 'securityerror', '7.1': 'rejected',
    '7.2': 'systemerror', '7.6': 'securityerror',
    # RFC 4954: x.7.9 "authentication mechanism is too weak".
    '7.9': 'securityerror',
}

# Phrase tables, most specific reasons first: the first reason whose phrases
# match the (lower-cased) diagnostic wins.  Plain data, one regex per reason.
PHRASES: list[tuple[str, tuple[str, ...]]] = [
    ('userunknown:strong', (
        # Microsoft's directory-based edge blocking: the recipient is not in the directory.
        r'recipient address rejected: access denied',
    )),
    ('spamdetected', (
        # The server says outright that it judged the message spam; advice that
        # follows (e.g. "set up SPF records") is not the cause.
        r'(?:rejected|refused|blocked) (?:due to|because of) spam classification',
        r'(?:classified|flagged|identified|detected) as spam\b',
    )),
    ('virusdetected', (
        r'\bvirus', r'malware', r'infected', r'trojan', r'\bworm\b',
    )),
    ('norelaying', (
        r'relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed)|prohibited)',
        r'(?:not permitted|unable|not allowed|not authori[sz]ed|cannot|can.t) to relay',
        r'we do not relay', r'no relaying', r'relaying (?:mail )?(?:to .{1,60} )?(?:is )?not allowed',
        r'relay not permitted', r'not local host', r'relay denied', r'not configured to relay',
        r'insecure mail relay', r'relaying denied',
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
        r'(?<!connection )rate limit', r'(?:sending|message|receiving) rate', r'rate (?:that|of)',
        r'throttl', r'too fast', r'too many (?:messages|mails|emails|recipients) (?:from|sent|in)',
        r'too much mail', r'slow down', r'exceeded (?:the )?(?:hourly|daily) (?:sending )?(?:limit|quota)',
        r'sending limits?', r'(?:per|this|an|each|the last) (?:hour|minute|day)\b',
    )),
    ('toomanyconn', (
        r'too many (?:connections|concurrent|simultaneous|sessions|smtp sessions|recipients)',
        r'connection (?:limit|rate limit)', r'too many hosts', r'maximum number of connections',
        r'too many open connections', r'frequency limit',
    )),
    ('mailboxfull', (
        r'mail ?box (?:is )?(?:full|over)', r'mailbox size limit', r'over (?:the |his |her )?quota',
        r'quota (?:exceeded|full|violation|limit)', r'exceeds? (?:the |his |her |their )?(?:storage |mailbox |disk )?quota',
        r'exceeded (?:the |his |her |their |its )?(?:storage |mailbox |disk )?(?:quota|storage)',
        r'(?:inbox|account|mailfolder|mail folder|mailbox|box) (?:is |was )?full',
        r'out of (?:storage|disk)? ?quota', r'disk quota', r'insufficient (?:disk )?space in',
        r'not enough (?:storage|space) (?:in|for)', r'maildir over quota', r'user is over',
        r'mailbox (?:has )?exceeded', r'mailbox exceeds', r'full mailbox', r'storage (?:full|limit)',
        r'would exceed (?:the )?(?:mailbox )?quota', r'no space left in mailbox', r'overquota',
        r'mail box full', r'boite .{0,20}pleine', r'reached (?:its|the) (?:storage|quota)',
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
    )),
    ('systemfull', (
        r'insufficient system storage', r'(?:mail )?system (?:is )?full', r'disk (?:is )?full',
        r'out of disk space', r'no space left on device', r'not enough (?:system )?storage',
        r'insufficient (?:disk )?space(?! in)',
    )),
    ('authfailure', (
        r'\bspf\b', r'\bdkim\b', r'\bdmarc\b', r'sender policy framework', r'domainkeys',
        r'authentication (?:check|checks) failed', r'unauthenticated email',
        r'is not authorized to send on behalf', r'not permitted by domain',
        r'sender (?:address )?(?:is )?not authenticated',
    )),
    ('requireptr', (
        r'reverse (?:dns|lookup|hostname|address)', r'\bptr\b', r'\brdns\b',
        r'cannot find your (?:reverse )?hostname', r'hostname (?:does not|doesn.t) resolve',
        r'cannot resolve your', r'unresolvable (?:client )?(?:host)?name', r'no reverse',
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
    ('spamdetected', (
        r'\bspam(?!haus|cop)', r'\bjunk', r'unsolicited', r'bulk (?:e-?mail|mail)', r'mail appears to be',
        r'message (?:was |has been )?(?:classified|identified|detected|flagged) as',
        r'content filter', r'\buce\b', r'scored? (?:too )?high', r'suspicious',
        r'phishing', r'message content rejected', r'contains? (?:a )?(?:url|link)',
        r'sorbs', r'scam', r'rejected due to content', r'uribl', r'blacklisted (?:url|link)',
    )),
    ('policyviolation', (
        r'polic(?:y|ies) violation', r'violat(?:es|ed|ion of) (?:our |the )?(?:\w+ )?polic',
        r'attachment', r'prohibited', r'executable', r'not allowed (?:content|file)',
        r'dangerous', r'banned (?:file|content|attachment)', r'message (?:was )?not accepted',
        r'restricted (?:content|file)', r'(?:local|security|content|email|message) policy',
        r'policy reasons?', r'due to (?:a )?polic', r'against (?:our |the )?polic', r'by policy',
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
        r'sender (?:address |domain )?(?:was |is )?(?:rejected|refused|denied|unknown|invalid|not allowed|blocked)',
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
        r'banned', r'ip addresses? .{0,40}(?:not allowed|rejected)',
        r'sender ip', r'too many bad', r'blocked using', r'service permits', r'invalid ip',
        r'which is an open relay', r'messages from \S+ weren.t sent',
        r'(?:access|connections?) (?:is )?blocked', r'server refused',
        r'rejected by (?:the )?(?:remote|destination)? ?(?:server|host)',
        r'is not allowed to send', r'blocked by', r'\bblocked\b',
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
        r'local delivery failed', r'mail\.local', r'command output', r'\bsh: ',
        r'return(?:ed)? (?:code|status) \d', r'child process',
    )),
    ('filtered', (
        # au/EZweb answer "550 : User unknown" (no address) when a domain filter refuses.
        r'filter', r'\b550 : user unknown', r'badrcptto', r'recipient (?:has )?(?:blocked|refused|rejected) (?:you|this|the|your|mail)',
        r'(?:blocked|refused|rejected) by (?:the )?recipient', r'not authori[sz]ed to (?:send|email)',
        r'due to (?:the )?(?:user|recipient)s?.? (?:settings?|preferences?|restrictions?)',
        r'has restrictions', r'only accepts? mail from', r'not (?:accepting|accept) (?:mail|messages) from',
        r'recipient (?:has )?chosen to', r'refused by (?:the )?(?:user|recipient)',
        r'rejected for (?:policy )?reasons? by (?:the )?recipient', r'(?:user|recipient) rejected',
        r'is not accepting (?:mail|email)', r'rejected by (?:the )?user',
    )),
    ('notaccept', (
        r'not accepting network messages',  # RFC 3463's wording of x.3.2
        r'does not accept (?:any )?mail', r'null mx', r'accepts? no mail', r'not accepting mail',
        r'no mail (?:is )?accepted', r'mail is not accepted', r'(?:does not|doesn.t) receive (?:e-?mails?|mail)',
        r'no smtp service', r'null mx', r'no mx (?:found|record)',
        r'(?:couldn.t|could not|unable to) find (?:a|any) mail exchanger',
    )),
    ('hostunknown', (
        r'host (?:or domain name )?(?:unknown|not found)', r'unknown (?:host|domain)',
        r'domain (?:name )?(?:not found|does not exist|doesn.t exist|is not reachable|must exist|not exist)',
        r'no such domain', r'name or service not known', r'unrout(?:e)?able (?:mail )?domain',
        r'illegal host', r'dns lookup failure', r'host \S+ not found',
        r'(?:[a-z0-9-]+\.)+[a-z]{2,}\.? (?:does not|doesn.t) exist', r'host or domain name not found', r'nxdomain',
        r'recipient domain must exist', r'unrout(?:e)?able address', r'domain (?:is )?(?:invalid|unknown)',
        r'dns error', r'domain lookup failed', r'non-existent (?:host|domain)',
        r'domain .{0,60}(?:is not|isn.t) (?:a )?(?:valid|hosted|served|local)',
        r'host unreachable', r'all (?:relevant )?mx records point to non-existent hosts',
        r'couldn.t find any host named', r'host name lookup failure',
    )),
    ('userunknown:strong', (
        # Wording that states the address does not exist, whatever SMTP phase it
        # answered (Yahoo and La Poste refuse unknown users after DATA).
        r"(?:user|recipient) doesn.t have an? .{1,60} account", r'adresse destinataire invalide',
        r'invalid recipient', r'check (?:if|that|whether) (?:the )?(?:e-?mail )?address is correct',
    )),
    ('userunknown', (
        r'user (?:is )?unknown', r'unknown (?:user|recipient|local[- ]?part|mailbox|address|account)',
        r'no such (?:user|mailbox|recipient|address|account|local user|person)',
        r'(?:user|recipient|mailbox|address|account|addressee) (?:was )?(?:not found|does not exist|doesn.t exist|unknown|not exist|invalid|is invalid)',
        r'(?:invalid|bad|unknown|non-?existent|unavailable) (?:recipient|mailbox|user|address|destination|account)',
        r'does not exist', r'doesn.t exist', r'not a valid (?:recipient|mailbox|user|address)',
        r'no mailbox', r'mailbox unavailable', r'mailbox not (?:found|present|available)',
        r'(?:address|recipient|user|mailbox) (?:rejected|refused)', r'user not (?:listed|local|here)',
        r'could not be found', r'couldn.t be found', r'not (?:found|listed) in', r'no longer (?:valid|exists?|available)',
        r'recipnotfound', r'recipientnotfound', r'account (?:is )?(?:not|no longer) (?:available|valid)',
        r'undeliverable address', r'unknown or invalid', r'not our customer', r'is not a known',
        r'user doesn.t have', r'no account', r'not a (?:known|registered) user', r'destination mailbox address',
        r'address (?:is )?(?:not valid|invalid)', r'bad address', r'recipient address rejected',
        r'unknown$', r'user_unknown', r'invalid address', r'unknown user account', r'unknown in',
        r'no valid recipients', r'no one with that', r'unable to find (?:the )?(?:recipient|user|mailbox)',
        r'invalid final delivery userid', r'unknown or illegal alias', r'(?:name|address) is not recognized', r'recipient not found',
        r'ディレクトリ.{0,12}(?:ありません|見つかりません)', r'(?:宛先|アドレス).{0,12}(?:存在しません|見つかりません)',
    )),
    ('expired', (
        r'retry time(?:out)? (?:not reached|exceeded|expired)', r'delivery time expired',
        r'message (?:has )?expired', r'did not accept our requests to connect', r'failing for a long time',
        r'could not be delivered (?:for|within|in)', r'(?:connection|operation) timed out',
        r'retry timeout', r'delivery (?:attempts? )?(?:has )?expired', r'envelope expired',
    )),
    ('networkerror', (
        r'connection (?:refused|reset|lost|dropped|closed|failure|failed)',
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
    )),
    ('syntaxerror', (
        r'syntax error', r'command (?:unrecognized|not recognized|not implemented)',
        r'unrecognized command', r'invalid command', r'bad sequence of commands',
        r'parameters? (?:not recognized|unrecognized)', r'line too long', r'not implemented',
    )),
    ('contenterror', (
        r'content', r'header', r'charset', r'encoding', r'\bmime\b', r'8-?bit', r'invalid character',
        r'malformed', r'message (?:contains|has) invalid',
    )),
    ('expired:weak', (
        r'message (?:has been )?delayed', r'\bexpired\b', r'expir(?:y|ation)', r'giving up', r'gave up',
        r'time limit', r'too long in (?:the )?queue', r'queue(?:d)? (?:too long|timeout)',
        r'(?:has not|hasn.t) been delivered', r'not yet been delivered',
        r'will (?:keep|continue) (?:trying|retrying|to try)', r'delayed', r'deferred', r'timeout',
        r'timed out', r'still trying',
        # qmail gives up with "I'm not going to try again; this message has been
        # in the queue too long": the cause, if stated, is in the lines before.
        r'in the queue too long', r'not going to try again',
    )),
    ('systemerror:weak', (
        r'try again later',
    )),
    ('onhold', ()),
]

# 'name:weak' tables hold vague wording ("giving up", "delayed"): it names the
# reason only when nothing more specific matches and no status code hints.
# 'name:strong' wording is explicit enough to stand whatever the SMTP phase.
# 'name:vague' wording names the reason, but the SMTP command may correct it.
_PHRASE_RES: list[tuple[str, str, re.Pattern[str]]] = [
    (name.split(':')[0], name.partition(':')[2],
     re.compile('|'.join(f'(?:{phrase})' for phrase in phrases)))
    for name, phrases in PHRASES if phrases
]


_NOT_WORDING_RE = re.compile(r'#[\w-]+|[^\s<>()\[\]"\',;:]+@[^\s<>()\[\]"\',;:]+')


MAX_TEXT = 4000  # a diagnostic's cause is in its first lines

# MTA boilerplate that contains reason words without being the reason.
_BOILERPLATE_RE = re.compile(r'delivery temporarily suspended:')


def reason_from_text(text: str | None) -> str | None:
    """The first reason whose phrases match *text* (any case), or ``None``."""
    return _match_text(text)[0] if text else None


def _match_text(text: str) -> tuple[str | None, str]:
    """(reason, '' or 'weak' or 'strong': how the wording named it) for *text*."""
    # Addresses and URL fragments are not wording: "filtered@example.com" or a
    # help link ending in "#userunknown" must not decide the reason.
    lowered = _BOILERPLATE_RE.sub(' ', _NOT_WORDING_RE.sub(' ', text[:MAX_TEXT].lower()))
    for reason, strength, pattern in _PHRASE_RES:
        if pattern.search(lowered):
            return reason, strength
    return None, ''


def _status_key(status: str | None) -> str | None:
    if not status or len(status) < 5:
        return None
    return status.split('.', 1)[1]


# Reasons that, in answer to MAIL FROM, can only be about the sender.
_SENDER_SIDE_REASONS = frozenset({'userunknown', 'hostunknown', 'filtered', 'onhold', 'undefined'})

def classify(status: str | None, diagnostic: str | None, action: str | None = None,
             command: str | None = None) -> str:
    """Decide the reason for one failed recipient.

    *command* is the SMTP command the remote server was answering, when known.
    """
    reason = _classify(status, diagnostic, action)
    key = _status_key(status)
    status_says = DECISIVE_STATUS.get(key) if key else None
    if reason == 'userunknown' and status_says != 'userunknown' and command == 'DATA' \
            and _match_text(diagnostic or '')[1] != 'strong':
        # The server accepted the recipient at RCPT time, so the mailbox exists:
        # "unknown user" after the message data, without a 5.1.x code, is a
        # content filter's answer.  Soft: it says nothing sure about the address.
        return 'filtered'
    if command == 'MAIL' and (reason in _SENDER_SIDE_REASONS or
                              (reason == 'blocked' and _match_text(diagnostic or '')[1] == 'vague')):
        # Refused in answer to MAIL FROM: it is the sender that was rejected.
        return 'rejected'
    if reason == 'hostunknown' and status and status[0] == '4':
        # A temporary DNS failure: the domain may well exist.
        return 'networkerror'
    return reason


def _classify(status: str | None, diagnostic: str | None, action: str | None) -> str:
    key = _status_key(status)
    decisive = DECISIVE_STATUS.get(key) if key else None
    text_reason, strength = _match_text(diagnostic) if diagnostic else (None, '')
    if decisive and not _text_overrides(decisive, text_reason):
        return decisive
    hint = HINT_STATUS.get(key) if key else None
    if text_reason and not (hint and strength == 'weak'):
        return text_reason
    if decisive:
        return decisive
    if hint:
        return hint
    if text_reason:
        return text_reason
    if action and action.startswith(('delayed', 'expired')):
        return 'expired'
    return 'onhold' if has_wording(diagnostic) else 'undefined'


_WORD_RE = re.compile(r'[^\W\d_]{2,}')


def has_wording(diagnostic: str | None) -> bool:
    """True when *diagnostic* says something besides addresses and punctuation."""
    return bool(diagnostic) and bool(_WORD_RE.search(_NOT_WORDING_RE.sub(' ', diagnostic or '')))


# A decisive status code can still be overridden by an unambiguous phrase: servers
# often answer 5.1.1 for a full mailbox or a filter rejection.
_OVERRIDABLE = {
    'userunknown': frozenset({'mailboxfull', 'filtered', 'speeding', 'mailererror',
                              'blocked', 'spamdetected', 'policyviolation', 'hostunknown'}),
    'expired': frozenset({'hostunknown', 'mailboxfull', 'blocked', 'systemerror', 'requireptr', 'networkerror',
                          'systemfull', 'badreputation', 'notaccept'}),
    # Microsoft answers 5.1.10 (null MX in RFC 7505) for "RecipientNotFound".
    'notaccept': frozenset({'userunknown', 'toomanyconn', 'speeding'}),
}


def _text_overrides(decisive: str, text_reason: str | None) -> bool:
    if not text_reason or text_reason == decisive:
        return False
    return text_reason in _OVERRIDABLE.get(decisive, frozenset())
