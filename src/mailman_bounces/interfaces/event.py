"""Interfaces of classified bounce events and stored bounce messages."""

from mailman.interfaces.bounce import IBounceEvent
from public import public
from zope.interface import Attribute, Interface


@public
class IClassifiedBounceEvent(IBounceEvent):
    """A bounce event with everything the detector found out about it.

    Besides core's attributes (list_id, email, timestamp, message_id,
    context, processed) the plugin records why the message bounced and what
    the periodic pass did with it.
    """

    id = Attribute('The event id.')

    original_recipient = Attribute(
        """The address the list sent to, when the report names it
        (RFC 3464 Original-Recipient, X-Actual-Recipient, a VERP address).""")

    final_recipient = Attribute(
        'The address the receiving server reported as failing.')

    domain = Attribute("The domain of `email`, lower-cased.")

    kind = Attribute(
        "What the message was: 'bounce', 'delay', 'complaint' (an abuse "
        "report) or 'unknown' (registered without a recognised report).")

    severity = Attribute("'hard', 'soft' or 'none'.")

    reason = Attribute("Why it bounced, in Sisimai's vocabulary.")

    status = Attribute('The DSN status code, e.g. 5.1.1, or None.')

    reply_code = Attribute('The SMTP reply code, e.g. 550, or None.')

    diagnostic = Attribute('The diagnostic text of the receiving server.')

    remote_mta = Attribute('The receiving mail server, when reported.')

    detector = Attribute('Which format module recognised the report.')

    feedback_type = Attribute('The ARF feedback type of a complaint.')

    stored_message_id = Attribute(
        'The id of the stored copy of the bounce message, or None.')

    outcome = Attribute(
        """What the periodic pass did with the event, once processed:
        'scored', 'ignored', 'frozen', 'same-day', 'already-disabled',
        'probe', 'not-member', 'no-list', 'complaint' ...""")

    score_delta = Attribute('How much the event added to the score.')

    processed_at = Attribute('When the event was processed.')

    provider_event_id = Attribute(
        "The email service provider's id of the webhook notification the "
        'event came from, or None for a bounce message.')


@public
class IStoredBounce(Interface):
    """A bounce message kept for the retention period."""

    id = Attribute('The stored message id.')

    message_id = Attribute('The Message-ID header of the bounce.')

    fingerprint = Attribute(
        'A digest of the received bytes; the same bounce delivered twice '
        'has the same fingerprint.')

    received = Attribute('When it was stored.')

    size = Attribute('The size of the received message in bytes.')

    truncated = Attribute('Whether the stored copy was cut.')

    content = Attribute('The stored bytes.')
