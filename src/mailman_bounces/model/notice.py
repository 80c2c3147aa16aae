"""The outbox of notices and mail-sending actions.

The periodic pass decides, in one transaction, what happens to members and
which notices go out; it records each notice here in that same transaction.
The notices are sent (and the mail-sending actions, such as probes and
removals, carried out) only after the decisions are committed, each marked
sent in the transaction that sends it.  A crash can therefore never send a
notice about a decision that was rolled back, nor lose one about a decision
that was kept.
"""

from mailman.database.model import Model
from mailman.database.types import SAText, SAUnicode
from public import public
from sqlalchemy import Column, DateTime, Index, Integer, Unicode, UniqueConstraint


@public
class Notice(Model):
    """One notice (or mail-sending action) waiting to be carried out."""

    __tablename__ = 'bounces_notice'
    __table_args__ = (
        Index('ix_bounces_notice_pending', 'sent', 'id'),
        # Summaries sent at most once per period carry a key.
        UniqueConstraint('dedup_key', name='uq_bounces_notice_dedup'),
    )

    id = Column(Integer, primary_key=True)
    created = Column(DateTime, nullable=False)
    kind = Column(Unicode(32), nullable=False)
    list_id = Column(SAUnicode)
    email = Column(SAUnicode)
    member_id = Column(Integer)
    event_id = Column(Integer)
    # JSON object with whatever the notice needs.
    data = Column(SAText)
    dedup_key = Column(SAUnicode)
    sent = Column(DateTime)
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(SAText)
