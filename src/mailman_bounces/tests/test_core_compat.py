"""What code written for Mailman core expects still holds with the plugin:
its queues, its template REST resources, its IBounceProcessor callers and
its message store.  (Mailman's own suite checks the rest: see
core_suite.py.)"""

from __future__ import annotations

import pytest

from mailman_bounces.tests.helpers import commit, make_list
from mailman_bounces.tests.samples import dsn

# --- the periodic runner has no queue --------------------------------------


def test_the_periodic_runner_has_no_queue(mailman):
    from mailman.config import config
    # Like core's non-queue runners (rest, task): an empty path ...
    assert getattr(config, 'runner.bouncepass').path == ''
    assert getattr(config, 'runner.rest').path == ''
    # ... so core makes no switchboard for it, while the bounce queue the
    # plugin's bounce runner reads is still there.
    assert 'bouncepass' not in config.switchboards
    assert 'bounces' in config.switchboards


def test_rest_lists_no_queue_for_the_periodic_runner(rest_url):
    from mailman.testing.helpers import call_api
    content, _ = call_api(f'{rest_url}/queues')
    names = {entry['name'] for entry in content['entries']}
    assert 'bouncepass' not in names
    assert {'bounces', 'in', 'out', 'virgin', 'shunt'} <= names


# --- template URIs through REST ----------------------------------------------


def _core_list_templates() -> list[str]:
    from mailman.interfaces.template import ALL_TEMPLATES

    from mailman_bounces.app.templates import TEMPLATES
    return [name for name in ALL_TEMPLATES
            if name.startswith('list:') and name not in TEMPLATES]


def _uri(list_id: str, name: str) -> str | None:
    from mailman.config import config
    from mailman.interfaces.template import ITemplateManager
    from zope.component import getUtility
    config.db.abort()
    template = getUtility(ITemplateManager).raw(name, list_id)
    return None if template is None else template.uri


DISABLE = 'list:admin:notice:bounce-disable'
WARNING = 'list:user:notice:bounce-warning'


def test_put_of_cores_templates_keeps_the_plugins(rest_url):
    from mailman.testing.helpers import call_api
    make_list('ant@example.com')
    url = f'{rest_url}/lists/ant.example.com/uris'
    # The plugin's template is overridable like core's (PATCH) ...
    _, response = call_api(url, {DISABLE: 'http://example.org/disable'},
                           method='PATCH')
    assert response.status_code == 204
    # ... and a PUT written for core, naming core's templates only, works
    # and leaves it alone.
    body = dict.fromkeys(_core_list_templates(), '')
    body['list:member:regular:footer'] = 'http://example.org/footer'
    _, response = call_api(url, body, method='PUT')
    assert response.status_code == 204
    assert _uri('ant.example.com', 'list:member:regular:footer') == (
        'http://example.org/footer')
    assert _uri('ant.example.com', DISABLE) == 'http://example.org/disable'
    # A PUT that names a plugin template sets it too.
    body[WARNING] = 'http://example.org/warning'
    _, response = call_api(url, body, method='PUT')
    assert response.status_code == 204
    assert _uri('ant.example.com', WARNING) == 'http://example.org/warning'
    # The single-template resource answers for the plugin's names.
    content, _ = call_api(f'{url}/{WARNING}')
    assert content['uri'] == 'http://example.org/warning'


def test_put_still_requires_every_core_template(rest_url):
    from urllib.error import HTTPError

    from mailman.testing.helpers import call_api
    make_list('ant@example.com')
    body = dict.fromkeys(_core_list_templates(), '')
    del body['list:member:regular:footer']
    with pytest.raises(HTTPError) as raised:
        call_api(f'{rest_url}/lists/ant.example.com/uris', body,
                 method='PUT')
    assert raised.value.code == 400
    # Only the core template left out is missing, none of the plugin's.
    assert raised.value.reason == (
        'Missing Parameter: list:member:regular:footer')


def test_put_at_site_and_domain_level(rest_url):
    from mailman.interfaces.template import ALL_TEMPLATES
    from mailman.testing.helpers import call_api

    from mailman_bounces.app.templates import TEMPLATES
    core = [name for name in ALL_TEMPLATES if name not in TEMPLATES]
    _, response = call_api(f'{rest_url}/uris', dict.fromkeys(core, ''),
                           method='PUT')
    assert response.status_code == 204
    domain = [name for name in core
              if name.startswith(('list:', 'domain:'))]
    _, response = call_api(f'{rest_url}/domains/example.com/uris',
                           dict.fromkeys(domain, ''), method='PUT')
    assert response.status_code == 204


# --- IBounceProcessor.register as core's callers use it ----------------------


def _message(email: str, message_id: str | None = '<dsn-1@mx.example.org>'):
    from mailman.testing.helpers import specialized_message_from_string
    msg = specialized_message_from_string(dsn(email, message_id=message_id))
    if message_id is None:
        del msg['message-id']
    return msg


def test_register_takes_the_context_as_core_and_the_interface_name_it(
        mailman):
    from mailman.interfaces.bounce import BounceContext, IBounceProcessor
    from zope.component import getUtility
    mlist = make_list(members=['anne@example.org'])
    processor = getUtility(IBounceProcessor)
    msg = _message('anne@example.org')
    # Core's callers pass it positionally, core's tests as where=, the
    # interface calls it context.
    positional = processor.register(mlist, 'anne@example.org', msg,
                                    BounceContext.probe)
    where = processor.register(mlist, 'anne@example.org', msg,
                               where=BounceContext.probe)
    context = processor.register(mlist, 'anne@example.org', msg,
                                 context=BounceContext.probe)
    default = processor.register(mlist, 'anne@example.org', msg)
    assert positional.context == BounceContext.probe
    # The same bounce in the same context is one event, however named.
    assert positional.id == where.id == context.id
    assert default.context == BounceContext.normal
    assert default.id != positional.id
    with pytest.raises(TypeError, match='not both'):
        processor.register(mlist, 'anne@example.org', msg,
                           where=BounceContext.probe,
                           context=BounceContext.normal)


def test_a_registered_bounce_is_in_cores_message_store(mailman):
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.interfaces.messages import IMessageStore
    from mailman.interfaces.pending import IPendings
    from zope.component import getUtility
    mlist = make_list(members=['anne@example.org'])
    event = getUtility(IBounceProcessor).register(
        mlist, 'anne@example.org', _message('anne@example.org'))
    commit()
    assert event.message_id == '<dsn-1@mx.example.org>'
    stored = getUtility(IMessageStore).get_message_by_id(event.message_id)
    assert stored is not None
    assert 'anne@example.org' in stored.as_string()
    # Pended, so that core's task runner does not evict it as an orphan
    # before [mailman]dsn_lifetime.
    pended = [pendable.get('_mod_message_id')
              for _, pendable in getUtility(IPendings)]
    assert pended == ['<dsn-1@mx.example.org>']


def test_storing_in_cores_message_store_keeps_the_fingerprint():
    # Core's message store appends Message-ID-Hash headers to the message
    # it stores; the same bounce registered again must still be recognised.
    from mailman.utilities.email import add_message_hash

    from mailman_bounces.app.store import fingerprint, message_bytes
    msg = _message('anne@example.org')
    before = fingerprint(message_bytes(msg))
    add_message_hash(msg)
    assert 'Message-ID-Hash' in msg
    assert fingerprint(message_bytes(msg)) == before


def test_a_bounce_without_message_id_is_registered_not_stored(mailman):
    from mailman.interfaces.bounce import IBounceProcessor
    from mailman.interfaces.messages import IMessageStore
    from zope.component import getUtility
    mlist = make_list(members=['anne@example.org'])
    msg = _message('anne@example.org', message_id=None)
    processor = getUtility(IBounceProcessor)
    event = processor.register(mlist, 'anne@example.org', msg)
    again = processor.register(mlist, 'anne@example.org', msg)
    commit()
    assert event.message_id is None
    # Nothing was added to the message, so registration stays idempotent.
    assert again.id == event.id
    assert 'message-id' not in msg
    assert list(getUtility(IMessageStore).messages) == []


# --- IBounceProcessor.process_event as core's callers use it -----------------


def test_process_event_refuses_a_non_member_like_core(mailman):
    from mailman.interfaces.bounce import IBounceProcessor, InvalidBounceEvent
    from zope.component import getUtility
    mlist = make_list(members=['anne@example.org'])
    processor = getUtility(IBounceProcessor)
    event = processor.register(mlist, 'bart@example.org',
                               _message('bart@example.org'))
    commit()
    with pytest.raises(InvalidBounceEvent, match='not a subscriber'):
        processor.process_event(event)
    # Marked processed (and committed), as core does, so it is not tried
    # again.
    assert list(processor.unprocessed) == []


def test_process_event_refuses_an_event_of_a_removed_list(mailman):
    from mailman.app.lifecycle import remove_list
    from mailman.interfaces.bounce import IBounceProcessor, InvalidBounceEvent
    from zope.component import getUtility
    mlist = make_list(members=['anne@example.org'])
    processor = getUtility(IBounceProcessor)
    event = processor.register(mlist, 'anne@example.org',
                               _message('anne@example.org'))
    remove_list(mlist)
    commit()
    with pytest.raises(InvalidBounceEvent, match='non-existent list'):
        processor.process_event(event)
    assert list(processor.unprocessed) == []
