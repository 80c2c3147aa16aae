"""Index the members' scores per list.

After an owner lowers a threshold, each pass looks for members whose score
reached it; with this index it reads only those, not every member who ever
bounced.

Revision ID: 0005_member_list_score_index
Revises: 0004_event_message_index
Create Date: 2026-11-22
"""

from alembic import op

revision = '0005_member_list_score_index'
down_revision = '0004_event_message_index'


def upgrade():
    op.create_index('ix_bounces_member_list_score', 'bounces_member',
                    ['list_id', 'score'])


def downgrade():
    op.drop_index('ix_bounces_member_list_score', 'bounces_member')
