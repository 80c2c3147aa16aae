"""ESP webhooks in, signed callbacks out.

The provider event ids, Mailgun tokens and SparkPost batches seen; the
events' provider event id; the lists' callback endpoints and the durable
callback outbox.

Revision ID: 0010_webhooks
Revises: 0009_verp_keys
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAText, SAUnicode

revision = '0010_webhooks'
down_revision = '0009_verp_keys'


def upgrade():
    op.add_column('bounces_event',
                  sa.Column('provider_event_id', sa.Unicode(255)))
    op.create_table(
        'bounces_webhook_seen',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('provider', sa.Unicode(16), nullable=False),
        sa.Column('kind', sa.Unicode(8), nullable=False),
        sa.Column('key', sa.Unicode(255), nullable=False),
        sa.Column('endpoint', SAUnicode(), nullable=False),
        sa.Column('received', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('provider', 'kind', 'key',
                            name='uq_bounces_webhook_seen'),
    )
    op.create_index('ix_bounces_webhook_seen_received',
                    'bounces_webhook_seen', ['received'])
    op.create_table(
        'bounces_callback_endpoint',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('url', SAText(), nullable=False),
        sa.Column('secret', SAUnicode(), nullable=False),
        sa.Column('events', SAText(), nullable=False),
        sa.Column('allow_private', sa.Boolean(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', SAText()),
        sa.Column('created', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_bounces_callback_endpoint_list',
                    'bounces_callback_endpoint', ['list_id'])
    op.create_table(
        'bounces_callback',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('webhook_id', sa.Unicode(64), nullable=False),
        sa.Column('endpoint', sa.Unicode(80), nullable=False),
        sa.Column('event_type', sa.Unicode(32), nullable=False),
        sa.Column('list_id', SAUnicode()),
        sa.Column('payload', SAText(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('state', sa.Unicode(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt', sa.DateTime(), nullable=False),
        sa.Column('last_status', sa.Integer()),
        sa.Column('last_error', SAText()),
        sa.Column('delivered_at', sa.DateTime()),
        sa.UniqueConstraint('endpoint', 'webhook_id',
                            name='uq_bounces_callback_delivery'),
    )
    op.create_index('ix_bounces_callback_due', 'bounces_callback',
                    ['state', 'next_attempt'])


def downgrade():
    op.drop_table('bounces_callback')
    op.drop_table('bounces_callback_endpoint')
    op.drop_table('bounces_webhook_seen')
    with op.batch_alter_table('bounces_event') as batch:
        batch.drop_column('provider_event_id')
