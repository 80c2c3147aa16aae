"""Amazon SNS message signatures.

SNS signs the fields listed for each message type (``Key\\nValue\\n`` in
this order, absent optional fields left out) with the key of an X.509
certificate it publishes at ``SigningCertURL``: RSA with SHA1 for
SignatureVersion 1, SHA256 for 2.  The certificate is only believed when
fetched over https from an ``sns.<region>.amazonaws.com`` host, whose TLS
certificate the system trust store checks; certificates are cached.

The signature covers ``Timestamp``, the time SNS published the message,
and a retry repeats the message as signed: a captured message verifies
forever.  `check_published` bounds its age: SNS retries an HTTP/S delivery
for at most `MAX_RETRYING` (the longest delivery policy AWS allows,
3600 s), so an older message is a replay; ``[webhooks]window`` is allowed
on top, and ahead, for clock skew.  The provider event ids the glue
remembers must outlive that bound (`seen_kept`).

Tests inject a `CertificateFetcher` trusting their own CA and resolving
the SNS host to loopback (`set_fetcher`); production uses the default.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import re
import socket
import ssl
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailman_bounces.esp.base import Unverified, check_age

_SIGNED_FIELDS = {
    'Notification': ('Message', 'MessageId', 'Subject', 'Timestamp',
                     'TopicArn', 'Type'),
    'SubscriptionConfirmation': ('Message', 'MessageId', 'SubscribeURL',
                                 'Timestamp', 'Token', 'TopicArn', 'Type'),
    'UnsubscribeConfirmation': ('Message', 'MessageId', 'SubscribeURL',
                                'Timestamp', 'Token', 'TopicArn', 'Type'),
}
_HASHES = {'1': hashes.SHA1, '2': hashes.SHA256}
SNS_HOST = re.compile(r'^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$')
# A certificate is a few KiB; never read more from anyone.
MAX_CERTIFICATE = 65536
CACHE_SIZE = 32
# The longest SNS retries delivering a message to an HTTP/S endpoint
# (numRetries and the delays of a delivery policy may add up to 3600 s).
MAX_RETRYING = timedelta(hours=1)


def string_to_sign(message: dict) -> bytes:
    """The bytes SNS signs for `message`."""
    fields = _SIGNED_FIELDS.get(message.get('Type'))
    if fields is None:
        raise Unverified('unknown SNS message type')
    parts = []
    for name in fields:
        value = message.get(name)
        if value is None and name == 'Subject':
            continue
        if not isinstance(value, str):
            raise Unverified(f'SNS field {name} missing')
        parts.append(f'{name}\n{value}\n')
    return ''.join(parts).encode('utf-8')


def check_published(message: dict, now: float, window: float) -> None:
    """Raise `Stale` (an `Unverified`) unless `message` was published at
    most `MAX_RETRYING` plus `window` seconds ago and at most `window`
    seconds ahead of `now`."""
    stamp = message.get('Timestamp')
    try:
        published = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise Unverified('bad SNS Timestamp') from None
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    check_age(now - published.timestamp(),
              MAX_RETRYING.total_seconds() + window, window,
              f'SNS Timestamp {stamp}')


def seen_kept(window: timedelta) -> timedelta:
    """How long a provider event id must be remembered for a replay of its
    message to be refused by the id until `check_published` refuses it: a
    message is received at most `window` before its Timestamp (skew)."""
    return MAX_RETRYING + 2 * window


def sns_url_problem(url: str) -> str | None:
    """Why `url` is not an SNS URL to be trusted, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return 'not a URL'
    if parts.scheme != 'https' or port not in (None, 443):
        return 'not https'
    if not SNS_HOST.match(parts.hostname or ''):
        return 'not an sns.<region>.amazonaws.com host'
    return None


class CertificateFetcher:
    """Fetches https URLs of SNS hosts (certificates, subscription
    confirmations), checking the host's TLS certificate."""

    def __init__(self, context: ssl.SSLContext | None = None,
                 resolve: dict[str, tuple[str, int]] | None = None,
                 timeout: float = 10.0) -> None:
        self.context = context or ssl.create_default_context()
        # Tests only: host name -> (address, port) to connect to instead.
        self.resolve = resolve or {}
        self.timeout = timeout

    def get(self, url: str) -> bytes:
        problem = sns_url_problem(url)
        if problem:
            raise Unverified(f'{url}: {problem}')
        parts = urlsplit(url)
        host = parts.hostname
        connection = http.client.HTTPSConnection(
            host, timeout=self.timeout, context=self.context)
        if host in self.resolve:
            address = self.resolve[host]

            def connect() -> None:
                sock = socket.create_connection(address, self.timeout)
                connection.sock = self.context.wrap_socket(
                    sock, server_hostname=host)
            connection.connect = connect
        path = parts.path + ('?' + parts.query if parts.query else '')
        try:
            connection.request('GET', path or '/')
            response = connection.getresponse()
            body = response.read(MAX_CERTIFICATE + 1)
        except (OSError, http.client.HTTPException) as error:
            raise Unverified(f'cannot fetch {url}: {error}') from None
        finally:
            connection.close()
        if response.status != 200 or len(body) > MAX_CERTIFICATE:
            raise Unverified(f'cannot fetch {url}: HTTP {response.status}')
        return body


_fetcher = CertificateFetcher()
_cache: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
_lock = threading.Lock()


def set_fetcher(fetcher: CertificateFetcher | None) -> CertificateFetcher:
    """Install `fetcher` (None: the default); return the previous one.
    Tests only.  Empties the certificate cache."""
    global _fetcher
    previous, _fetcher = _fetcher, fetcher or CertificateFetcher()
    with _lock:
        _cache.clear()
    return previous


def fetcher() -> CertificateFetcher:
    return _fetcher


def _public_key(url: str) -> rsa.RSAPublicKey:
    with _lock:
        if url in _cache:
            _cache.move_to_end(url)
            return _cache[url]
    try:
        certificate = x509.load_pem_x509_certificate(_fetcher.get(url))
    except ValueError:
        raise Unverified(f'{url}: not a PEM certificate') from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Unverified(f'{url}: not an RSA certificate')
    with _lock:
        _cache[url] = key
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return key


def verify_message(message: dict) -> None:
    """Raise `Unverified` unless SNS signed `message`."""
    algorithm = _HASHES.get(str(message.get('SignatureVersion')))
    if algorithm is None:
        raise Unverified('unknown SNS SignatureVersion')
    url = message.get('SigningCertURL')
    if not isinstance(url, str) or sns_url_problem(url):
        raise Unverified('SigningCertURL not on an SNS host')
    try:
        signature = base64.b64decode(str(message.get('Signature')),
                                     validate=True)
    except binascii.Error:
        raise Unverified('bad SNS signature encoding') from None
    signed = string_to_sign(message)
    try:
        _public_key(url).verify(signature, signed, padding.PKCS1v15(),
                                algorithm())
    except InvalidSignature:
        raise Unverified('bad SNS signature') from None
