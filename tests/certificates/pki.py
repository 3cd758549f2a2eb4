"""A test certificate authority and time-stamping service on a loopback port.

A root CA, an intermediate CA under it, the portal's signing certificate under the intermediate
and a TSA certificate under the root, each naming the CRL of its issuer at this server, which
publishes those CRLs and answers RFC 3161 time-stamp requests (pyHanko's TSA implementation)
over real HTTP, as a university's CA and a commercial TSA would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test PKI"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "RU")])


def _usage(**flags) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


@dataclass
class Issued:
    """A key and its certificate."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


@dataclass
class LocalPKI:
    """The CA's certificates, their files, and the server that publishes CRLs and timestamps."""

    url: str
    root: Issued
    intermediate: Issued
    signer: Issued
    tsa: Issued
    files: dict[str, Path] = field(default_factory=dict)
    #: requests the server answered, by path: what a signature fetched while being made
    requests: list[str] = field(default_factory=list)

    @property
    def tsa_url(self) -> str:
        return self.url + "/tsa"


def _issue(subject: str, issuer: Issued | None, *, ca: bool, crl_url: str | None,
           days: int, eku=None, now: datetime, rsa_key: bool = False) -> Issued:
    key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key
           else ec.generate_private_key(ec.SECP256R1()))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.cert.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
    else:
        builder = builder.add_extension(
            _usage(digital_signature=True, content_commitment=True), critical=True)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None,
            reasons=None, crl_issuer=None)]), critical=False)
    signing_key = issuer.key if issuer else key
    return Issued(key, builder.sign(signing_key, hashes.SHA256()))


def _crl(issuer: Issued, now: datetime) -> bytes:
    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(issuer.cert.subject)
           .last_update(now - timedelta(hours=1))
           .next_update(now + timedelta(days=30))
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
               issuer.key.public_key()), critical=False)
           .sign(issuer.key, hashes.SHA256()))
    return crl.public_bytes(serialization.Encoding.DER)


class _Handler(BaseHTTPRequestHandler):
    pki: LocalPKI
    crls: dict[str, bytes]
    stamper: object

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.pki.requests.append(self.path)
        body = self.crls.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self._answer(body, "application/pkix-crl")

    def do_POST(self):  # noqa: N802
        from asn1crypto import tsp

        self.pki.requests.append(self.path)
        if self.path != "/tsa":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length", "0"))
        request = tsp.TimeStampReq.load(self.rfile.read(length))
        self._answer(self.stamper.request_tsa_response(request).dump(),
                     "application/timestamp-reply")

    def _answer(self, body: bytes, mimetype: str):
        self.send_response(200)
        self.send_header("Content-Type", mimetype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PKIServer:
    """Start, use .pki, stop."""

    def __init__(self, folder: Path, signer_days: int = 365):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        url = f"http://127.0.0.1:{self.server.server_address[1]}"
        now = datetime.now(UTC)
        root = _issue("Test Root CA", None, ca=True, crl_url=None, days=3650, now=now)
        intermediate = _issue("Test Issuing CA", root, ca=True, crl_url=url + "/root.crl",
                              days=1825, now=now)
        signer = _issue("SPbPU certificates (test)", intermediate, ca=False,
                        crl_url=url + "/intermediate.crl", days=signer_days, now=now,
                        eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
        # pyHanko's TSA implementation signs with RSA only
        tsa = _issue("Test TSA", root, ca=False, crl_url=url + "/root.crl", days=3650, now=now,
                     eku=[ExtendedKeyUsageOID.TIME_STAMPING], rsa_key=True)
        self.pki = LocalPKI(url, root, intermediate, signer, tsa)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in (("key.pem", signer.key_pem()), ("cert.pem", signer.cert_pem()),
                              ("chain.pem", intermediate.cert_pem() + root.cert_pem()),
                              ("root.pem", root.cert_pem())):
            (folder / name).write_bytes(content)
            self.pki.files[name] = folder / name

        from asn1crypto import keys
        from asn1crypto import x509 as ax509
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        stamper = DummyTimeStamper(
            tsa_cert=ax509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER)),
            tsa_key=keys.PrivateKeyInfo.load(tsa.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())))
        handler = type("Handler", (_Handler,), {
            "pki": self.pki, "stamper": stamper,
            "crls": {"/root.crl": _crl(root, now), "/intermediate.crl": _crl(intermediate, now)},
        })
        self.server.RequestHandlerClass = handler
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalPKI:
        self.thread.start()
        return self.pki

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
