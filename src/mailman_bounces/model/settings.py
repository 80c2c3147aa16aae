"""The plugin's per-list settings.

One row per list that changed at least one of the plugin's settings.  A NULL
column means "follow the site-wide default", so a site admin who changes a
default in the plugin configuration changes it for every list that did not
choose otherwise.  Core's own bounce settings are not copied here: they stay
on the mailing list.
"""

from mailman.database.model import Model
from mailman.database.types import SAText, SAUnicode
from public import public
from sqlalchemy import Boolean, Column, Float, Integer, Interval, Unicode


@public
class ListBounceSettings(Model):
    """Overrides of the plugin's per-list settings for one list."""

    __tablename__ = 'bounces_list_settings'

    list_id = Column(SAUnicode, primary_key=True)
    score_mode = Column(Unicode(16))
    score_threshold = Column(Float)
    complaint_action = Column(Unicode(16))
    notify_owner_on_complaint = Column(Boolean)
    notify_owner_on_ignored = Column(Boolean)
    probe_before_disable = Column(Boolean)
    probe_wait = Column(Interval)
    retention = Column(Interval)
    failover = Column(Boolean)
    sympa_min_count = Column(Integer)
    sympa_min_period = Column(Interval)
    sympa_level1 = Column(Float)
    sympa_level1_action = Column(Unicode(16))
    sympa_level2 = Column(Float)
    sympa_level2_action = Column(Unicode(16))
    # JSON object: reason -> weight, only the reasons the list changed.
    weights = Column(SAText)
    unverified_action = Column(Unicode(16))
    verp_rate = Column(Float)
    tracking = Column(Unicode(8))
    tracking_retention = Column(Interval)

    def __init__(self, list_id):
        super().__init__()
        self.list_id = list_id
