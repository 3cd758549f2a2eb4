"""Application documents: checked by content, stored under generated names outside static/.

Files and the transaction: the file is written (to a temporary name, then renamed) before the
row is flushed, and its path is remembered on the session. If the transaction rolls back, or the
session closes without committing, the new file is deleted; a replaced document's old file is
deleted only after the commit. A crash between the write and the commit can leave an orphan
file with no row, never a row without its file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import unicodedata
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from course_portal.accounts.models import User
from course_portal.db import utcnow
from course_portal.enrollment.errors import DocumentRefused, EnrollmentError
from course_portal.enrollment.models import Application, ApplicationStatus, Document, DocumentKind
from course_portal.extensions import db

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: a scan from a phone is 12 to 50 megapixels; more from a 10 MB file is a decompression bomb.
#: Checked on the header before anything is decoded. Pillow's own global limit
#: (Image.MAX_IMAGE_PIXELS) is left alone: changing it would change every feature's images.
MAX_IMAGE_PIXELS = 64_000_000
ORIGINAL_NAME_MAX_LENGTH = 255
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
#: markup that makes a browser run code, searched in the whole file. Only tags long enough
#: not to turn up by chance in compressed image or PDF data (<html: ~1 in 10,000 10 MB files).
_ACTIVE_ANYWHERE = re.compile(
    rb"<(script|html|iframe|object|embed|!doctype)\b|javascript:", re.IGNORECASE
)
#: shorter tags, searched where browsers sniff: the first kilobyte
_ACTIVE_IN_HEAD = re.compile(rb"<(svg|body|head|meta|img|div|form|style|link)\b", re.IGNORECASE)
#: PDF actions that run code or programs ("/JS" alone is too short not to occur by chance)
_PDF_ACTIONS = re.compile(rb"/(JavaScript|Launch)(?![A-Za-z0-9])")

#: session.info keys: files to delete if the transaction does not commit, or once it does
_NEW_FILES = "enrollment.new_files"
_REPLACED_FILES = "enrollment.replaced_files"


def _not_allowed():
    return DocumentRefused(
        _l("Upload a PDF, JPEG or PNG file. This file is none of them, whatever its name says.")
    )


def _damaged(kind: str):
    return DocumentRefused(
        _l("This %(type)s file is damaged or incomplete; scan or export it again.", type=kind)
    )


def _check_image(data: bytes, image_format: str) -> None:
    """Open the image with Pillow: a sane size, intact chunks, and (JPEG) a decodable stream."""
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DocumentRefused(_l(
                    "This image is %(width)s × %(height)s pixels, more than a scan needs; "
                    "save it at a lower resolution.", width=width, height=height))
            image.verify()
        if image_format == "JPEG":
            # decoding at 1/8 scale reads the whole stream quickly: a truncated file fails here
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
    except DocumentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DocumentRefused(_l("This image is too large to open; save it at a lower "
                                 "resolution.")) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(image_format) from None


def detect_content_type(data: bytes) -> str:
    """application/pdf, image/jpeg or image/png, read from the bytes; DocumentRefused otherwise."""
    if not data:
        raise DocumentRefused(_l("The file is empty. Choose the file again."))
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(_l("The file is larger than 10 MB. Scan it at a lower resolution "
                                 "or compress it, and upload it again."))
    head = data[:1024]
    if _ACTIVE_ANYWHERE.search(data) or _ACTIVE_IN_HEAD.search(head):
        raise DocumentRefused(_l("This file contains web page (HTML) or script code, which a "
                                 "document must not. Upload a PDF, JPEG or PNG file."))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-1024:]:
            raise _damaged("PDF")
        if _PDF_ACTIONS.search(data):
            raise DocumentRefused(_l("This PDF contains scripts or actions; print it to a new "
                                     "PDF or scan the paper document."))
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        _check_image(data, "JPEG")
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(data, "PNG")
        return PNG
    raise _not_allowed()


def clean_filename(name: str | None, fallback: str = "document") -> str:
    """The file's own name as metadata: NFC, no folders, no control characters, 255 at most."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = name.strip()
    if name in {"", ".", ".."}:
        name = fallback
    if len(name) > ORIGINAL_NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: ORIGINAL_NAME_MAX_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:ORIGINAL_NAME_MAX_LENGTH]
    return name


def upload_root() -> Path:
    """The folder under which every application's documents are stored (never under static/)."""
    root = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    static = Path(current_app.static_folder or "").resolve()
    if current_app.static_folder and (root == static or static in root.parents):
        raise RuntimeError(f"UPLOAD_FOLDER {root} is inside the static folder: files would be public")
    return root


def _path_of(application_id: int, stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError(f"not a generated document name: {stored_name!r}")
    return upload_root() / str(int(application_id)) / stored_name


def _write(path: Path, data: bytes) -> None:
    """Write to a temporary name beside the target, then rename: no half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not delete the document file %s", path)


def store_document(
    application: Application,
    kind: DocumentKind | str,
    filename: str | None,
    stream,
    actor: User,
) -> Document:
    """Check an upload by content and keep it as the application's document of that kind.

    Only the teacher who applied, while the application is a draft. Uploading a kind again
    replaces the document. Raises DocumentRefused (field "file") or EnrollmentError.
    """
    try:
        kind = DocumentKind(kind)
    except ValueError:
        raise EnrollmentError(_l("Choose which document this is."), field="kind") from None
    if actor is None or actor.id != application.teacher_id:
        raise EnrollmentError(_l("Only the teacher who applied can upload its documents."))
    if application.status != ApplicationStatus.DRAFT:
        raise EnrollmentError(_l("Documents can be changed only before the application is "
                                 "submitted."))
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    content_type = detect_content_type(data)
    stored_name = uuid.uuid4().hex
    path = _path_of(application.id, stored_name)
    original = clean_filename(filename, fallback=kind.value + EXTENSIONS[content_type])

    _write(path, data)
    session = db.session()
    session.info.setdefault(_NEW_FILES, []).append(path)
    try:
        document = application.document(kind)
        if document is None:
            document = Document(application=application, kind=kind)
            db.session.add(document)
        else:
            session.info.setdefault(_REPLACED_FILES, []).append(
                _path_of(document.application_id, document.stored_name))
        document.original_filename = original
        document.stored_name = stored_name
        document.content_type = content_type
        document.size = len(data)
        document.sha256 = hashlib.sha256(data).hexdigest()
        document.uploaded_at = utcnow()
        document.uploaded_by_id = actor.id
        db.session.flush()
    except Exception:
        _unlink(path)
        raise
    log.info("document %s (%s) stored for application %s: %s bytes, %s",
             document.id, kind.value, application.id, document.size, content_type)
    return document


def open_document(document: Document) -> Path:
    """The stored file, for send_file(path, mimetype=document.content_type, as_attachment=True,
    download_name=document.original_filename); FileNotFoundError when it is missing."""
    root = upload_root()
    path = _path_of(document.application_id, document.stored_name).resolve()
    if root not in path.parents:
        raise FileNotFoundError(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


@sa_event.listens_for(Session, "after_commit")
def _keep_new_files(session):
    session.info.pop(_NEW_FILES, None)
    for path in session.info.pop(_REPLACED_FILES, []):
        _unlink(path)


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted_files(session, transaction):
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for path in session.info.pop(_NEW_FILES, []):
        _unlink(path)
    session.info.pop(_REPLACED_FILES, None)
