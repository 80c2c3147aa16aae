"""Set-based reading and writing of members' bounce standing.

A member's standing is spread over core's rows (member: bounce_score,
last_bounce_received, warnings; preferences: delivery_status) and the
plugin's ``bounces_member`` row.  `load_members` reads all of it for a set
of (list, address) pairs in a few queries, locking the member rows where
the database can, and `save_members` writes the results back with bulk
statements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mailman.config import config
from mailman.interfaces.member import DeliveryStatus, MemberRole
from mailman.model.address import Address
from mailman.model.member import Member
from mailman.model.preferences import Preferences
from mailman.model.user import User
from public import public
from sqlalchemy import select

from mailman_bounces.app.claims import for_update
from mailman_bounces.database.bulk_update import update_by_primary_key
from mailman_bounces.database.upsert import insert_ignoring_duplicates
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.policy.scoring import MemberFacts

# Core sets last_warning_sent to this when it disables a member, so that
# the first warning goes out at the next warnings pass.
NEVER_WARNED = datetime.min
# The member's standing the plugin's row holds under the policy's names.
_STATE_FACTS = ('scored_day', 'day_weight', 'run_started', 'sympa_level',
                'probe_sent', 'last_reason', 'disabled_reason')


@public
@dataclass
class LoadedMember:
    """A member's rows: what the policy sees, and what saving needs."""

    facts: MemberFacts
    list_id: str
    preferences_id: int
    user_id: int | None
    core_score: int
    state_exists: bool
    delivery_status: DeliveryStatus | None


def _member_rows(pairs: set[tuple[str, str]]):
    """Core rows of the members (role member) of the given pairs, by address
    subscription and by user (preferred address) subscription."""
    list_ids = sorted({list_id for list_id, _ in pairs})
    emails = sorted({email for _, email in pairs})
    # The role is checked here, not in SQL: given "role = member", which
    # nearly every row matches, SQLite's planner scans the role index
    # instead of looking the addresses up.
    columns = (Member.id, Member.list_id, Member.role, Member.bounce_score,
               Member.last_bounce_received, Member.preferences_id,
               Member.user_id, Preferences.delivery_status)
    by_address = (
        select(*columns, Address.email)
        .join(Preferences, Member.preferences_id == Preferences.id)
        .join(Address, Member.address_id == Address.id)
        .where(Member.list_id.in_(list_ids), Address.email.in_(emails)))
    by_user = (
        select(*columns, Address.email)
        .join(Preferences, Member.preferences_id == Preferences.id)
        .join(User, Member.user_id == User.id)
        .join(Address, User._preferred_address_id == Address.id)
        .where(Member.address_id.is_(None), Member.list_id.in_(list_ids),
               Address.email.in_(emails)))
    store = config.db.store
    rows = []
    for query in (by_address, by_user):
        # Lock in member id order: concurrent runners never deadlock.
        query = for_update(query.order_by(Member.id), of=Member)
        rows.extend(row for row in store.execute(query)
                    if row.role == MemberRole.member
                    and (row.list_id, row.email) in pairs)
    return rows


def _states(member_ids: Iterable[int]) -> dict[int, MemberBounceState]:
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    return {state.member_id: state for state in config.db.store.execute(
        select(MemberBounceState)
        .where(MemberBounceState.member_id.in_(ids))).scalars()}


def _exact_score(core_score: int, state: MemberBounceState | None) -> float:
    """The exact score: ours, unless core's integer changed behind us."""
    if state is None or state.core_score != core_score:
        return float(core_score or 0)
    return state.score


@public
def load_members(pairs: Iterable[tuple[str, str]]
                 ) -> dict[tuple[str, str], LoadedMember]:
    """The standing of each member among (list_id, email) `pairs`; pairs
    that are not members are missing from the result."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = _member_rows(pairs)
    states = _states(row.id for row in rows)
    loaded = {}
    for row in rows:
        state = states.get(row.id)
        disabled = row.delivery_status == DeliveryStatus.by_bounces
        # A member without a row yet has the fresh standing.
        standing = {} if state is None else {
            name: getattr(state, name) for name in _STATE_FACTS}
        facts = MemberFacts(
            member_id=row.id, email=row.email, disabled=disabled,
            score=_exact_score(row.bounce_score, state),
            last_bounce=row.last_bounce_received, **standing)
        loaded[(row.list_id, row.email)] = LoadedMember(
            facts=facts, list_id=row.list_id,
            preferences_id=row.preferences_id, user_id=row.user_id,
            core_score=row.bounce_score or 0, state_exists=state is not None,
            delivery_status=row.delivery_status)
    return loaded


@public
def core_score(score: float) -> int:
    """What core's integer bounce_score shows for an exact score."""
    return math.floor(score + 1e-9)


@public
def save_members(changes: list[tuple[LoadedMember, MemberFacts, dict]],
                 now: datetime) -> None:
    """Write each (loaded, new facts, extra state columns) back.

    Newly disabled members get core's disable treatment (delivery status
    by_bounces, warnings reset) and the plugin's disabled_at (and are due
    for the warnings step).
    """
    if not changes:
        return
    store = config.db.store
    # New rows start from the column defaults; the updates below set them.
    insert_ignoring_duplicates(store, MemberBounceState.__table__, [
        {'member_id': loaded.facts.member_id, 'list_id': loaded.list_id,
         'email': loaded.facts.email}
        for loaded, _, _ in changes if not loaded.state_exists])
    member_rows, preference_rows, state_rows = [], [], []
    for loaded, facts, extra in changes:
        core = extra.pop('core_score', core_score(facts.score))
        member_row = {'id': facts.member_id, 'bounce_score': core,
                      'last_bounce_received': facts.last_bounce}
        newly_disabled = facts.disabled and not loaded.facts.disabled
        if newly_disabled:
            member_row.update(total_warnings_sent=0,
                              last_warning_sent=NEVER_WARNED)
            preference_rows.append({'id': loaded.preferences_id,
                                    'delivery_status':
                                        DeliveryStatus.by_bounces})
            extra.setdefault('disabled_at', now)
            # The first warning goes out at the next warnings step.
            extra.setdefault('next_warning_check', now)
        member_rows.append(member_row)
        state_rows.append({
            'member_id': facts.member_id, 'score': facts.score,
            'core_score': core, 'last_reason': facts.last_reason,
            'scored_day': facts.scored_day, 'day_weight': facts.day_weight,
            'run_started': facts.run_started,
            'sympa_level': facts.sympa_level,
            'probe_sent': facts.probe_sent,
            'disabled_reason': facts.disabled_reason, **extra})
    update_by_primary_key(store, Member, member_rows)
    update_by_primary_key(store, Preferences, preference_rows)
    update_by_primary_key(store, MemberBounceState, state_rows)
