"""Index the events' links to their stored messages.

Evicting a stored message checks that no event still links to it; without
an index each check read the whole events table.  (MySQL/MariaDB had one
already, made implicitly for the foreign key; the new index replaces it.)

Revision ID: 0004_event_message_index
Revises: 0003_member_warning_check
Create Date: 2026-11-22
"""

from alembic import op

revision = '0004_event_message_index'
down_revision = '0003_member_warning_check'


def upgrade():
    op.create_index('ix_bounces_event_message', 'bounces_event',
                    ['stored_message_id'])


def downgrade():
    if op.get_bind().dialect.name in ('mysql', 'mariadb'):
        # The foreign key needs an index: put back the implicit one, under
        # the name InnoDB gave it, in the same statement.
        op.execute('ALTER TABLE bounces_event '
                   'ADD INDEX stored_message_id (stored_message_id), '
                   'DROP INDEX ix_bounces_event_message')
        return
    op.drop_index('ix_bounces_event_message', 'bounces_event')
