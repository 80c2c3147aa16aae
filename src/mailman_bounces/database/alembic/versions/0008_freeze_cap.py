"""Cap how long an outage freeze lasts without a site admin's confirmation.

Revision ID: 0008_freeze_cap
Revises: 0007_rest_indexes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0008_freeze_cap'
down_revision = '0007_rest_indexes'


def upgrade():
    with op.batch_alter_table('bounces_freeze') as batch:
        batch.add_column(sa.Column('capped', sa.DateTime()))
        batch.add_column(sa.Column('confirmed_until', sa.DateTime()))
        batch.add_column(sa.Column('confirmed_by', sa.Unicode(16)))


def downgrade():
    with op.batch_alter_table('bounces_freeze') as batch:
        batch.drop_column('confirmed_by')
        batch.drop_column('confirmed_until')
        batch.drop_column('capped')
