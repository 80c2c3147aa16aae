"""When the warnings step next looks at each disabled member.

With it, the step reads only the members due for a look, not every member
who is disabled.  Members disabled now are looked at on the next pass.

Revision ID: 0003_member_warning_check
Revises: 0002_member_disabled_index
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_member_warning_check'
down_revision = '0002_member_disabled_index'


def upgrade():
    op.add_column('bounces_member',
                  sa.Column('next_warning_check', sa.DateTime()))
    op.execute('UPDATE bounces_member SET next_warning_check = disabled_at '
               'WHERE disabled_at IS NOT NULL')
    op.create_index('ix_bounces_member_warning_check', 'bounces_member',
                    ['next_warning_check'])


def downgrade():
    op.drop_index('ix_bounces_member_warning_check', 'bounces_member')
    op.drop_column('bounces_member', 'next_warning_check')
