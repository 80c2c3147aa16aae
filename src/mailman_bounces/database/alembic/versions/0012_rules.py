"""Lists' own classification rules, and the rule that changed an event.

Revision ID: 0012_rules
Revises: 0011_mailboxes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAText, SAUnicode

revision = '0012_rules'
down_revision = '0011_mailboxes'


def upgrade():
    op.create_table(
        'bounces_rule',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('pattern', SAText(), nullable=False),
        sa.Column('field', sa.Unicode(16), nullable=False),
        sa.Column('effect', sa.Unicode(16), nullable=False),
        sa.Column('reason', sa.Unicode(32)),
        sa.Column('severity', sa.Unicode(8)),
        sa.Column('comment', SAText()),
        sa.Column('created', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_bounces_rule_list', 'bounces_rule', ['list_id'])
    op.add_column('bounces_event', sa.Column('rule', SAUnicode()))


def downgrade():
    with op.batch_alter_table('bounces_event') as batch:
        batch.drop_column('rule')
    op.drop_index('ix_bounces_rule_list', 'bounces_rule')
    op.drop_table('bounces_rule')
