"""The plugin's first tables.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from mailman.database.types import SAText, SAUnicode
from sqlalchemy.dialects import mysql

revision = '0001_initial'
down_revision = None

_Blob = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql')


def upgrade():
    op.create_table(
        'bounces_message',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('message_id', SAUnicode()),
        sa.Column('fingerprint', sa.Unicode(64), nullable=False),
        sa.Column('received', sa.DateTime(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('truncated', sa.Boolean(), nullable=False),
        sa.Column('content', _Blob),
        sa.UniqueConstraint('fingerprint',
                            name='uq_bounces_message_fingerprint'),
    )
    op.create_index('ix_bounces_message_received', 'bounces_message',
                    ['received'])
    op.create_table(
        'bounces_event',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('email', SAUnicode(), nullable=False),
        sa.Column('original_recipient', SAUnicode()),
        sa.Column('final_recipient', SAUnicode()),
        sa.Column('domain', SAUnicode()),
        sa.Column('timestamp', sa.DateTime(), nullable=False),
        sa.Column('message_id', SAUnicode()),
        sa.Column('context', sa.Integer(), nullable=False),
        sa.Column('processed', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.Unicode(16), nullable=False),
        sa.Column('severity', sa.Unicode(8), nullable=False),
        sa.Column('reason', sa.Unicode(32), nullable=False),
        sa.Column('status', sa.Unicode(16)),
        sa.Column('reply_code', sa.Unicode(8)),
        sa.Column('diagnostic', SAText()),
        sa.Column('remote_mta', SAUnicode()),
        sa.Column('detector', sa.Unicode(64)),
        sa.Column('feedback_type', sa.Unicode(32)),
        sa.Column('fingerprint', sa.Unicode(64), nullable=False),
        sa.Column('stored_message_id', sa.Integer(),
                  sa.ForeignKey('bounces_message.id', ondelete='SET NULL')),
        sa.Column('held_by', sa.Integer()),
        sa.Column('outcome', sa.Unicode(32)),
        sa.Column('score_delta', sa.Float()),
        sa.Column('processed_at', sa.DateTime()),
        sa.UniqueConstraint('fingerprint', 'list_id', 'email', 'context',
                            name='uq_bounces_event_delivery'),
    )
    for name, columns in (
            ('ix_bounces_event_processed', ['processed', 'id']),
            ('ix_bounces_event_member', ['list_id', 'email', 'timestamp']),
            ('ix_bounces_event_list_time', ['list_id', 'timestamp']),
            ('ix_bounces_event_domain_time', ['domain', 'timestamp']),
            ('ix_bounces_event_mta_time', ['remote_mta', 'timestamp']),
            ('ix_bounces_event_time', ['timestamp']),
            ('ix_bounces_event_reason', ['reason'])):
        op.create_index(name, 'bounces_event', columns)
    op.create_table(
        'bounces_list_settings',
        sa.Column('list_id', SAUnicode(), primary_key=True),
        sa.Column('score_mode', sa.Unicode(16)),
        sa.Column('score_threshold', sa.Float()),
        sa.Column('complaint_action', sa.Unicode(16)),
        sa.Column('notify_owner_on_complaint', sa.Boolean()),
        sa.Column('notify_owner_on_ignored', sa.Boolean()),
        sa.Column('probe_before_disable', sa.Boolean()),
        sa.Column('probe_wait', sa.Interval()),
        sa.Column('retention', sa.Interval()),
        sa.Column('failover', sa.Boolean()),
        sa.Column('sympa_min_count', sa.Integer()),
        sa.Column('sympa_min_period', sa.Interval()),
        sa.Column('sympa_level1', sa.Float()),
        sa.Column('sympa_level1_action', sa.Unicode(16)),
        sa.Column('sympa_level2', sa.Float()),
        sa.Column('sympa_level2_action', sa.Unicode(16)),
        sa.Column('weights', SAText()),
    )
    op.create_table(
        'bounces_member',
        sa.Column('member_id', sa.Integer(), primary_key=True,
                  autoincrement=False),
        sa.Column('list_id', SAUnicode(), nullable=False),
        sa.Column('email', SAUnicode(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('core_score', sa.Integer(), nullable=False),
        sa.Column('last_reason', sa.Unicode(32)),
        sa.Column('last_event_id', sa.Integer()),
        sa.Column('disabled_reason', sa.Unicode(32)),
        sa.Column('disabled_at', sa.DateTime()),
        sa.Column('probe_sent', sa.DateTime()),
        sa.Column('probe_token', SAUnicode()),
        sa.Column('scored_day', sa.Date()),
        sa.Column('day_weight', sa.Float(), nullable=False),
        sa.Column('run_started', sa.DateTime()),
        sa.Column('sympa_level', sa.Integer(), nullable=False),
        sa.Column('failed_over_from', SAUnicode()),
    )
    op.create_index('ix_bounces_member_list_email', 'bounces_member',
                    ['list_id', 'email'])
    op.create_index('ix_bounces_member_probe', 'bounces_member',
                    ['probe_sent'])
    op.create_table(
        'bounces_freeze',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('list_id', SAUnicode()),
        sa.Column('key_type', sa.Unicode(8), nullable=False),
        sa.Column('key', SAUnicode(), nullable=False),
        sa.Column('started', sa.DateTime(), nullable=False),
        sa.Column('expires', sa.DateTime(), nullable=False),
        sa.Column('lifted', sa.DateTime()),
        sa.Column('lifted_by', sa.Unicode(16)),
        sa.Column('bouncing', sa.Integer(), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.Column('released', sa.Boolean(), nullable=False),
    )
    op.create_index('ix_bounces_freeze_active', 'bounces_freeze',
                    ['key_type', 'key', 'expires'])
    op.create_index('ix_bounces_freeze_list', 'bounces_freeze', ['list_id'])
    op.create_table(
        'bounces_list_traffic',
        sa.Column('list_id', SAUnicode(), primary_key=True),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('post_id', sa.Integer(), nullable=False),
    )
    op.create_table(
        'bounces_notice',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.Unicode(32), nullable=False),
        sa.Column('list_id', SAUnicode()),
        sa.Column('email', SAUnicode()),
        sa.Column('member_id', sa.Integer()),
        sa.Column('event_id', sa.Integer()),
        sa.Column('data', SAText()),
        sa.Column('dedup_key', SAUnicode()),
        sa.Column('sent', sa.DateTime()),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', SAText()),
        sa.UniqueConstraint('dedup_key', name='uq_bounces_notice_dedup'),
    )
    op.create_index('ix_bounces_notice_pending', 'bounces_notice',
                    ['sent', 'id'])
    op.create_table(
        'bounces_lease',
        sa.Column('name', sa.Unicode(64), primary_key=True),
        sa.Column('holder', sa.Unicode(128)),
        sa.Column('until', sa.DateTime()),
    )


def downgrade():
    for table in ('bounces_lease', 'bounces_notice',
                  'bounces_list_traffic', 'bounces_freeze', 'bounces_member',
                  'bounces_list_settings', 'bounces_event',
                  'bounces_message'):
        op.drop_table(table)
