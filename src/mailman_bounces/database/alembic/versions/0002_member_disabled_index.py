"""Index the disabled members, which the warnings step reads on every pass.

Revision ID: 0002_member_disabled_index
Revises: 0001_initial
Create Date: 2026-11-21
"""

from alembic import op

revision = '0002_member_disabled_index'
down_revision = '0001_initial'


def upgrade():
    op.create_index('ix_bounces_member_disabled', 'bounces_member',
                    ['disabled_at'])


def downgrade():
    op.drop_index('ix_bounces_member_disabled', 'bounces_member')
