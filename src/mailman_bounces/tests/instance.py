"""A throw-away Mailman instance in a directory, driven by real `mailman`
commands in subprocesses (for upgrade-path and start-up tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

PLUGIN_SECTION = """
[plugin.bounces]
class: mailman_bounces.plugin.BouncesPlugin
component_package: mailman_bounces
enabled: yes
"""


def mailman_executable() -> str:
    return str(Path(sys.executable).with_name('mailman'))


@dataclass
class Instance:
    """A Mailman instance rooted at `root` using database `url`."""

    root: Path
    url: str | None = None          # None: SQLite under var/data
    database_class: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        return self.root / 'var'

    @property
    def config_file(self) -> Path:
        return self.root / 'mailman.cfg'

    @property
    def database_url(self) -> str:
        if self.url is not None:
            return self.url
        return f'sqlite:///{self.var_dir}/data/mailman.db'

    def write_config(self, plugin: bool, extra: str = '') -> None:
        database = ''
        if self.url is not None:
            database = (f'[database]\nclass: {self.database_class}\n'
                        f'url: {self.url}\n')
        self.config_file.write_text(f"""\
[mailman]
layout: instance
site_owner: postmaster@example.com

[paths.instance]
var_dir: {self.var_dir}

[mta]
incoming: mailman.mta.null.NullMTA
smtp_port: 9925
lmtp_port: 9924

[webservice]
port: 9901

{database}
{PLUGIN_SECTION if plugin else ''}
{extra}
""", encoding='utf-8')

    def run(self, *args: str, check: bool = True,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        command = [mailman_executable(), '-C', str(self.config_file)]
        if os.geteuid() == 0:
            command.append('--run-as-root')
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith('MAILMAN_')}
        environment.update(self.env)
        # While a test layer's master (e.g. the REST server's) runs in this
        # process, its thread reaps *any* child with os.wait(), and
        # subprocess then reports exit status 0.  The shell reports the real
        # status on stderr instead.
        result = subprocess.run(
            ['/bin/sh', '-c', '"$@"; echo "@@exit $?" >&2', 'sh',
             *command, *args],
            capture_output=True, text=True, input=stdin, env=environment,
            cwd=self.root, timeout=300, check=False)
        stderr, marker, status = result.stderr.rpartition('@@exit ')
        if not marker:
            raise AssertionError(f'no exit status from mailman {args}: '
                                 f'{result.stderr}')
        result = subprocess.CompletedProcess(
            result.args, int(status), result.stdout, stderr)
        if check and result.returncode != 0:
            raise AssertionError(
                f'mailman {" ".join(args)} failed ({result.returncode}):\n'
                f'{result.stdout}\n{result.stderr}')
        return result

    def engine(self) -> Engine:
        return create_engine(self.database_url)


@dataclass
class ServerDatabase:
    """A scratch database created on a PostgreSQL or MySQL server."""

    server_url: str
    name: str = field(default_factory=lambda: 'mb_' + uuid.uuid4().hex[:12])

    @property
    def url(self) -> str:
        return make_url(self.server_url).set(database=self.name)\
            .render_as_string(hide_password=False)

    def _admin(self):
        url = make_url(self.server_url)
        if url.get_backend_name() == 'postgresql':
            url = url.set(database='postgres')
        return create_engine(url, isolation_level='AUTOCOMMIT')

    def create(self) -> None:
        with self._admin().connect() as connection:
            connection.execute(text(f'CREATE DATABASE {self.name}'))

    def drop(self) -> None:
        engine = self._admin()
        with engine.connect() as connection:
            if engine.dialect.name == 'postgresql':
                connection.execute(text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    f"WHERE datname = '{self.name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS {self.name}'))
        engine.dispose()
