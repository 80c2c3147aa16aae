"""Keep the number of members at each recipient domain.

Outage detection read core's whole address table for every domain that
burst; it now reads these counts, which the pass fills on its first run.

Revision ID: 0006_domain_members
Revises: 0005_member_list_score_index
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAUnicode

revision = '0006_domain_members'
down_revision = '0005_member_list_score_index'


def upgrade():
    op.create_table(
        'bounces_domain_members',
        sa.Column('list_id', SAUnicode(), primary_key=True),
        sa.Column('domain', SAUnicode(), primary_key=True),
        sa.Column('members', sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table('bounces_domain_members')
