"""Application documents: checked by content, stored under generated names outside static/.

Images are decoded and encoded again with Pillow, so what is stored is pixels only: no EXIF
(GPS position, camera serial), no comments, nothing appended after the image. PDFs are parsed
with pypdf and refused when any object reachable from the trailer holds JavaScript, a launch
or submit action, automatic actions (/AA, an /OpenAction other than going to a page) or
embedded files. Each teacher has a quota of stored bytes (UPLOAD_QUOTA_BYTES).

Files and the transaction: the file is written (to a temporary name, then renamed) before the
row is flushed, and its path is remembered on the session. If the transaction rolls back, or the
session closes without committing, the new file is deleted; a replaced document's old file, and
the file of a document deleted by the retention rules (delete_stored), are deleted only after
the commit. A crash between the write and the commit can leave an orphan file with no row,
never a row without its file. A write that fails (a full disk) leaves no file, and refuses that
one upload with a message on its field, as a refused file is: not an incident page.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import unicodedata
import uuid
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy import delete, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from course_portal.accounts.models import User
from course_portal.core import audit
from course_portal.core.storage import private_folder
from course_portal.db import execute_dml, utcnow
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
#: dictionary keys of a parsed PDF that carry code, automatic actions or other files
_PDF_REFUSED_KEYS = frozenset({
    "/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia",
    "/XFA",
})
#: action types (/S) that run, open or send something
_PDF_REFUSED_ACTIONS = frozenset({
    "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR",
    "/RichMediaExecute", "/Rendition", "/Sound", "/Movie",
})
#: a name token of raw PDF syntax, "#xx" escapes still in it
_PDF_NAME = re.compile(rb"/[^\x00-\x20/<>\[\]()%{}]*")
#: stream data (images, page contents), skipped by the raw scan: random bytes hold short names
_PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
#: a scanned document has a few hundred objects; far more is a file built to exhaust the check
_PDF_MAX_OBJECTS = 200_000
#: JPEG quality of re-encoded images that had to be rotated (others keep their own tables)
JPEG_QUALITY = 90

#: session.info keys: files to delete if the transaction does not commit, or once it does
#: (those of replaced documents and of documents deleted by the retention rules)
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


def _pdf_refused():
    return DocumentRefused(_l("This PDF contains scripts, actions or attached files; print it "
                              "to a new PDF or scan the paper document."))


def _pdf_names(data: bytes) -> set[str]:
    """The name tokens of the file's syntax outside streams, with "#xx" escapes decoded."""
    names = set()
    for token in _PDF_NAME.findall(_PDF_STREAM.sub(b" ", data)):
        decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), token)
        names.add(decoded.decode("latin-1"))
    return names


def _check_pdf_syntax(data: bytes) -> None:
    """For a file pypdf cannot read (viewers repair such files): the raw names, and no
    compressed object streams, whose hidden objects only a parser would see."""
    names = _pdf_names(data)
    if names & (_PDF_REFUSED_KEYS | _PDF_REFUSED_ACTIONS | {"/FileAttachment", "/OpenAction"}):
        raise _pdf_refused()
    if "/ObjStm" in names:
        raise _damaged("PDF")


def _check_pdf_objects(data: bytes) -> None:
    """Walk every object reachable from the trailer with pypdf; refuse active content.

    Names are compared as pypdf decodes them, so "/J#61vaScript" is /JavaScript, and objects
    hidden in compressed object streams are seen too.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError):
        _check_pdf_syntax(data)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentRefused(_l("This PDF is protected by a password; save it without "
                                         "the password and upload it again."))
            seen: set[tuple[int, int]] = set()
            stack = [reader.trailer]
            visited = 0
            while stack:
                node = stack.pop()
                if isinstance(node, IndirectObject):
                    key = (node.idnum, node.generation)
                    if key in seen:
                        continue
                    seen.add(key)
                    node = node.get_object()
                visited += 1
                if visited > _PDF_MAX_OBJECTS:
                    raise _damaged("PDF")
                if isinstance(node, DictionaryObject):
                    keys = set(node.keys())
                    if keys & _PDF_REFUSED_KEYS:
                        raise _pdf_refused()
                    if node.get("/S") in _PDF_REFUSED_ACTIONS:
                        raise _pdf_refused()
                    if node.get("/Subtype") == "/FileAttachment":
                        raise _pdf_refused()
                    opening = node.get("/OpenAction")
                    if opening is not None:
                        opening = opening.get_object()
                        # a destination (an array) or going to a page is harmless; others are not
                        if isinstance(opening, DictionaryObject) and opening.get("/S") != "/GoTo":
                            raise _pdf_refused()
                    stack.extend(v for k, v in node.items() if k not in ("/Parent", "/P"))
                elif isinstance(node, ArrayObject):
                    stack.extend(node)
    except DocumentRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError):
        raise _damaged("PDF") from None


def _reencode_image(data: bytes, image_format: str) -> bytes:
    """Decode and encode again: pixels only, turned upright, no metadata; refuses a broken file.

    Decoding the whole image also finds a truncated file (Pillow's LOAD_TRUNCATED_IMAGES is
    off). The size was checked on the header before this decodes anything.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                rotated = upright is not image
                transparency = upright.info.get("transparency")
                # what save() could copy from the source: EXIF, XMP, comments, ICC, text chunks
                upright.info = {}
                buffer = io.BytesIO()
                if image_format == "JPEG":
                    if upright.mode not in ("L", "RGB", "CMYK"):
                        upright = upright.convert("RGB")
                    if rotated:
                        upright.save(buffer, "JPEG", quality=JPEG_QUALITY)
                    else:
                        upright.save(buffer, "JPEG", quality="keep", subsampling="keep")
                else:
                    options = {} if transparency is None else {"transparency": transparency}
                    upright.save(buffer, "PNG", **options)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DocumentRefused(_l("This image is too large to open; save it at a lower "
                                 "resolution.")) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(image_format) from None
    cleaned = buffer.getvalue()
    if len(cleaned) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(_l("The file is larger than 10 MB. Scan it at a lower resolution "
                                 "or compress it, and upload it again."))
    return cleaned


def clean_content(data: bytes, content_type: str) -> bytes:
    """What is stored for checked data of that type: images re-encoded, PDFs as they are."""
    if content_type == JPEG:
        return _reencode_image(data, "JPEG")
    if content_type == PNG:
        return _reencode_image(data, "PNG")
    return data


def quota_used(teacher_id: int, except_document_id: int | None = None) -> int:
    """Bytes of the teacher's stored documents, in every application."""
    query = (
        select(func.coalesce(func.sum(Document.size), 0))
        .join(Application, Application.id == Document.application_id)
        .where(Application.teacher_id == teacher_id)
    )
    if except_document_id is not None:
        query = query.where(Document.id != except_document_id)
    return int(db.session.execute(query).scalar_one())


def _size(size: int) -> str:
    """12.3 MB, or 850 KB under a megabyte."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{-(-size // 1024)} KB"


def _check_quota(application: Application, kind: DocumentKind, size: int) -> None:
    """Refuse a file that would take the teacher past UPLOAD_QUOTA_BYTES (a replaced one is freed)."""
    quota = current_app.config["UPLOAD_QUOTA_BYTES"]
    if not quota:
        return
    replaced = application.document(kind)
    used = quota_used(application.teacher_id, replaced.id if replaced is not None else None)
    if used + size > quota:
        raise DocumentRefused(_l(
            "Your documents already take %(used)s of the %(quota)s you can store, and this "
            "file needs %(size)s more. Upload a smaller scan, or replace a document instead "
            "of adding one.",
            used=_size(used), quota=_size(quota), size=_size(size)))


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
            raise _pdf_refused()
        _check_pdf_objects(data)
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
    return private_folder("UPLOAD_FOLDER")


def _path_of(application_id: int, stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError(f"not a generated document name: {stored_name!r}")
    return upload_root() / str(int(application_id)) / stored_name


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("could not delete the document file %s", path)


def _write(path: Path, data: bytes) -> None:
    """Write to a temporary name beside the target, then rename: no half-written file.

    A write that fails half-way (a full disk, a quota, an I/O error) deletes what it wrote of
    the temporary file before the error goes on: nothing is left under either name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise


def _storage_failed():
    return DocumentRefused(_l("The portal could not store this file just now, and nothing of "
                              "it was kept. Choose it again in a few minutes; if this happens "
                              "again, tell the coordinator."))


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
    data = clean_content(data, content_type)
    _check_quota(application, kind, len(data))
    stored_name = uuid.uuid4().hex
    path = _path_of(application.id, stored_name)
    original = clean_filename(filename, fallback=kind.value + EXTENSIONS[content_type])

    try:
        _write(path, data)
    except OSError as exc:
        # the server's fault, not the file's: the teacher keeps the form and what it holds,
        # the operator gets the error (a full disk is not a bug, so no incident page)
        log.error("could not write document %s for application %s (%s bytes): %s",
                  path.name, application.id, len(data), exc)
        raise _storage_failed() from None
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
    audit.record("document.uploaded", actor=actor, teacher=application.teacher_id,
                 target=application, kind=kind.value, size=document.size)
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


def delete_stored(document_id: int, application_id: int, stored_name: str) -> bool:
    """Delete a document's row now and its file once the transaction commits (retention).

    A compare-and-set on the id and the stored name: False, with nothing changed, when the row
    is gone already (another runner deleted it) or holds another file now (replaced). If the
    transaction rolls back, the row comes back and the file was never touched.
    """
    result = execute_dml(
        delete(Document).where(Document.id == document_id, Document.stored_name == stored_name)
    )
    if result.rowcount != 1:
        return False
    try:
        path = _path_of(application_id, stored_name)
    except ValueError:  # not a name this module made: there is no file it may address
        log.warning("document %s had no generated file name; only its row is deleted",
                    document_id)
        return True
    db.session().info.setdefault(_REPLACED_FILES, []).append(path)
    return True


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
