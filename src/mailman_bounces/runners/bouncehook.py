"""The ``bouncehook`` runner: the HTTP listener for ESP webhooks.

Started like core's ``rest`` runner (a non-queue runner serving HTTP),
when ``[webhooks]enabled`` is yes, on ``[webhooks]host`` and ``port``;
meant to sit behind the site's reverse proxy.  It serves POST
``/webhooks/<provider>/<endpoint>`` and hands each request to
`mailman_bounces.app.webhooks.accept`.  A body over ``[webhooks]max_body``
is refused with 413 before it is read.
"""

from __future__ import annotations

import json
import logging
from contextlib import suppress
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from mailman.core.runner import Runner
from mailman.interfaces.runner import RunnerInterrupt
from public import public

from mailman_bounces.app.webhooks import Answer, accept
from mailman_bounces.config import site_config

log = logging.getLogger('mailman.bounce')

# A client that sends nothing for this long is dropped.
SOCKET_TIMEOUT = 30
_REASONS = {200: 'OK', 400: 'Bad Request', 401: 'Unauthorized',
            404: 'Not Found', 405: 'Method Not Allowed',
            411: 'Length Required', 413: 'Content Too Large',
            503: 'Service Unavailable'}


def _respond(start_response, answer: Answer) -> list[bytes]:
    body = json.dumps({'status': answer.message, 'stored': answer.stored,
                       'ignored': answer.ignored}).encode()
    headers = [('Content-Type', 'application/json'),
               ('Content-Length', str(len(body)))]
    if answer.status == 401:
        headers.append(('WWW-Authenticate', 'Basic realm="bounces"'))
    start_response(f'{answer.status} {_REASONS[answer.status]}', headers)
    return [body]


def _headers(environ: dict) -> dict[str, str]:
    headers = {key[5:].replace('_', '-').lower(): value
               for key, value in environ.items() if key.startswith('HTTP_')}
    if environ.get('CONTENT_TYPE'):
        headers['content-type'] = environ['CONTENT_TYPE']
    return headers


@public
def application(environ: dict, start_response) -> list[bytes]:
    """The WSGI application of the listener."""
    segments = environ.get('PATH_INFO', '').strip('/').split('/')
    if len(segments) != 3 or segments[0] != 'webhooks':
        return _respond(start_response, Answer(404, 'not found'))
    if environ.get('REQUEST_METHOD') != 'POST':
        return _respond(start_response, Answer(405, 'POST only'))
    try:
        length = int(environ.get('CONTENT_LENGTH') or '')
    except ValueError:
        return _respond(start_response, Answer(411, 'length required'))
    if length < 0 or length > site_config().webhooks.max_body:
        return _respond(start_response, Answer(413, 'too large'))
    body = environ['wsgi.input'].read(length)
    return _respond(start_response,
                    accept(segments[1], segments[2], _headers(environ),
                           body))


class _Handler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT

    def log_message(self, format, *args):
        log.debug('bouncehook: %s', format % args)


@public
def make_listener(host: str | None = None, port: int | None = None
                  ) -> WSGIServer:
    """The listener's server (not yet serving)."""
    settings = site_config().webhooks
    return make_server(settings.host if host is None else host,
                       settings.port if port is None else port,
                       application, handler_class=_Handler)


@public
class BounceHookRunner(Runner):
    """Serves the ESP webhook listener."""

    is_queue_runner = False

    def run(self):
        """See `IRunner`."""
        server = make_listener()
        log.info('bouncehook listening on %s:%s', *server.server_address[:2])
        with suppress(RunnerInterrupt):
            server.serve_forever()
        server.server_close()
