"""Count the events per day, for the REST listings' sizes and deep pages.

A table of the number of events per day and classification (reason,
severity, kind, context, evidence: what never changes once an event is
registered), a ``summarized`` flag on each event telling whether it is
counted there, an index finding the events not counted yet, and the
evidence filter's listing index (it had none).  The events present are
counted here, so an upgraded site has its summary at once.

The index of a list's events gets ``evidence`` (PostgreSQL and SQLite,
where it covers the list's statistics): 0009 added the column after 0007
made the index, so each statistics query read the list's rows from the
table again (a block per event).

Revision ID: 0014_event_days
Revises: 0013_tracking
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_event_days'
down_revision = '0013_tracking'

EVENTS = 'bounces_event'
DAYS = 'bounces_event_day'
KEYS = ('reason', 'severity', 'kind', 'context', 'evidence')
LIST_COVER = 'ix_bounces_event_list_cover'
# The list index's columns as 0007_rest_indexes made it.
LIST_COVER_0007 = ['list_id', 'timestamp', 'id', 'reason', 'severity',
                   'kind', 'domain', 'email']


def _add_flag(dialect: str) -> None:
    """Add ``summarized``, set on every event present (counted below) and
    unset for the events written from now on."""
    if dialect == 'postgresql':
        # A constant default fills the existing rows without rewriting
        # them; the table stays locked until the migration commits, so no
        # event is written in between by another host.
        op.add_column(EVENTS, sa.Column('summarized', sa.Boolean(),
                                        nullable=False,
                                        server_default=sa.true()))
        op.alter_column(EVENTS, 'summarized', server_default=sa.false())
        return
    op.add_column(EVENTS, sa.Column('summarized', sa.Boolean(),
                                    nullable=False,
                                    server_default=sa.false()))
    # The UPDATE locks the rows it marks (MySQL: and the gaps between
    # them), so the count below reads exactly the marked events.
    op.execute(sa.text(f'UPDATE {EVENTS} SET summarized = 1'))


def _count_events() -> None:
    event = sa.table(EVENTS, sa.column('timestamp'), sa.column('summarized'),
                     *(sa.column(key) for key in KEYS))
    day = sa.func.date(event.c.timestamp)
    keys = [event.c[key] for key in KEYS]
    op.execute(sa.table(DAYS, sa.column('day'), sa.column('events'),
                        *(sa.column(key) for key in KEYS)).insert()
               .from_select(['day', *KEYS, 'events'],
                            sa.select(day, *keys, sa.func.count())
                            .where(event.c.summarized == sa.true())
                            .group_by(day, *keys)))


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        DAYS,
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('reason', sa.Unicode(32), primary_key=True),
        sa.Column('severity', sa.Unicode(8), primary_key=True),
        sa.Column('kind', sa.Unicode(16), primary_key=True),
        sa.Column('context', sa.Integer(), primary_key=True),
        sa.Column('evidence', sa.Unicode(16), primary_key=True),
        sa.Column('events', sa.Integer(), nullable=False),
    )
    _add_flag(dialect)
    _count_events()
    op.create_index('ix_bounces_event_evidence_page', EVENTS,
                    ['evidence', 'timestamp', 'id'])
    if dialect == 'mysql':
        op.create_index('ix_bounces_event_summarized', EVENTS,
                        ['summarized', 'timestamp', 'id'])
    else:
        op.create_index('ix_bounces_event_unsummarized', EVENTS,
                        ['timestamp', 'id'],
                        postgresql_where=sa.text('NOT summarized'),
                        sqlite_where=sa.text('summarized = 0'))
        _list_cover(LIST_COVER_0007 + ['evidence'])


def _list_cover(columns: list[str]) -> None:
    """Make the list index again with `columns` (not on MySQL)."""
    op.drop_index(LIST_COVER, EVENTS)
    op.create_index(LIST_COVER, EVENTS, columns)


def downgrade():
    if op.get_bind().dialect.name == 'mysql':
        op.drop_index('ix_bounces_event_summarized', EVENTS)
    else:
        op.drop_index('ix_bounces_event_unsummarized', EVENTS)
        _list_cover(LIST_COVER_0007)
    op.drop_index('ix_bounces_event_evidence_page', EVENTS)
    with op.batch_alter_table(EVENTS) as batch:
        batch.drop_column('summarized')
    op.drop_table(DAYS)
