"""Alembic environment of the plugin's migrations.

The migrations run on the connection handed in by
`mailman_bounces.database.schema` through ``config.attributes``, and record
their revision in the plugin's own version table, so they never touch
core's ``alembic_version``.
"""

from alembic import context
from mailman.database.model import Model

from mailman_bounces.database.schema import VERSION_TABLE, is_plugin_table


def _include_object(obj, name, type_, reflected, compare_to):
    # Autogeneration must only ever see the plugin's tables.
    table = name if type_ == 'table' else obj.table.name
    return is_plugin_table(table) and table != VERSION_TABLE


def run_migrations_online():
    connection = context.config.attributes['connection']
    context.configure(
        connection=connection,
        target_metadata=Model.metadata,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
