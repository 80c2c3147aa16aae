"""Message tracking: the lists' tracking settings, tracked posts, their
deliveries and the reports about them; and the site-wide callback endpoints
a 410 answer disabled (added here: 0013 has not been released).

Revision ID: 0013_tracking
Revises: 0012_rules
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAText, SAUnicode

revision = '0013_tracking'
down_revision = '0012_rules'


def upgrade():
    op.add_column('bounces_list_settings',
                  sa.Column('tracking', sa.Unicode(8)))
    op.add_column('bounces_list_settings',
                  sa.Column('tracking_retention', sa.Interval()))
    op.create_table(
        'bounces_tracked_post',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('message_id', SAUnicode(), nullable=False),
        sa.Column('subject', SAText()),
        sa.Column('mode', sa.Unicode(8), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('list_id', 'message_id',
                            name='uq_bounces_tracked_post_message'),
    )
    op.create_index('ix_bounces_tracked_post_list_sent',
                    'bounces_tracked_post', ['list_id', 'sent_at'])
    op.create_table(
        'bounces_tracked_delivery',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('email', SAUnicode(), nullable=False),
        sa.Column('member_id', sa.Integer()),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('dsn_supported', sa.Boolean(), nullable=False),
        sa.Column('state', sa.Unicode(16), nullable=False),
        sa.Column('state_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.Unicode(16)),
        sa.Column('diagnostic', SAText()),
        sa.Column('disposition', sa.Unicode(16)),
        sa.Column('disposition_at', sa.DateTime()),
        sa.UniqueConstraint('post_id', 'email',
                            name='uq_bounces_tracked_delivery_email'),
    )
    op.create_index('ix_bounces_tracked_delivery_list_sent',
                    'bounces_tracked_delivery', ['list_id', 'sent_at'])
    op.create_table(
        'bounces_tracking_report',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('delivery_id', sa.Integer()),
        sa.Column('evidence', sa.Unicode(16), nullable=False),
        sa.Column('kind', sa.Unicode(8), nullable=False),
        sa.Column('value', sa.Unicode(16), nullable=False),
        sa.Column('status', sa.Unicode(16)),
        sa.Column('diagnostic', SAText()),
        sa.Column('reported', sa.DateTime()),
        sa.Column('received', sa.DateTime(), nullable=False),
        sa.Column('message_id', SAUnicode()),
        sa.Column('fingerprint', sa.Unicode(64)),
        sa.Column('position', sa.Integer()),
        sa.UniqueConstraint('fingerprint', 'position',
                            name='uq_bounces_tracking_report_record'),
    )
    op.create_index('ix_bounces_tracking_report_delivery',
                    'bounces_tracking_report', ['delivery_id'])
    op.create_index('ix_bounces_tracking_report_list_received',
                    'bounces_tracking_report', ['list_id', 'received'])
    op.create_table(
        'bounces_callback_site_disabled',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.Unicode(64), nullable=False),
        sa.Column('reason', SAText(), nullable=False),
        sa.Column('disabled_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('name', name='uq_bounces_callback_site_disabled'),
    )


def downgrade():
    op.drop_table('bounces_callback_site_disabled')
    op.drop_index('ix_bounces_tracking_report_list_received',
                  'bounces_tracking_report')
    op.drop_index('ix_bounces_tracking_report_delivery',
                  'bounces_tracking_report')
    op.drop_table('bounces_tracking_report')
    op.drop_index('ix_bounces_tracked_delivery_list_sent',
                  'bounces_tracked_delivery')
    op.drop_table('bounces_tracked_delivery')
    op.drop_index('ix_bounces_tracked_post_list_sent',
                  'bounces_tracked_post')
    op.drop_table('bounces_tracked_post')
    with op.batch_alter_table('bounces_list_settings') as batch:
        batch.drop_column('tracking_retention')
        batch.drop_column('tracking')
