"""Signed VERP: the signing keys, each event's evidence and the lists'
unverified_action and verp_rate.

Events registered before signing existed came through core's unsigned
paths: they are recorded as unverified.

Revision ID: 0009_verp_keys
Revises: 0008_freeze_cap
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_verp_keys'
down_revision = '0008_freeze_cap'


def upgrade():
    op.create_table(
        'bounces_verp_key',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('secret', sa.Unicode(64), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('retires', sa.DateTime()),
    )
    op.add_column('bounces_event', sa.Column(
        'evidence', sa.Unicode(16), nullable=False,
        server_default='unverified'))
    op.add_column('bounces_list_settings',
                  sa.Column('unverified_action', sa.Unicode(16)))
    op.add_column('bounces_list_settings',
                  sa.Column('verp_rate', sa.Float()))


def downgrade():
    op.drop_column('bounces_list_settings', 'verp_rate')
    op.drop_column('bounces_list_settings', 'unverified_action')
    op.drop_column('bounces_event', 'evidence')
    op.drop_table('bounces_verp_key')
