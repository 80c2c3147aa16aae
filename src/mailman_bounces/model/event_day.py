"""How many bounce events there are per day, by their classification.

Counting the events of a REST listing read hundreds of thousands of index
entries for each request at a million events (and skipping to a deep page
as many again).  This table keeps, per day, the number of events of each
combination of the columns an event never changes after it is registered
(reason, severity, kind, context, evidence): a listing filtered on those
(and on a time range) is counted from it, and a deep page is found by
walking its days (`mailman_bounces.app.queries.event_days`).  The list,
address and domain are left out on purpose: their filters are fast through
their own indexes, and they would multiply the rows.

Maintained by the periodic pass (`mailman_bounces.app.event_summary`):
an event is counted here exactly when its ``summarized`` flag is set, and
the flag and the count change in the same transaction.
"""

from mailman.database.model import Model
from mailman.database.types import Enum
from mailman.interfaces.bounce import BounceContext
from public import public
from sqlalchemy import Column, Date, Integer, Unicode

# The event columns the summary counts by (after the day), in key order.
SUMMARY_KEYS = ('reason', 'severity', 'kind', 'context', 'evidence')


@public
class EventDay(Model):
    """The number of events of one day with one classification."""

    __tablename__ = 'bounces_event_day'

    # The day of the events' timestamps (UTC).
    day = Column(Date, primary_key=True)
    reason = Column(Unicode(32), primary_key=True)
    severity = Column(Unicode(8), primary_key=True)
    kind = Column(Unicode(16), primary_key=True)
    context = Column(Enum(BounceContext), primary_key=True)
    evidence = Column(Unicode(16), primary_key=True)
    events = Column(Integer, nullable=False)
