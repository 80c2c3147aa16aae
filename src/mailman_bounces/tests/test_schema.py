"""The plugin's tables appear on an existing production database, through
the plugin's own migrations, and nothing of core's changes."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import MetaData, inspect, select, text

from mailman_bounces.database.schema import (
    VERSION_TABLE,
    head_revision,
    is_plugin_table,
)
from mailman_bounces.tests.databases import backend_url, selected_backend
from mailman_bounces.tests.instance import ServerDatabase

MEMBERS = """\
Anne Person <anne@example.org>
bart@example.org
Cris Person <cris@example.net>
"""


def _core_snapshot(engine) -> dict:
    """Every core table's columns, indexes and rows."""
    inspector = inspect(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine)
    snapshot = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            if is_plugin_table(name):
                continue
            columns = [(c['name'], str(c['type']), c['nullable'])
                       for c in inspector.get_columns(name)]
            indexes = sorted((i['name'], tuple(i['column_names']),
                              bool(i['unique']))
                             for i in inspector.get_indexes(name))
            rows = sorted(tuple(map(repr, row)) for row in
                          connection.execute(select(table)))
            snapshot[name] = (columns, indexes, rows)
    return snapshot


def _populate_without_plugin(instance):
    instance.write_config(plugin=False)
    instance.run('create', 'test@example.com')
    instance.run('create', 'other@example.net')
    instance.run('addmembers', '-', 'test@example.com', stdin=MEMBERS)
    instance.run('addmembers', '-', 'other@example.net',
                 stdin='dave@example.com\n')


def test_enabling_the_plugin_on_an_existing_database(instance):
    _populate_without_plugin(instance)
    engine = instance.engine()
    before = _core_snapshot(engine)
    assert not [t for t in inspect(engine).get_table_names()
                if is_plugin_table(t)]
    assert len(before['member'][2]) == 4
    instance.write_config(plugin=True)
    result = instance.run('info')
    assert f'bounces schema: {head_revision()}' in result.stdout
    engine.dispose()
    tables = set(inspect(engine).get_table_names())
    from mailman_bounces.model import TABLES
    assert set(TABLES) <= tables
    assert VERSION_TABLE in tables
    with engine.connect() as connection:
        version = connection.execute(
            text(f'SELECT version_num FROM {VERSION_TABLE}')).scalar_one()
    assert version == head_revision()
    # Core's schema, data and Alembic version are exactly as before.
    assert _core_snapshot(engine) == before
    # Starting again is a no-op.
    instance.run('info')
    assert _core_snapshot(engine) == before
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path):
    """An empty database on the selected backend."""
    from sqlalchemy import create_engine
    backend = selected_backend()
    if backend == 'sqlite':
        engine = create_engine(f'sqlite:///{tmp_path}/empty.db')
        yield engine
        engine.dispose()
        return
    scratch = ServerDatabase(backend_url(backend))
    scratch.create()
    engine = create_engine(scratch.url)
    try:
        yield engine
    finally:
        engine.dispose()
        scratch.drop()


def _plugin_schema(engine) -> dict:
    """The reflected shape of the plugin's tables."""
    from mailman_bounces.model import TABLES
    inspector = inspect(engine)
    shape = {}
    for name in TABLES:
        shape[name] = {
            'columns': [(c['name'], str(c['type']), c['nullable'])
                        for c in inspector.get_columns(name)],
            'primary_key': inspector.get_pk_constraint(name)[
                'constrained_columns'],
            # MySQL reports unique constraints as indexes too.
            'indexes': sorted((i['name'], tuple(i['column_names']),
                               bool(i['unique']))
                              for i in inspector.get_indexes(name)
                              if not i['name'].startswith('uq_')),
            'unique': sorted((u['name'], tuple(u['column_names']))
                             for u in inspector.get_unique_constraints(name)),
            'foreign_keys': sorted((tuple(f['constrained_columns']),
                                    f['referred_table'],
                                    tuple(f['referred_columns']))
                                   for f in inspector.get_foreign_keys(name)),
        }
    return shape


def test_migrations_build_exactly_the_models(
        instance, empty_engine):
    """The tables made by the migrations (existing database) are the same as
    those core makes from the models (fresh database)."""
    from mailman.database.model import Model

    import mailman_bounces.model as models
    _populate_without_plugin(instance)
    instance.write_config(plugin=True)
    instance.run('info')
    migrated = instance.engine()
    Model.metadata.create_all(
        empty_engine, tables=[Model.metadata.tables[t] for t in models.TABLES])
    assert _plugin_schema(migrated) == _plugin_schema(empty_engine)
    migrated.dispose()


def test_registering_works_after_the_upgrade(instance):
    _populate_without_plugin(instance)
    instance.write_config(plugin=True)
    script = (
        'from mailman.interfaces.bounce import IBounceProcessor\n'
        'from mailman.interfaces.listmanager import IListManager\n'
        'from mailman.testing.helpers import '
        'specialized_message_from_string as mfs\n'
        'from mailman.config import config\n'
        'from zope.component import getUtility\n'
        "mlist = getUtility(IListManager).get('test@example.com')\n"
        "msg = mfs('From: x@example.org\\nMessage-ID: <up1@x>\\n\\nhi\\n')\n"
        'event = getUtility(IBounceProcessor).register(\n'
        "    mlist, 'anne@example.org', msg)\n"
        'config.db.commit()\n'
        "print('EVENT', event.id, event.email)\n"
    )
    result = instance.run('shell', '-i', stdin=script)
    assert 'EVENT 1 anne@example.org' in result.stdout


@pytest.mark.parametrize('existing', [[], ['bounces_event']])
def test_partial_or_missing_tables_are_handled(existing, tmp_path):
    """No tables: all created by migration.  Some tables but no version: a
    clear error instead of a half-applied schema."""
    from sqlalchemy import create_engine

    from mailman_bounces.database.schema import ensure_schema
    engine = create_engine(f'sqlite:///{tmp_path}/partial.db')
    with engine.begin() as connection:
        for name in existing:
            connection.execute(text(f'CREATE TABLE {name} (id INTEGER)'))
    if existing:
        with pytest.raises(RuntimeError, match='no schema version'):
            ensure_schema(engine)
    else:
        assert ensure_schema(engine) == head_revision()
        assert ensure_schema(engine) == head_revision()


# Hosts started together in the concurrency test.
HOSTS = 4


def _start_like_a_host(url: str, barrier, results) -> None:
    """Run the schema step as a host would once all `HOSTS` are ready; put
    the outcome and what the step logged on `results`."""
    from sqlalchemy import create_engine

    from mailman_bounces.database.schema import ensure_schema
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger('mailman.plugins')
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    engine = create_engine(url)
    try:
        barrier.wait()
        results.put((ensure_schema(engine), messages))
    except Exception as error:  # noqa: BLE001 - the test reports any failure
        results.put((repr(error), messages))
    finally:
        engine.dispose()


def _downgrade(engine, revision: str) -> None:
    from contextlib import ExitStack

    from alembic import command

    from mailman_bounces.database.schema import _alembic_config, ensure_schema
    ensure_schema(engine)
    with ExitStack() as resources, engine.begin() as connection:
        cfg = _alembic_config(resources)
        cfg.attributes['connection'] = connection
        command.downgrade(cfg, revision)


def _stop_resource_tracker() -> None:
    # Spawning starts multiprocessing's resource tracker, a child of this
    # process that lives until it exits.  Mailman's test master reaps its
    # runners with os.wait(), which returns for any child: with the tracker
    # still alive a later layer's tear-down waited for ever.  Python has no
    # public way to stop it.
    # A master still running reaps whatever child ends, the tracker too:
    # then it is gone already.
    from multiprocessing import resource_tracker
    with contextlib.suppress(ChildProcessError):
        resource_tracker._resource_tracker._stop()


@pytest.mark.parametrize('start, migration', [
    (None, 'creating tables ({head})'),
    ('0001_initial', 'migrating 0001_initial -> {head}'),
], ids=['empty', 'first-release'])
def test_hosts_starting_together_migrate_once(start, migration, empty_engine):
    """Several hosts start on one shared database at the same moment: one
    of them creates or migrates the tables, the others wait and find the
    work done.  (Without the database lock they all did it, and all but one
    failed: duplicate table, or some tables and no version.)"""
    from mailman_bounces.model import TABLES
    if start is not None:
        _downgrade(empty_engine, start)
    # Separate processes, as separate hosts are (spawned: no state shared).
    context = multiprocessing.get_context('spawn')
    barrier = context.Barrier(HOSTS)
    results = context.Queue()
    url = empty_engine.url.render_as_string(hide_password=False)
    hosts = [context.Process(target=_start_like_a_host,
                             args=(url, barrier, results))
             for _ in range(HOSTS)]
    try:
        for host in hosts:
            host.start()
        outcomes = [results.get(timeout=300) for _ in hosts]
        # Their sentinels, not join(): a master still running may have
        # reaped them with os.wait(), and join() would then wait its time.
        unfinished = {host.sentinel for host in hosts}
        deadline = time.monotonic() + 60
        while unfinished and time.monotonic() < deadline:
            unfinished -= set(multiprocessing.connection.wait(
                list(unfinished), timeout=deadline - time.monotonic()))
    finally:
        _stop_resource_tracker()
    head = head_revision()
    assert [revision for revision, _ in outcomes] == [head] * HOSTS
    # Exactly one host changed the schema.
    changes = [message for _, messages in outcomes for message in messages
               if 'creating' in message or 'migrating' in message]
    assert changes == ['mailman-bounces: ' + migration.format(head=head)]
    tables = inspect(empty_engine).get_table_names()
    assert set(TABLES) | {VERSION_TABLE} <= set(tables)
    with empty_engine.connect() as connection:
        versions = connection.execute(
            text(f'SELECT version_num FROM {VERSION_TABLE}')).scalars().all()
    assert versions == [head]


def test_the_schema_lock_excludes_others_until_released(empty_engine):
    """While one host holds the lock another one's wait ends in a clear
    error; a holder that fails releases the lock."""
    from sqlalchemy import create_engine

    from mailman_bounces.database.locking import (
        SchemaLockTimeout,
        database_lock,
    )
    # A second engine: its own connections, as another host's are.
    other = create_engine(empty_engine.url)
    short = timedelta(seconds=1)
    try:
        with database_lock(empty_engine), pytest.raises(
                SchemaLockTimeout, match='waited 1 s'), \
                database_lock(other, short):
            pass
        with pytest.raises(ZeroDivisionError), database_lock(empty_engine):
            raise ZeroDivisionError
        with database_lock(other, short) as connection:
            assert connection.execute(text('SELECT 1')).scalar_one() == 1
    finally:
        other.dispose()


def test_many_row_updates_are_batched_on_postgresql(mailman):
    from mailman.config import config

    from mailman_bounces.database.engine import batch_executemany
    dialect = config.db.engine.dialect
    if dialect.name == 'postgresql':
        from sqlalchemy.dialects.postgresql.psycopg2 import (
            EXECUTEMANY_VALUES_PLUS_BATCH,
        )
        assert dialect.executemany_mode is EXECUTEMANY_VALUES_PLUS_BATCH
        assert dialect.supports_sane_multi_rowcount is False
    else:
        assert batch_executemany(config.db.engine) is False


def test_a_database_at_an_older_revision_is_migrated(instance):
    from contextlib import ExitStack

    from alembic import command

    from mailman_bounces.database.schema import _alembic_config
    _populate_without_plugin(instance)
    instance.write_config(plugin=True)
    instance.run('info')
    engine = instance.engine()
    # Back to the first revision, as a site that ran the plugin's first
    # release has it.
    with ExitStack() as resources, engine.begin() as connection:
        cfg = _alembic_config(resources)
        cfg.attributes['connection'] = connection
        command.downgrade(cfg, '0001_initial')
    indexes = {i['name'] for i in inspect(engine).get_indexes('bounces_member')}
    assert 'ix_bounces_member_disabled' not in indexes
    # A member the first release disabled, and one it did not.
    disabled_at = datetime(2026, 3, 1, 12, 30)
    with engine.begin() as connection:
        member_ids = connection.execute(text(
            'SELECT id FROM member ORDER BY id')).scalars().all()[:2]
        for member_id, when in zip(member_ids, (disabled_at, None)):
            connection.execute(text(
                'INSERT INTO bounces_member (member_id, list_id, email, '
                'score, core_score, day_weight, sympa_level, disabled_at) '
                "VALUES (:id, 'test.example.com', :email, 0, 0, 0, 0, "
                ':disabled_at)'), {'id': member_id, 'disabled_at': when,
                                   'email': f'm{member_id}@example.org'})
    members_before = _core_snapshot(engine)
    instance.run('info')
    engine.dispose()
    indexes = {i['name'] for i in inspect(engine).get_indexes('bounces_member')}
    assert {'ix_bounces_member_disabled',
            'ix_bounces_member_warning_check'} <= indexes
    assert 'ix_bounces_event_message' in {
        i['name'] for i in inspect(engine).get_indexes('bounces_event')}
    with engine.connect() as connection:
        version = connection.execute(
            text(f'SELECT version_num FROM {VERSION_TABLE}')).scalar_one()
        checks = connection.execute(text(
            'SELECT member_id, next_warning_check FROM bounces_member '
            'ORDER BY member_id')).all()
    assert version == head_revision() == '0014_event_days'
    # The disabled member is due for the next warnings step.
    # (SQLite hands raw SQL's datetimes back as text.)
    assert [(member_id, when and str(when)) for member_id, when in checks] \
        == [(member_ids[0], str(disabled_at)), (member_ids[1], None)]
    assert _core_snapshot(engine) == members_before
    engine.dispose()
