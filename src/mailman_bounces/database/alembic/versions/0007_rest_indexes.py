"""Index the events for the REST API's listings.

Each documented filter of ``events`` gets an index on the filtered column,
then the listing's order (timestamp, id): the page's ids and the listing's
size are then read from the index alone (PostgreSQL: index-only scans),
however deep the page, instead of whole rows.  The indexes they supersede
(the same columns without the id) are dropped.

Revision ID: 0007_rest_indexes
Revises: 0006_domain_members
Create Date: 2026-12-01
"""

from alembic import op

revision = '0007_rest_indexes'
down_revision = '0006_domain_members'

TABLE = 'bounces_event'
# Superseded: name -> columns.
OLD = {
    'ix_bounces_event_time': ['timestamp'],
    'ix_bounces_event_list_time': ['list_id', 'timestamp'],
    'ix_bounces_event_domain_time': ['domain', 'timestamp'],
    'ix_bounces_event_reason': ['reason'],
}
NEW = {
    'ix_bounces_event_time_id': ['timestamp', 'id'],
    'ix_bounces_event_domain_page': ['domain', 'timestamp', 'id'],
    # With the severity, for the reason and severity filter together.
    'ix_bounces_event_reason_page': ['reason', 'timestamp', 'id',
                                     'severity'],
    'ix_bounces_event_email_page': ['email', 'timestamp', 'id'],
    'ix_bounces_event_severity_page': ['severity', 'timestamp', 'id'],
    'ix_bounces_event_kind_page': ['kind', 'timestamp', 'id'],
    'ix_bounces_event_context_page': ['context', 'timestamp', 'id'],
    'ix_bounces_event_outcome_page': ['outcome', 'timestamp', 'id'],
}


# A list's events, with the columns its statistics read (index-only
# scans); MySQL's key length limit leaves those out there.
LIST_COVER = ['list_id', 'timestamp', 'id', 'reason', 'severity', 'kind',
              'domain', 'email']


def _new() -> dict[str, list[str]]:
    if op.get_bind().dialect.name == 'mysql':
        return {**NEW, 'ix_bounces_event_list_page': LIST_COVER[:3]}
    return {**NEW, 'ix_bounces_event_list_cover': LIST_COVER}


def upgrade():
    for name, columns in _new().items():
        op.create_index(name, TABLE, columns)
    for name in OLD:
        op.drop_index(name, TABLE)


def downgrade():
    for name, columns in OLD.items():
        op.create_index(name, TABLE, columns)
    for name in _new():
        op.drop_index(name, TABLE)
