"""The ordered list of format modules the engine tries.

Order matters: cheap, unambiguous checks first (a feedback report, a standard
DSN), then the plain-text formats of specific MTAs and providers, then
auto-replies, and last the generic heuristics that only apply when nothing
more specific did.

Standard DSNs are read by one parser, :mod:`.formats.rfc3464`, whoever sent
them; the modules in :data:`DSN_SENDERS` then only name the sender, so the
detector reads e.g. ``rfc3464/postfix``.
"""

from __future__ import annotations

from collections.abc import Callable

from .contracts import DSNSender, Format
from .formats import (
    amavis,
    amazonses,
    amazonworkmail,
    aol,
    arf,
    au,
    barracuda,
    biglobe,
    could_not_be_delivered,
    courier,
    domino,
    dragonfly,
    exchange2003,
    exchange2007,
    exim,
    facebook,
    fml,
    generic,
    gmail,
    gmx,
    had_delivery_errors,
    imailserver,
    james,
    mailfoundry,
    mailman,
    mailmarshal,
    mcafee,
    messagelabs,
    messagingserver,
    mfilter,
    mimecast,
    office365,
    opensmtpd,
    outlook,
    postfix,
    powermta,
    qmail,
    rfc3464,
    rfc3834,
    sendgrid,
    sendmail,
    surfcontrol,
    technical_details,
    trendmicro,
    trouble_delivering,
    unable_to_deliver,
    verizon,
    yahoo,
    yandex,
    zoho,
)
from .mail import Finding, Mail

Parser = Callable[[Mail], Finding | None]

MODULES: tuple[Format, ...] = (
    mailman,
    arf,
    amazonses,
    rfc3464,
    # Formats recognised by a header or a fixed banner: cheap, unambiguous.
    imailserver,
    zoho,
    postfix,
    opensmtpd,
    office365,
    gmx,
    exim,
    qmail,
    yahoo,
    dragonfly,
    gmail,
    sendmail,
    exchange2003,
    domino,
    au,
    fml,
    james,
    mailmarshal,
    mfilter,
    mimecast,
    mailfoundry,
    trendmicro,
    biglobe,
    verizon,
    aol,
    had_delivery_errors,
    unable_to_deliver,
    technical_details,
    could_not_be_delivered,
    trouble_delivering,
    rfc3834,
    generic,
)

#: (detector name, parse function), in the order they are tried.
FORMATS: tuple[tuple[str, Parser], ...] = tuple((module.NAME, module.parse) for module in MODULES)

# Who sent a standard DSN: services and gateways first (they often run on one
# of the MTAs below), then the MTAs.  Each check is a header or the text part's
# opening words, which the DSN parser has already decoded.
DSN_SENDER_MODULES: tuple[DSNSender, ...] = (
    amazonworkmail, amazonses, sendgrid, messagelabs, facebook, gmail, aol, outlook, yandex, au,
    barracuda, amavis, surfcontrol, mcafee, powermta, messagingserver, courier, opensmtpd,
    office365, exchange2007, domino, exim, postfix, sendmail,
)

#: (name, recognise function) of the senders of standard DSNs, in order.
DSN_SENDERS: tuple[tuple[str, Callable[[Mail], bool]], ...] = tuple(
    (module.NAME, module.recognise) for module in DSN_SENDER_MODULES)
DSN_PARSER = rfc3464.NAME


def dsn_sender(mail: Mail) -> str | None:
    """The name of the MTA or service that sent a standard DSN, if recognised."""
    for name, recognise in DSN_SENDERS:
        try:
            if recognise(mail):
                return name
        except Exception:  # noqa: BLE001, S112 - a broken message is "not this sender"
            continue
    return None
