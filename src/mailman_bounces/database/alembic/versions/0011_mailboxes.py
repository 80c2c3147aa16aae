"""The state of the mailboxes the bouncemail runner polls.

Revision ID: 0011_mailboxes
Revises: 0010_webhooks
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAText

revision = '0011_mailboxes'
down_revision = '0010_webhooks'


def upgrade():
    op.create_table(
        'bounces_mailbox',
        sa.Column('name', sa.Unicode(64), primary_key=True),
        sa.Column('uidvalidity', sa.BigInteger()),
        sa.Column('last_uid', sa.BigInteger(), nullable=False),
        sa.Column('last_poll', sa.DateTime()),
        sa.Column('last_success', sa.DateTime()),
        sa.Column('last_error', SAText()),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('next_poll', sa.DateTime()),
        sa.Column('seen', sa.Integer(), nullable=False),
        sa.Column('registered', sa.Integer(), nullable=False),
        sa.Column('unparsed', sa.Integer(), nullable=False),
    )
    op.create_table(
        'bounces_mailbox_uidl',
        sa.Column('mailbox', sa.Unicode(64), primary_key=True),
        sa.Column('uidl', sa.Unicode(128), primary_key=True),
        sa.Column('delete', sa.Boolean(), nullable=False),
        sa.Column('seen', sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table('bounces_mailbox_uidl')
    op.drop_table('bounces_mailbox')
