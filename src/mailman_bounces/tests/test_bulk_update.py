"""update_by_primary_key on each backend: the same rows as the ORM's bulk
update, one statement per set of columns on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from mailman_bounces.tests.helpers import (
    commit,
    make_list,
    member,
    sent_statements,
)

EMAILS = [f'm{number}@example.org' for number in range(6)]


def test_rows_with_their_own_values_and_columns(mailman):
    from mailman.config import config
    from mailman.interfaces.member import DeliveryStatus
    from mailman.model.member import Member
    from mailman.model.preferences import Preferences

    from mailman_bounces.database.bulk_update import update_by_primary_key
    mlist = make_list(members=EMAILS)
    members = [member(mlist, email) for email in EMAILS]
    ids = [found.id for found in members]
    when = datetime(2026, 11, 2, 3, 4, 5)
    rows = [{'id': ids[0], 'bounce_score': 3, 'last_bounce_received': when},
            {'id': ids[1], 'bounce_score': 0, 'last_bounce_received': None},
            # Another set of columns, and a row named twice: the last wins.
            {'id': ids[2], 'total_warnings_sent': 2},
            {'id': ids[2], 'total_warnings_sent': 7},
            {'id': ids[3], 'bounce_score': 9, 'last_bounce_received': when},
            # A row named twice with other attributes: both apply.
            {'id': ids[5], 'bounce_score': 2, 'last_bounce_received': when},
            {'id': ids[5], 'total_warnings_sent': 4}]
    store = config.db.store
    # Loaded objects see the new values (ids[4] is loaded and untouched).
    assert members[0].bounce_score == 0
    with sent_statements() as sent:
        update_by_primary_key(store, Member, rows)
    statements = [statement.text for statement in sent
                  if statement.text.lstrip().upper().startswith('UPDATE')]
    update_by_primary_key(store, Preferences, [
        {'id': members[1].preferences.id,
         'delivery_status': DeliveryStatus.by_bounces}])
    update_by_primary_key(store, Member, [])
    assert members[0].bounce_score == 3
    commit()
    got = {found.id: found for found in
           (member(mlist, email) for email in EMAILS)}
    assert (got[ids[0]].bounce_score, got[ids[0]].last_bounce_received) == (
        3, when)
    assert (got[ids[1]].bounce_score, got[ids[1]].last_bounce_received) == (
        0, None)
    assert got[ids[2]].total_warnings_sent == 7
    assert got[ids[3]].bounce_score == 9
    assert (got[ids[5]].bounce_score, got[ids[5]].last_bounce_received,
            got[ids[5]].total_warnings_sent) == (2, when, 4)
    assert got[ids[4]].bounce_score == 0
    assert got[ids[4]].total_warnings_sent == 0
    assert (got[ids[1]].preferences.delivery_status
            == DeliveryStatus.by_bounces)
    assert got[ids[0]].preferences.delivery_status != (
        DeliveryStatus.by_bounces)
    # One statement per set of columns (three, once the rows of ids[5] are
    # merged); on PostgreSQL the rows travel as arrays, not as one
    # statement per row.
    assert len(statements) == 3
    if config.db.engine.dialect.name == 'postgresql':
        assert all('unnest(' in statement for statement in statements)


def test_a_key_not_named_id_and_float_columns(mailman):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.database.bulk_update import update_by_primary_key
    from mailman_bounces.database.upsert import insert_ignoring_duplicates
    from mailman_bounces.model.member import MemberBounceState
    mlist = make_list(members=EMAILS[:2])
    ids = [member(mlist, email).id for email in EMAILS[:2]]
    store = config.db.store
    insert_ignoring_duplicates(store, MemberBounceState.__table__, [
        {'member_id': member_id, 'list_id': mlist.list_id, 'email': email,
         'score': 0.0, 'core_score': 0, 'day_weight': 0.0, 'sympa_level': 0}
        for member_id, email in zip(ids, EMAILS)])
    update_by_primary_key(store, MemberBounceState, [
        {'member_id': ids[0], 'score': 2.5, 'last_reason': 'mailboxfull'},
        {'member_id': ids[1], 'score': 0.5, 'last_reason': None}])
    commit()
    got = {state.member_id: (state.score, state.last_reason)
           for state in store.execute(select(MemberBounceState)).scalars()}
    assert got == {ids[0]: (2.5, 'mailboxfull'), ids[1]: (0.5, None)}


def test_inserted_rows_get_the_column_defaults(mailman):
    from mailman.config import config
    from sqlalchemy import select

    from mailman_bounces.database.upsert import insert_ignoring_duplicates
    from mailman_bounces.model.member import MemberBounceState
    mlist = make_list(members=EMAILS[:2])
    ids = [member(mlist, email).id for email in EMAILS[:2]]
    store = config.db.store
    # The second row is already there: its values stay.
    insert_ignoring_duplicates(store, MemberBounceState.__table__, [
        {'member_id': ids[1], 'list_id': mlist.list_id, 'email': EMAILS[1],
         'score': 1.5, 'core_score': 1, 'day_weight': 1.0, 'sympa_level': 2}])
    insert_ignoring_duplicates(store, MemberBounceState.__table__, [
        {'member_id': member_id, 'list_id': mlist.list_id, 'email': email}
        for member_id, email in zip(ids, EMAILS)])
    commit()
    got = {state.member_id: (state.score, state.core_score, state.day_weight,
                             state.sympa_level, state.disabled_at)
           for state in store.execute(select(MemberBounceState)).scalars()}
    # The model's column defaults: a member without any bounce.
    assert got == {ids[0]: (0.0, 0, 0.0, 0, None),
                   ids[1]: (1.5, 1, 1.0, 2, None)}
