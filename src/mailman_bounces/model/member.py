"""The plugin's per-membership bounce state.

Core's Member row stays the source of truth for what core models
(bounce_score, last_bounce_received, total_warnings_sent, last_warning_sent),
so Postorius keeps showing them.  This row holds what core cannot: the exact
fractional score of weighted bounces, why the member was last scored or
disabled, and the state of an outstanding probe.

A new row starts from the policy's fresh standing
(`mailman_bounces.policy.scoring.FRESH_STANDING`), through the column
defaults; a reset puts columns back to those defaults (`initial`).
"""

from __future__ import annotations

from typing import Any

from mailman.database.model import Model
from mailman.database.types import SAUnicode
from public import public
from sqlalchemy import Column, Date, DateTime, Float, Index, Integer, Unicode

from mailman_bounces.policy.scoring import FRESH_STANDING

# A member's score, the bouncing run it counts and an outstanding probe:
# what restarts with the score (a probe went unbounced, delivery was
# re-enabled).
SCORE_COLUMNS = ('score', 'core_score', 'scored_day', 'day_weight',
                 'run_started', 'probe_sent', 'probe_token')
# What disabling a member by bounces set, cleared when delivery is enabled
# again.
DISABLED_COLUMNS = ('disabled_at', 'next_warning_check', 'probe_sent')
# Everything re-enabling a member clears.
STANDING_COLUMNS = (*SCORE_COLUMNS, *DISABLED_COLUMNS, 'sympa_level')


@public
class MemberBounceState(Model):
    """Bounce state of one membership (keyed by core's member row id)."""

    __tablename__ = 'bounces_member'
    __table_args__ = (
        Index('ix_bounces_member_list_email', 'list_id', 'email'),
        # Members whose score reached their list's threshold.
        Index('ix_bounces_member_list_score', 'list_id', 'score'),
        Index('ix_bounces_member_probe', 'probe_sent'),
        Index('ix_bounces_member_disabled', 'disabled_at'),
        # The warnings step reads only the members due for a look.
        Index('ix_bounces_member_warning_check', 'next_warning_check'),
    )

    member_id = Column(Integer, primary_key=True, autoincrement=False)
    list_id = Column(SAUnicode, nullable=False)
    email = Column(SAUnicode, nullable=False)
    # The exact weighted score, and the integer core held when we last wrote
    # it: if core's bounce_score was changed behind our back (e.g. by core's
    # own probe code), core wins and the exact score restarts from it.
    score = Column(Float, nullable=False, default=FRESH_STANDING['score'])
    # Core's integer of a fresh score.
    core_score = Column(Integer, nullable=False, default=0)
    last_reason = Column(Unicode(32))
    last_event_id = Column(Integer)
    disabled_reason = Column(Unicode(32))
    disabled_at = Column(DateTime)
    probe_sent = Column(DateTime)
    probe_token = Column(SAUnicode)
    # Mailman score mode: the last day that was scored and the weight it
    # added, so a heavier bounce later that day adds only the difference.
    scored_day = Column(Date)
    day_weight = Column(Float, nullable=False,
                        default=FRESH_STANDING['day_weight'])
    # The first scored bounce of the current bouncing run (reset when the
    # score goes stale), and the Sympa level reached in that run.
    run_started = Column(DateTime)
    sympa_level = Column(Integer, nullable=False,
                         default=FRESH_STANDING['sympa_level'])
    # The address the member was moved away from by failover, if any.
    failed_over_from = Column(SAUnicode)
    # While disabled: when the warnings step next looks at the member (its
    # next warning or removal is due, or a daily look for changes made
    # elsewhere: re-enabled, list settings changed).
    next_warning_check = Column(DateTime)

    @classmethod
    def initial(cls, *columns: str) -> dict[str, Any]:
        """The value each of `columns` has in a new row (its default, or
        NULL): what resetting it writes."""
        table = cls.__table__
        return {name: None if table.c[name].default is None
                else table.c[name].default.arg for name in columns}
