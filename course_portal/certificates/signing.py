"""PAdES signatures with pyHanko: sign a certificate PDF, check one, make a development key pair."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

#: the name of the signature field each certificate carries
FIELD_NAME = "SPbPU-Certificate"

_signers: dict[tuple, object] = {}
_signers_lock = threading.Lock()


def signing_paths(config) -> tuple[Path, Path] | None:
    """(key, certificate) from SIGNING_KEY_PATH and SIGNING_CERT_PATH, or None when unset."""
    key, cert = config.get("SIGNING_KEY_PATH") or "", config.get("SIGNING_CERT_PATH") or ""
    if not key and not cert:
        return None
    if not key or not cert:
        raise RuntimeError("set both SIGNING_KEY_PATH and SIGNING_CERT_PATH, or neither")
    return Path(key), Path(cert)


def _signer(key_path: Path, cert_path: Path):
    """The pyHanko signer for the pair, loaded once per process and file version."""
    from pyhanko.sign import signers

    cache_key = (str(key_path), str(cert_path), key_path.stat().st_mtime_ns,
                 cert_path.stat().st_mtime_ns)
    with _signers_lock:
        signer = _signers.get(cache_key)
        if signer is None:
            signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
            if signer is None:
                raise RuntimeError(f"could not load the signing key {key_path} or {cert_path}")
            _signers.clear()
            _signers[cache_key] = signer
    return signer


#: the signature's reason and place, as a PDF reader shows them ("Reason: …"), when the
#: caller gives none; the portal gives them in its three languages (signature_words)
REASON = "Certificate of advanced training issued by SPbPU"
LOCATION = "Saint Petersburg"
#: the languages of the words, in the certificate's order (Russian first: a Russian document)
LANGUAGES = ("ru", "zh", "en")


def signature_words(cities: dict[str, str] | None = None) -> tuple[str, str]:
    """(reason, location) in Russian, Chinese and English, from the portal's catalogs.

    A PDF signature has one reason for every reader, and the certificate is read in all three
    languages: "Удостоверение … / 圣彼得堡理工大学… / Certificate …". cities: the place in
    each language, as the certificate prints it.
    """
    from flask_babel import force_locale
    from flask_babel import gettext as _

    reasons = []
    for language in LANGUAGES:
        with force_locale(language):
            reasons.append(_("Certificate of advanced training issued by SPbPU"))
    cities = cities or {}
    places = [cities.get(language) or "" for language in LANGUAGES]
    location = " / ".join(dict.fromkeys(place for place in places if place)) or LOCATION
    return " / ".join(dict.fromkeys(reasons)), location


def sign_pdf(pdf: bytes, key_path: Path, cert_path: Path, *, reason: str = REASON,
             location: str = LOCATION) -> bytes:
    """The PDF with a PAdES baseline signature appended as an incremental update."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    out = signers.sign_pdf(writer, metadata, signer=_signer(key_path, cert_path))
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    """What validating a PDF's signature found."""

    #: the signed bytes hash to the signed digest
    intact: bool
    #: the cryptographic signature is correct
    valid: bool
    #: the signer's certificate chains to a trusted root
    trusted: bool
    #: the signature covers the whole file (nothing appended after it)
    covers_whole_file: bool
    signer: str

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and covering the whole file."""
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def check_signature(pdf: bytes, trusted_cert_path: Path) -> SignatureCheck | None:
    """Validate the PDF's first signature against one trusted certificate; None if unsigned."""
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    data = trusted_cert_path.read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    root = x509.Certificate.load(data)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if not reader.embedded_signatures:
        return None
    status = validate_pdf_signature(
        reader.embedded_signatures[0], ValidationContext(trust_roots=[root])
    )
    return SignatureCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )


def make_dev_key_pair(key_path: Path, cert_path: Path, common_name: str, days: int = 3650) -> None:
    """Write a self-signed EC P-256 key (PEM, unencrypted) and certificate for development."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([
        cx509.NameAttribute(NameOID.COMMON_NAME, common_name),
        cx509.NameAttribute(NameOID.ORGANIZATION_NAME,
                            "Peter the Great St. Petersburg Polytechnic University"),
        cx509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
    ])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(digital_signature=True, content_commitment=True,
                           key_encipherment=False, data_encipherment=False, key_agreement=False,
                           key_cert_sign=True, crl_sign=True, encipher_only=False,
                           decipher_only=False),
            critical=True,
        )
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
