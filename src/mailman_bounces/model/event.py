"""The plugin's bounce events and stored bounce messages."""

from mailman.database.model import Model
from mailman.database.types import Enum, SAText, SAUnicode
from mailman.interfaces.bounce import BounceContext
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Unicode,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects import mysql
from zope.interface import implementer

from mailman_bounces.interfaces.event import (
    IClassifiedBounceEvent,
    IStoredBounce,
)

# The columns of the index of a list's events (see BounceEvent): every
# column a list's statistics read (evidence since 0014_event_days).
LIST_COVER = ('list_id', 'timestamp', 'id', 'reason', 'severity', 'kind',
              'domain', 'email', 'evidence')

# MySQL's plain BLOB holds 64 KiB; bounces with their original attached are
# often bigger.
_Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql')


@public
@implementer(IStoredBounce)
class StoredBounce(Model):
    """See `IStoredBounce`."""

    __tablename__ = 'bounces_message'
    __table_args__ = (
        UniqueConstraint('fingerprint', name='uq_bounces_message_fingerprint'),
        Index('ix_bounces_message_received', 'received'),
    )

    id = Column(Integer, primary_key=True)
    message_id = Column(SAUnicode)
    fingerprint = Column(Unicode(64), nullable=False)
    received = Column(DateTime, nullable=False)
    size = Column(Integer, nullable=False)
    truncated = Column(Boolean, nullable=False, default=False)
    content = Column(_Blob)


@public
@implementer(IClassifiedBounceEvent)
class BounceEvent(Model):
    """See `IClassifiedBounceEvent`."""

    __tablename__ = 'bounces_event'
    __table_args__ = (
        # The same bounce delivered twice is registered once.
        UniqueConstraint('fingerprint', 'list_id', 'email', 'context',
                         name='uq_bounces_event_delivery'),
        # The periodic pass claims unprocessed events in id order.
        Index('ix_bounces_event_processed', 'processed', 'id'),
        # A member's history, newest first.
        Index('ix_bounces_event_member', 'list_id', 'email', 'timestamp'),
        # The REST listings (0007_rest_indexes): each documented filter,
        # then the listing's order, so that a page's ids and the listing's
        # size are read from an index alone.  They also serve per-list
        # statistics, time ranges (outage detection, retention) and the
        # events of one domain in a window (an outage freeze's).
        Index('ix_bounces_event_time_id', 'timestamp', 'id'),
        # A list's: with the columns its statistics read, so that those
        # read the index alone, not the list's rows scattered over the
        # table (MySQL's key length limit leaves them out there).
        Index('ix_bounces_event_list_cover', *LIST_COVER).ddl_if(
            dialect=('postgresql', 'sqlite')),
        Index('ix_bounces_event_list_page', *LIST_COVER[:3]).ddl_if(
            dialect='mysql'),
        Index('ix_bounces_event_domain_page', 'domain', 'timestamp', 'id'),
        # With the severity, for the reason and severity filters together.
        Index('ix_bounces_event_reason_page', 'reason', 'timestamp', 'id',
              'severity'),
        Index('ix_bounces_event_email_page', 'email', 'timestamp', 'id'),
        Index('ix_bounces_event_severity_page', 'severity', 'timestamp',
              'id'),
        Index('ix_bounces_event_kind_page', 'kind', 'timestamp', 'id'),
        Index('ix_bounces_event_context_page', 'context', 'timestamp', 'id'),
        Index('ix_bounces_event_outcome_page', 'outcome', 'timestamp', 'id'),
        Index('ix_bounces_event_evidence_page', 'evidence', 'timestamp',
              'id'),
        # The events not yet counted in the per-day summary (EventDay): a
        # few, found without reading the others (0014_event_days).  MySQL
        # has no partial indexes.
        Index('ix_bounces_event_unsummarized', 'timestamp', 'id',
              postgresql_where=text('NOT summarized'),
              sqlite_where=text('summarized = 0')).ddl_if(
            dialect=('postgresql', 'sqlite')),
        Index('ix_bounces_event_summarized', 'summarized', 'timestamp',
              'id').ddl_if(dialect='mysql'),
        # The events of one receiving server in a window.
        Index('ix_bounces_event_mta_time', 'remote_mta', 'timestamp'),
        # Evicting a stored message checks that no event links to it.
        Index('ix_bounces_event_message', 'stored_message_id'),
    )

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode, nullable=False)
    email = Column(SAUnicode, nullable=False)
    original_recipient = Column(SAUnicode)
    final_recipient = Column(SAUnicode)
    domain = Column(SAUnicode)
    timestamp = Column(DateTime, nullable=False)
    message_id = Column(SAUnicode)
    context = Column(Enum(BounceContext), nullable=False)
    processed = Column(Boolean, nullable=False, default=False)
    kind = Column(Unicode(16), nullable=False, default='unknown')
    severity = Column(Unicode(8), nullable=False, default='none')
    reason = Column(Unicode(32), nullable=False, default='undefined')
    status = Column(Unicode(16))
    reply_code = Column(Unicode(8))
    diagnostic = Column(SAText)
    remote_mta = Column(SAUnicode)
    detector = Column(Unicode(64))
    feedback_type = Column(Unicode(32))
    fingerprint = Column(Unicode(64), nullable=False)
    stored_message_id = Column(
        Integer, ForeignKey('bounces_message.id', ondelete='SET NULL'))
    # The outage freeze that held this event back; while set, the event
    # waits for confirmation (a bounce after the outage) or dismissal.
    held_by = Column(Integer)
    outcome = Column(Unicode(32))
    score_delta = Column(Float)
    processed_at = Column(DateTime)
    # What the event rests on: verified (it came to a valid signed return
    # path), unverified (the plain -bounces address, core's unsigned VERP)
    # or forged (a signed-looking address whose MAC, key or expiry is
    # wrong: kept and shown, never scored).
    evidence = Column(Unicode(16), nullable=False, default='verified')
    # The ESP's id of the notification, for events from webhooks.
    provider_event_id = Column(Unicode(255))
    # The classification rule that changed this event (site:NAME or
    # list:ID), if any.
    rule = Column(SAUnicode)
    # Whether the event is counted in the per-day summary (EventDay).  The
    # server default matters: a row written without it (a bulk load, an
    # older release on another host) is simply not counted yet.
    summarized = Column(Boolean, nullable=False, default=False,
                        server_default=false())

    def __init__(self, list_id, email, message_id, context=None, **fields):
        super().__init__(**event_row(list_id, email, message_id, context,
                                     **fields))

    def __repr__(self):
        return (f'<BounceEvent {self.id} {self.list_id} {self.email} '
                f'{self.reason}>')


@public
def domain_of(email: str) -> str:
    """The recipient domain of `email`, as events record it."""
    return email.rpartition('@')[2].lower()


@public
def event_row(list_id: str, email: str, message_id: str | None,
              context: BounceContext | None = None, **fields) -> dict:
    """The column values of a new event (defaults filled in)."""
    row = {
        'list_id': list_id,
        'email': email,
        'domain': domain_of(email) or None,
        'message_id': message_id,
        'context': BounceContext.normal if context is None else context,
        'timestamp': now(),
        'processed': False,
        'kind': 'unknown',
        'severity': 'none',
        'reason': 'undefined',
        'original_recipient': None, 'final_recipient': None,
        'status': None, 'reply_code': None, 'diagnostic': None,
        'remote_mta': None, 'detector': None, 'feedback_type': None,
        # Callers of the IBounceProcessor interface are code in this
        # process (the outgoing runner's SMTP-time refusals, which our own
        # relay reported): their word is verified.  The bounce runner says
        # what each bounce from outside rests on.
        'evidence': 'verified',
        'fingerprint': None, 'stored_message_id': None, 'held_by': None,
        'outcome': None, 'score_delta': None, 'processed_at': None,
        'provider_event_id': None,
        'rule': None,
        'summarized': False,
    }
    row.update({key: value for key, value in fields.items()
                if value is not None or key not in ('kind', 'severity',
                                                    'reason', 'evidence')})
    return row
