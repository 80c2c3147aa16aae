"""The plugin takes over Mailman's bounce pipeline, and refuses bad
configuration at start-up."""

from __future__ import annotations

import pytest

from mailman_bounces.database.schema import head_revision


def test_processor_utility_is_the_plugins(mailman):
    from mailman.interfaces.bounce import IBounceProcessor
    from zope.component import getUtility

    from mailman_bounces.app.processor import BounceProcessor
    assert isinstance(getUtility(IBounceProcessor), BounceProcessor)


def test_runners_are_the_plugins(mailman):
    from mailman.config import config
    assert (getattr(config, 'runner.bounces')['class']
            == 'mailman_bounces.runners.bounce.BounceRunner')
    assert (getattr(config, 'runner.lmtp')['class']
            == 'mailman_bounces.runners.lmtp.LMTPRunner')
    periodic = getattr(config, 'runner.bouncepass')
    assert periodic['class'] == (
        'mailman_bounces.runners.periodic.PeriodicRunner')
    assert periodic['start'] == 'yes'


def test_plugin_is_registered(mailman):
    from mailman.config import config

    from mailman_bounces.plugin import BouncesPlugin
    assert isinstance(config.plugins['bounces'], BouncesPlugin)


def test_templates_are_known_to_mailman(mailman):
    from mailman.interfaces.template import ALL_TEMPLATES

    from mailman_bounces.app.templates import TEMPLATES, load_template
    for name in TEMPLATES:
        assert name in ALL_TEMPLATES
        assert load_template(name).strip(), name


def test_rest_plugin_resource(rest_url):
    from mailman.testing.helpers import call_api
    content, _ = call_api(f'{rest_url}/plugins')
    names = [entry['name'] for entry in content['entries']]
    assert 'bounces' in names
    content, _ = call_api(f'{rest_url}/plugins/bounces')
    assert content['name'] == 'mailman-bounces'


def test_mailman_info_is_clean_and_shows_the_plugin(instance):
    instance.write_config(plugin=True)
    result = instance.run('info')
    assert result.stderr == ''
    assert 'plugin bounces: mailman-bounces' in result.stdout
    assert ('bounce processor: mailman_bounces.app.processor.BounceProcessor'
            in result.stdout)
    head = head_revision()
    assert f'bounces schema: {head} (latest {head})' in result.stdout


@pytest.mark.parametrize('setting, value, allowed', [
    ('[bounces]\npass_interval', 'often', 'a duration'),
    ('[weights]\nuserunknown', '-1', 'a number from 0 to 10'),
    ('[list_defaults]\nscore_mode', 'strict', 'one of: mailman, sympa'),
    ('[outage]\nscope', 'planet', 'one of: list, site, both'),
])
def test_invalid_setting_stops_startup(instance, setting, value, allowed):
    bad = instance.root / 'bounces.cfg'
    bad.write_text(f'{setting}: {value}\n', encoding='utf-8')
    instance.write_config(plugin=True, extra='')
    text = instance.config_file.read_text(encoding='utf-8').replace(
        'enabled: yes', f'enabled: yes\nconfiguration: {bad}')
    instance.config_file.write_text(text, encoding='utf-8')
    result = instance.run('info', check=False)
    assert result.returncode != 0
    section, key = setting.split('\n')
    assert f'{section}{key}' in result.stderr
    assert repr(value) in result.stderr
    assert allowed in result.stderr
    assert 'plugin bounces' not in result.stdout


def test_unknown_key_stops_startup(instance):
    bad = instance.root / 'bounces.cfg'
    bad.write_text('[bounces]\nretention_days: 3\n', encoding='utf-8')
    instance.write_config(plugin=True)
    text = instance.config_file.read_text(encoding='utf-8').replace(
        'enabled: yes', f'enabled: yes\nconfiguration: {bad}')
    instance.config_file.write_text(text, encoding='utf-8')
    result = instance.run('info', check=False)
    assert result.returncode != 0
    assert 'retention_days' in result.stderr


def test_missing_configuration_file_stops_startup(instance, tmp_path):
    instance.write_config(plugin=True)
    missing = tmp_path / 'nowhere.cfg'
    text = instance.config_file.read_text(encoding='utf-8').replace(
        'enabled: yes', f'enabled: yes\nconfiguration: {missing}')
    instance.config_file.write_text(text, encoding='utf-8')
    result = instance.run('info', check=False)
    assert result.returncode != 0
    assert str(missing) in result.stderr


def test_removing_the_section_restores_core(instance):
    instance.write_config(plugin=True)
    instance.run('info')
    instance.write_config(plugin=False)
    result = instance.run('info')
    assert 'mailman-bounces' not in result.stdout
    probe = instance.run('shell', '-i', stdin=(
        'from zope.component import getUtility\n'
        'from mailman.interfaces.bounce import IBounceProcessor\n'
        'print("PROCESSOR", type(getUtility(IBounceProcessor)).__module__)\n'
    ), check=False)
    assert 'PROCESSOR mailman.model.bounce' in probe.stdout


def _post_when_listening(port: int, path: str, body: bytes,
                         headers: dict, process) -> int:
    import http.client
    import time
    deadline = time.monotonic() + 120
    while True:
        connection = http.client.HTTPConnection('127.0.0.1', port,
                                                timeout=30)
        try:
            connection.request('POST', path, body, headers)
            return connection.getresponse().status
        except ConnectionRefusedError:
            if process.poll() is not None or time.monotonic() > deadline:
                return -1
            time.sleep(0.5)
        finally:
            connection.close()


def test_bouncehook_runner_in_an_instance(instance):
    """Enabled in the configuration, the plugin adds the bouncehook runner;
    run as Mailman runs it, it takes a Postmark bounce over HTTP into the
    instance's database."""
    import base64
    import json
    import os
    import signal
    import subprocess
    from pathlib import Path

    from sqlalchemy import text

    from mailman_bounces.tests.instance import mailman_executable
    settings = instance.root / 'bounces.cfg'
    settings.write_text(
        '[webhooks]\nenabled: yes\nport: 9927\n'
        '[webhook.pm]\nprovider: postmark\nlist: test.example.com\n'
        'secret: pw\n', encoding='utf-8')
    instance.write_config(plugin=True)
    config_text = instance.config_file.read_text(encoding='utf-8').replace(
        'enabled: yes', f'enabled: yes\nconfiguration: {settings}')
    instance.config_file.write_text(config_text, encoding='utf-8')
    shown = instance.run('conf', '-s', 'runner.bouncehook').stdout
    assert 'mailman_bounces.runners.bouncehook.BounceHookRunner' in shown
    instance.run('create', 'test@example.com')
    # How the master starts each runner.
    command = [str(Path(mailman_executable()).with_name('runner')),
               '-C', str(instance.config_file)]
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith('MAILMAN_')}
    environment.update(instance.env)
    process = subprocess.Popen([*command, '-r', 'bouncehook'],
                               env=environment, cwd=instance.root,
                               stdout=subprocess.DEVNULL,
                               stderr=(instance.root / 'runner.err').open(
                                   'w'))
    try:
        record = {'RecordType': 'Bounce', 'ID': 42, 'Type': 'HardBounce',
                  'Email': 'anne@example.org',
                  'Details': '550 5.1.1 mailbox does not exist'}
        status = _post_when_listening(
            9927, '/webhooks/postmark/pm', json.dumps(record).encode(),
            {'Authorization': 'Basic ' + base64.b64encode(
                b'bounces:pw').decode()}, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    assert status == 200, (instance.root / 'runner.err').read_text()
    with instance.engine().connect() as connection:
        rows = connection.execute(text(
            'SELECT email, reason, provider_event_id FROM bounces_event'
        )).all()
    assert [tuple(row) for row in rows] == [
        ('anne@example.org', 'userunknown', '42')]
