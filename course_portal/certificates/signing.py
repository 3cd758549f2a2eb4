"""PAdES signatures with pyHanko: sign a certificate PDF, check one, make a development key pair."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l

from course_portal.certificates.pdf import CertificateError

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


class SigningFailed(CertificateError):
    """The PDF could not be signed: a TSA or CA that did not answer, a key that did not load."""

    message = _l("The PDF could not be signed now: the time-stamping service or the "
                 "certification authority did not answer. The portal makes it again by itself "
                 "within minutes; the log says why.")


@dataclass(frozen=True)
class LongTerm:
    """What a signature carries so that it still validates years later, when its certificates
    have expired and their CA's servers may be gone (PAdES B-LT, and B-LTA with a timestamp).

    chain: the PEM file of the CA certificates above the signer's, up to the root
    (SIGNING_CHAIN_PATH); tsa_url: an RFC 3161 time-stamping service (SIGNING_TSA_URL).
    """

    chain: Path | None = None
    tsa_url: str = ""
    #: seconds to wait for the TSA and for each CRL or OCSP answer
    timeout: int = 10


def long_term(config) -> LongTerm:
    """The long-term settings of the configuration."""
    chain = config.get("SIGNING_CHAIN_PATH") or ""
    return LongTerm(chain=Path(chain) if chain else None,
                    tsa_url=config.get("SIGNING_TSA_URL") or "",
                    timeout=int(config.get("SIGNING_NETWORK_TIMEOUT") or 10))


def _pem_certificates(path: Path) -> list:
    from asn1crypto import pem, x509

    data = path.read_bytes()
    if not pem.detect(data):
        return [x509.Certificate.load(data)]
    return [x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(data, True)]


def _signer(key_path: Path, cert_path: Path, chain: Path | None = None):
    """The pyHanko signer for the pair (and its chain), loaded once per process and file version."""
    from pyhanko.sign import signers

    files = [key_path, cert_path, *([chain] if chain else [])]
    cache_key = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    with _signers_lock:
        signer = _signers.get(cache_key)
        if signer is None:
            signer = signers.SimpleSigner.load(
                str(key_path), str(cert_path), ca_chain_files=(str(chain),) if chain else None)
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
             location: str = LOCATION, long_term: LongTerm | None = None) -> bytes:
    """The PDF with a PAdES signature appended as an incremental update.

    The signature embeds the signer's certificate chain and, in the document security store,
    the CRLs or OCSP answers that show it was not revoked (fetched from the addresses its
    certificates name; a certificate whose CA publishes none is embedded without). With a TSA,
    the signature gets a timestamp and the file a document timestamp over all of it (B-LTA),
    so a validator can still check it after the certificates expire.
    """
    import asyncio

    try:
        return asyncio.run(_sign(pdf, key_path, cert_path, reason=reason, location=location,
                                 long_term=long_term or LongTerm()))
    except Exception as exc:  # noqa: BLE001 (pyHanko, aiohttp and the network raise many kinds)
        raise SigningFailed(f"signing failed: {type(exc).__name__}: {exc}") from exc


async def _sign(pdf: bytes, key_path: Path, cert_path: Path, *, reason: str, location: str,
                long_term: LongTerm) -> bytes:
    import aiohttp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    signer = _signer(key_path, cert_path, long_term.chain)
    chain = _pem_certificates(long_term.chain) if long_term.chain else []
    own = signer.signing_cert
    # asn1crypto answers "yes", "maybe" (the signature not checked) or "no"
    roots = [c for c in [own, *chain] if c.self_signed != "no"] or [own]
    # one HTTP session for the CRLs, OCSP answers and the TSA, closed when the PDF is signed
    async with aiohttp.ClientSession() as session:
        context = ValidationContext(
            trust_roots=roots, other_certs=chain, allow_fetching=True,
            # a CA that answers nothing must not stop a certificate from being issued: it is
            # signed without that answer
            revocation_mode="soft-fail",
            fetcher_backend=AIOHttpFetcherBackend(session, per_request_timeout=long_term.timeout),
        )
        timestamper = (timestamps.HTTPTimeStamper(long_term.tsa_url, timeout=long_term.timeout,
                                                  session=session)
                       if long_term.tsa_url else None)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            embed_validation_info=True,
            validation_context=context,
            use_pades_lta=timestamper is not None,
        )
        out = await signers.async_sign_pdf(writer, metadata, signer=signer,
                                           timestamper=timestamper)
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


def covers_whole_file(status, data: bytes) -> bool:
    """True when nothing but validation data was added to the file after it was signed.

    A long-term signature is followed by revisions that add only the document security store
    (certificates, CRLs, OCSP answers) and a document timestamp; pyHanko's difference analysis
    says so (LTA_UPDATES). Bytes appended past the last revision's end are no revision at all,
    so the file must also end with it.
    """
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and status.modification_level is not None
            and status.modification_level <= ModificationLevel.LTA_UPDATES
            and bool(status.docmdp_ok) and data.rstrip().endswith(b"%%EOF"))


def check_signature(pdf: bytes, trusted_cert_path: Path) -> SignatureCheck | None:
    """Validate the PDF's first signature against one trusted certificate; None if unsigned."""
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
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
        covers_whole_file=covers_whole_file(status, pdf),
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
