"""A PDF dropped on /verify: which certificate it is, if any, and what its signature says.

A certificate's PDF is frozen when it is issued and its SHA-256 is stored beside it, so a file
whose SHA-256 is that of a certificate is that certificate, byte for byte: nothing else needs
comparing. A file that matches none is either not the portal's or was changed after issue;
its PAdES signature, when it carries one, tells which part (broken, or covering only part of
the file after something was appended).

The file is read into memory, at most MAX_FILE_BYTES, checked and forgotten: it is never
written to disk or to the database, and nothing about it is logged but its size and hash.
"""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.certificates.models import Certificate
from course_portal.enrollment.documents import MAX_DOCUMENT_BYTES
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: the limit of an application document; a certificate's PDF is well under 1 MB
MAX_FILE_BYTES = MAX_DOCUMENT_BYTES
#: a PDF's header may follow a few bytes of junk, and readers accept it within the first KB
PDF_MAGIC = b"%PDF-"
#: magic bytes of pictures someone may take for the certificate: a photo, a scan, a screenshot
PICTURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
#: characters of a signer's name shown at most (it comes from whoever made the file)
SIGNER_MAX_LENGTH = 200
#: a file that matches no certificate has its signature read only up to this size: a
#: certificate's PDF is 80–400 KB, and pyHanko spent 2.6–3.5 s on 10 MB files built to be
#: slow to parse (one long line), about 0.3 s a megabyte
SIGNATURE_CHECK_MAX_BYTES = 2 * 1024 * 1024


class FileRefused(Exception):  # noqa: N818 (reads as the event it reports)
    """The file cannot be checked; the message says why and what to do instead."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class SignatureFound:
    """What the file's first PAdES signature says, whoever made it."""

    #: the signed bytes hash to the signed digest and the signature over them is correct
    intact: bool
    #: the signature covers the whole file: nothing was appended after signing
    covers_whole_file: bool
    #: the signer's name from its certificate (common name, organisation)
    signer: str

    @property
    def holds(self) -> bool:
        """Intact and covering the whole file."""
        return self.intact and self.covers_whole_file


@dataclass(frozen=True)
class FileAnswer:
    """The answer for one file: its hash, the certificate it is (if any), its signature."""

    sha256: str
    size: int
    certificate: Certificate | None
    #: None when the file carries no signature (or it could not be read: signature_unreadable)
    signature: SignatureFound | None
    signature_unreadable: bool = False
    #: the file is too large for its signature to be read (SIGNATURE_CHECK_MAX_BYTES)
    signature_unchecked: bool = False

    @property
    def matches(self) -> bool:
        """The file is, byte for byte, a certificate the portal issued."""
        return self.certificate is not None


def read_upload(stream) -> bytes:
    """The upload's bytes, at most MAX_FILE_BYTES; FileRefused when empty or larger."""
    data = stream.read(MAX_FILE_BYTES + 1) if stream is not None else b""
    if not data:
        raise FileRefused(_l("The file is empty. Choose the certificate's PDF file again."))
    if len(data) > MAX_FILE_BYTES:
        raise too_large()
    return data


def too_large() -> FileRefused:
    """The refusal of a file over the limit (also when the request itself was too large)."""
    return FileRefused(_l(
        "The file is larger than %(size)s MB, far larger than a certificate's PDF. Choose the "
        "PDF as you received it.", size=MAX_FILE_BYTES // (1024 * 1024)))


def check_pdf_bytes(data: bytes) -> None:
    """FileRefused unless the bytes begin like a PDF: a picture is named as one."""
    if PDF_MAGIC in data[:1024]:
        return
    for magic, kind in PICTURES:
        if data.startswith(magic):
            raise FileRefused(_l(
                "This file is a picture (%(kind)s), not a PDF, whatever its name says. A photo "
                "or a scan cannot be checked here: type the registry number printed on the "
                "certificate instead.", kind=kind))
    raise FileRefused(_l(
        "This file is not a PDF, whatever its name says. Choose the certificate's PDF file as "
        "you received it, or type its registry number instead."))


def certificate_with_hash(sha256: str) -> Certificate | None:
    """The certificate whose stored PDF has this SHA-256, with what its page links to."""
    return db.session.scalars(
        select(Certificate).where(Certificate.pdf_sha256 == sha256)
        .options(selectinload(Certificate.replaced_by), selectinload(Certificate.replaces))
        .order_by(Certificate.id).limit(1)
    ).first()


def _clean(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return " ".join(text.split())[:SIGNER_MAX_LENGTH]


def _signer_name(certificate) -> str:
    """Common name and organisation of the signer's certificate, as a person reads them."""
    subject = certificate.subject.native
    parts = [subject.get("common_name"), subject.get("organization_name")]
    names = [_clean(str(p)) for p in parts if p]
    return ", ".join(n for n in names if n) or _clean(certificate.subject.human_friendly)


def read_signature(data: bytes) -> SignatureFound | None:
    """The file's first signature checked by pyHanko; None when it carries none.

    The signer's own certificate is the only anchor: whether the file is the portal's is
    decided by its hash, and a signature on a file the portal never issued proves nothing about
    the portal, whoever it names. Nothing is fetched from the network. Raises ValueError when the file has what looks
    like a signature (a /ByteRange) that cannot be read: a damaged or hostile file, for which
    pyHanko raises many kinds of error.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from course_portal.certificates.signing import covers_whole_file

    if b"/ByteRange" not in data:
        return None  # a signature's dictionary is never compressed: this file has none
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return None
        signature = signatures[0]
        # the signer's own certificate as the anchor: the signature is checked for what it
        # covers and who it names, never taken as the portal's (see above), and pyHanko has no
        # untrusted chain to log a traceback about for each file
        context = ValidationContext(trust_roots=[signature.signer_cert], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
        return SignatureFound(
            intact=bool(status.intact and status.valid),
            covers_whole_file=covers_whole_file(status, data),
            signer=_signer_name(status.signing_cert),
        )
    except Exception as exc:  # noqa: BLE001 (any failure of a parser on a stranger's file)
        raise ValueError(f"unreadable signature: {type(exc).__name__}") from exc


def check_file(data: bytes) -> FileAnswer:
    """Which certificate the file is, and what its signature says; FileRefused for a non-PDF."""
    check_pdf_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    certificate = certificate_with_hash(sha256)
    signature, unreadable = None, False
    unchecked = certificate is None and len(data) > SIGNATURE_CHECK_MAX_BYTES
    if not unchecked:
        try:
            signature = read_signature(data)
        except ValueError as exc:
            unreadable = True
            log.info("a file checked on /verify (%s bytes, sha256 %s): %s", len(data), sha256,
                     exc)
    log.info("a file checked on /verify: %s bytes, sha256 %s, %s", len(data), sha256,
             certificate.registry_number if certificate is not None else "no certificate")
    return FileAnswer(sha256=sha256, size=len(data), certificate=certificate,
                      signature=signature, signature_unreadable=unreadable,
                      signature_unchecked=unchecked)


def check_upload(stream) -> FileAnswer:
    """Read an uploaded file within the limit and answer for it (see the module)."""
    return check_file(read_upload(stream))
