"""Message tracking: tracked posts, their deliveries and the reports about
them (see `mailman_bounces.app.tracking`).

A tracked post has one delivery row per recipient; the delivery's id is
the ident of the signed ``t`` token its return path, ENVID and
Disposition-Notification-To carry, so a report names its delivery without
naming any address.  Every report received (DSN or MDN, per recipient) is
kept with its times; the delivery row keeps the state they add up to.
"""

from mailman.database.model import Model
from mailman.database.types import SAText, SAUnicode
from public import public
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Unicode,
    UniqueConstraint,
)


@public
class TrackedPost(Model):
    """One post delivered with tracking on."""

    __tablename__ = 'bounces_tracked_post'
    __table_args__ = (
        UniqueConstraint('list_id', 'message_id',
                         name='uq_bounces_tracked_post_message'),
        Index('ix_bounces_tracked_post_list_sent', 'list_id', 'sent_at'),
    )

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode, nullable=False)
    message_id = Column(SAUnicode, nullable=False)
    subject = Column(SAText)
    # The list's tracking setting when the post was sent: dsn or mdn.
    mode = Column(Unicode(8), nullable=False)
    sent_at = Column(DateTime, nullable=False)


@public
class TrackedDelivery(Model):
    """One recipient's copy of a tracked post, and what became of it."""

    __tablename__ = 'bounces_tracked_delivery'
    __table_args__ = (
        UniqueConstraint('post_id', 'email',
                         name='uq_bounces_tracked_delivery_email'),
        Index('ix_bounces_tracked_delivery_list_sent', 'list_id',
              'sent_at'),
    )

    # The ident of the delivery's signed token.
    id = Column(Integer, primary_key=True)
    post_id = Column(Integer, nullable=False)
    list_id = Column(SAUnicode, nullable=False)
    email = Column(SAUnicode, nullable=False)
    member_id = Column(Integer)
    sent_at = Column(DateTime, nullable=False)
    # Whether the relay advertised DSN when the copy was handed over
    # (without it no success or delay report can come).
    dsn_supported = Column(Boolean, nullable=False)
    # sent, delayed, relayed, expanded, delivered or failed
    # (`mailman_bounces.policy.tracking.STATES`), and since when.
    state = Column(Unicode(16), nullable=False)
    state_at = Column(DateTime, nullable=False)
    # The last DSN about the copy.
    status = Column(Unicode(16))
    diagnostic = Column(SAText)
    # The last MDN's disposition type (displayed, deleted ...) and time.
    disposition = Column(Unicode(16))
    disposition_at = Column(DateTime)


@public
class ReceivedReport(Model):
    """One report (a DSN's or MDN's record about one recipient) received
    for a tracked delivery; a forged one names no delivery."""

    __tablename__ = 'bounces_tracking_report'
    __table_args__ = (
        # The same message received twice (redelivered, fetched again) is
        # one report per record, stored once.
        UniqueConstraint('fingerprint', 'position',
                         name='uq_bounces_tracking_report_record'),
        Index('ix_bounces_tracking_report_delivery', 'delivery_id'),
        Index('ix_bounces_tracking_report_list_received', 'list_id',
              'received'),
    )

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode, nullable=False)
    delivery_id = Column(Integer)
    # verified or forged (`mailman_bounces.signing.EVIDENCE`).
    evidence = Column(Unicode(16), nullable=False)
    # dsn or mdn; the DSN action or MDN disposition type.
    kind = Column(Unicode(8), nullable=False)
    value = Column(Unicode(16), nullable=False)
    status = Column(Unicode(16))
    diagnostic = Column(SAText)
    # When the reporter says it happened (Arrival-Date, Date), and when the
    # report was received.
    reported = Column(DateTime)
    received = Column(DateTime, nullable=False)
    message_id = Column(SAUnicode)
    # The digest of the message as received, and the record's place in it.
    fingerprint = Column(Unicode(64))
    position = Column(Integer)
