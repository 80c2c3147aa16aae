"""Daily snapshots of each list's post counter.

The Sympa score mode rates a member's bounces against the list's own
traffic; Mailman keeps only a running post counter (``post_id``), so the
periodic pass records it once a day.
"""

from mailman.database.model import Model
from mailman.database.types import SAUnicode
from public import public
from sqlalchemy import Column, Date, Integer


@public
class ListTraffic(Model):
    """The list's post counter at the first pass of a day."""

    __tablename__ = 'bounces_list_traffic'

    list_id = Column(SAUnicode, primary_key=True)
    day = Column(Date, primary_key=True)
    post_id = Column(Integer, nullable=False)
