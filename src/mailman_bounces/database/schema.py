"""Create or migrate the plugin's tables in an existing Mailman database.

Core creates tables only when it creates a brand-new database (and then it
creates ours too, because our models share its metadata).  On a database
that already existed before the plugin was enabled, or that holds an older
version of the plugin's schema, `ensure_schema` brings the plugin's tables
up to date with the plugin's own Alembic migrations, recorded in the
plugin's own version table so core's migrations are never disturbed.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from mailman_bounces.database.locking import database_lock

log = logging.getLogger('mailman.plugins')

VERSION_TABLE = 'bounces_alembic_version'
TABLE_PREFIX = 'bounces_'


def is_plugin_table(name: str) -> bool:
    """Is `name` one of the plugin's tables (including its version table)?"""
    return name.startswith(TABLE_PREFIX)


def _alembic_config(resources: ExitStack) -> Config:
    script_dir = resources.enter_context(
        as_file(files('mailman_bounces.database').joinpath('alembic')))
    cfg = Config()
    cfg.set_main_option('script_location', os.fspath(script_dir))
    return cfg


def head_revision() -> str:
    """The revision the installed plugin's schema is at."""
    with ExitStack() as resources:
        script = ScriptDirectory.from_config(_alembic_config(resources))
        return script.get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The plugin revision recorded in the database, if any."""
    context = MigrationContext.configure(
        connection, opts={'version_table': VERSION_TABLE})
    return context.get_current_revision()


def ensure_schema(engine: Engine) -> str:
    """Create or upgrade the plugin's tables; return the resulting revision.

    * no version recorded, none of our tables: run every migration;
    * no version recorded, all tables present (core created them along with
      a fresh database): record the head revision;
    * an older version recorded: run the missing migrations.

    Hosts sharing the database may start together: the check and the
    migration run under `database_lock`, and the check is made again once
    the lock is held, since the holder before us may have migrated.
    """
    with ExitStack() as resources:
        cfg = _alembic_config(resources)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        # Usually the schema is current: then no lock is needed at all.
        with engine.connect() as connection:
            if current_revision(connection) == head:
                return head
        with database_lock(engine) as connection:
            _migrate(connection, cfg, head)
        return head


def _migrate(connection: Connection, cfg: Config, head: str) -> None:
    """Bring the schema on `connection` to `head` (see `ensure_schema`)."""
    from mailman_bounces.model import TABLES
    current = current_revision(connection)
    if current == head:
        return
    existing = set(inspect(connection).get_table_names())
    cfg.attributes['connection'] = connection
    if current is None and set(TABLES) <= existing:
        log.info('mailman-bounces: tables present, stamping %s', head)
        command.stamp(cfg, 'head')
    elif current is None and not (set(TABLES) & existing):
        log.info('mailman-bounces: creating tables (%s)', head)
        command.upgrade(cfg, 'head')
    elif current is None:
        missing = sorted(set(TABLES) - existing)
        raise RuntimeError(
            'mailman-bounces: the database holds some of the '
            'plugin tables but no schema version; missing: '
            + ', '.join(missing))
    else:
        log.info('mailman-bounces: migrating %s -> %s', current, head)
        command.upgrade(cfg, 'head')
