"""A list's own classification rules (see `mailman_bounces.policy.rules`)."""

from mailman.database.model import Model
from mailman.database.types import SAText, SAUnicode
from public import public
from sqlalchemy import Column, DateTime, Index, Integer, Unicode


@public
class ListRule(Model):
    """One rule of a list, applied in id order after the site's."""

    __tablename__ = 'bounces_rule'
    __table_args__ = (Index('ix_bounces_rule_list', 'list_id'),)

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode, nullable=False)
    pattern = Column(SAText, nullable=False)
    field = Column(Unicode(16), nullable=False)
    effect = Column(Unicode(16), nullable=False)
    reason = Column(Unicode(32))
    severity = Column(Unicode(8))
    comment = Column(SAText)
    created = Column(DateTime, nullable=False)
