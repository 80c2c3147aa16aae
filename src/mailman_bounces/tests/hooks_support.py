"""Real parts for the webhook and callback tests: keys and certificates
made here, an HTTPS server posing as SNS on loopback, a client posting to
the listener, and a callback receiver that fails on command."""

from __future__ import annotations

import base64
import datetime
import http.client
import http.server
import json
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from mailman_bounces.esp.sns import string_to_sign


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, key, issuer_key, issuer: str, *, ca=False,
                 hosts=()):
    start = datetime.datetime(2020, 1, 1)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(_name(issuer)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=36500))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(host) for host in hosts]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakeAWS:
    """A CA, a TLS certificate for the SNS host, and the SNS signing key
    and certificate, all made here."""

    host: str = 'sns.us-east-1.amazonaws.com'
    ca_key: rsa.RSAPrivateKey = field(init=False)
    signing_key: rsa.RSAPrivateKey = field(init=False)

    def __post_init__(self) -> None:
        self.ca_key = rsa.generate_private_key(65537, 2048)
        self.ca = _certificate('Test CA', self.ca_key, self.ca_key,
                               'Test CA', ca=True)
        self.tls_key = rsa.generate_private_key(65537, 2048)
        self.tls = _certificate(self.host, self.tls_key, self.ca_key,
                                'Test CA', hosts=(self.host,))
        self.signing_key = rsa.generate_private_key(65537, 2048)
        self.signing = _certificate('sns signing', self.signing_key,
                                    self.ca_key, 'Test CA')

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cadata=pem(self.ca).decode())
        return context

    def server_context(self, directory: Path) -> ssl.SSLContext:
        cert, key = directory / 'tls.pem', directory / 'tls.key'
        cert.write_bytes(pem(self.tls))
        key.write_bytes(self.tls_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def sign(self, message: dict, version: str = '1') -> dict:
        """`message` signed as SNS does."""
        message = {**message, 'SignatureVersion': version,
                   'SigningCertURL': f'https://{self.host}/SimpleNotification'
                                     'Service-test.pem'}
        algorithm = hashes.SHA1() if version == '1' else hashes.SHA256()
        signature = self.signing_key.sign(string_to_sign(message),
                                          padding.PKCS1v15(), algorithm)
        message['Signature'] = base64.b64encode(signature).decode()
        return message


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class SNSServer:
    """An HTTPS server on loopback answering as the SNS host: the signing
    certificate, and subscription confirmations (recorded)."""

    def __init__(self, aws: FakeAWS, directory: Path) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(_Quiet):
            def do_GET(self):
                outer.requests.append(self.path)
                body = pem(aws.signing) if self.path.endswith('.pem') \
                    else b'<ConfirmSubscriptionResponse/>'
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.socket = aws.server_context(directory).wrap_socket(
            self.server.socket, server_side=True)
        self.address = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def post(server, path: str, body: bytes, headers: dict | None = None,
         length: int | None = None) -> tuple[int, dict]:
    """POST to the listener over real HTTP.  The listener handles the
    request in this (the test's) thread, the client runs in another, so
    the database is only used by this thread."""
    result: dict = {}
    host, port = server.server_address[:2]

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            sent = dict(headers or {})
            sent['Content-Length'] = str(len(body) if length is None
                                         else length)
            connection.request('POST', path, body, sent)
            response = connection.getresponse()
            result['status'] = response.status
            result['body'] = json.loads(response.read() or b'{}')
        except OSError as error:
            result['error'] = error
        finally:
            connection.close()

    thread = threading.Thread(target=client)
    thread.start()
    server.handle_request()
    thread.join(30)
    if 'error' in result:
        raise result['error']
    return result['status'], result['body']


class Receiver:
    """A callback receiver on loopback that answers as told: a list of
    (status, headers) or 'timeout', one per request, then 204s."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict] = []
        self.answers: list = []
        self.hang = threading.Event()
        outer = self

        class Handler(_Quiet):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                outer.received.append({'headers': dict(self.headers),
                                       'body': body})
                answer = outer.answers.pop(0) if outer.answers else (204, {})
                if answer == 'timeout':
                    outer.hang.wait(5)
                    return
                status, headers = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header('Content-Length', '0')
                self.end_headers()

        # A port given: the receiver coming back where it was.
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', port),
                                                      Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/hook'
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hang.set()
        self.server.shutdown()
        self.server.server_close()


def sendgrid_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, base64.b64encode(der).decode()


def sendgrid_sign(key, timestamp: str, body: bytes) -> str:
    return base64.b64encode(key.sign(timestamp.encode() + body,
                                     ec.ECDSA(hashes.SHA256()))).decode()
