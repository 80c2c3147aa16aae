"""Outage freezes: scoring suspended for a recipient domain or mail server."""

from mailman.database.model import Model
from mailman.database.types import SAUnicode
from public import public
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, Unicode, and_
from sqlalchemy.ext.hybrid import hybrid_method


@public
class OutageFreeze(Model):
    """Scoring is frozen for one domain or receiving server.

    ``list_id`` is None for a site-wide freeze.  A freeze is active while
    ``lifted`` is NULL and ``expires`` is in the future; it is kept
    afterwards as history.
    """

    __tablename__ = 'bounces_freeze'
    __table_args__ = (
        Index('ix_bounces_freeze_active', 'key_type', 'key', 'expires'),
        Index('ix_bounces_freeze_list', 'list_id'),
    )

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode)
    key_type = Column(Unicode(8), nullable=False)
    key = Column(SAUnicode, nullable=False)
    started = Column(DateTime, nullable=False)
    expires = Column(DateTime, nullable=False)
    lifted = Column(DateTime)
    lifted_by = Column(Unicode(16))
    bouncing = Column(Integer, nullable=False, default=0)
    members = Column(Integer, nullable=False, default=0)
    notified = Column(Boolean, nullable=False, default=False)
    # Whether the events it held have been handed to confirmation.
    released = Column(Boolean, nullable=False, default=False)
    # When the cap on unconfirmed freezes stopped its extension (the site
    # administrator was told then); NULL otherwise.
    capped = Column(DateTime)
    # A site administrator's confirmation: the cap until then, and who.
    confirmed_until = Column(DateTime)
    confirmed_by = Column(Unicode(16))

    @hybrid_method
    def in_force_at(self, when):
        """Is the freeze in force at `when` (not lifted, not expired)?
        On the class (or an alias of it) this is the SQL condition."""
        return self.lifted is None and self.expires > when

    @in_force_at.expression
    def in_force_at(cls, when):
        return and_(cls.lifted.is_(None), cls.expires > when)
