"""Uploads: checked by content, stored under generated names, hostile files refused."""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zlib
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select

from course_portal.enrollment import documents
from course_portal.enrollment.errors import DocumentRefused, EnrollmentError
from course_portal.enrollment.models import Document, DocumentKind
from tests import factories
from tests.enrollment.helpers import text_of

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def image_bytes(image_format: str, size=(64, 48)) -> bytes:
    """A small real image made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, image_format)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A PNG of a few kilobytes that would decode to width x height pixels (1-bit, all black)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * 1000
    idat = b"".join(compressor.compress(block) for _ in range(height // 1000))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


@pytest.fixture
def draft(db, intake):
    """A teacher's draft without documents."""
    return factories.make_application(intake=intake, complete=False)


def upload(draft, data: bytes, filename: str = "diploma.pdf", kind: str = "diploma"):
    """The teacher uploads data under that name as that kind of document."""
    return documents.store_document(draft, kind, filename, io.BytesIO(data), draft.teacher)


def stored_files() -> list[Path]:
    """Every file under the upload folder."""
    root = Path(current_app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def document_count(db) -> int:
    """How many document rows exist."""
    return db.session.scalar(select(func.count()).select_from(Document))


def test_a_pdf_is_kept_byte_for_byte(db, draft):
    document = upload(draft, PDF, "diploma.pdf")
    db.session.commit()
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert documents.open_document(document).read_bytes() == PDF


@pytest.mark.parametrize(("data", "filename", "content_type"), [
    (image_bytes("JPEG"), "passport.jpg", "image/jpeg"),
    (image_bytes("PNG"), "passport.png", "image/png"),
    (image_bytes("PNG"), "scan.pdf", "image/png"),  # the name lies, the content decides
])
def test_images_are_kept_as_the_same_picture(db, draft, data, filename, content_type):
    """Images are encoded again (metadata goes): same type, same size, same picture."""
    document = upload(draft, data, filename)
    db.session.commit()
    assert document.content_type == content_type
    stored = documents.open_document(document).read_bytes()
    assert document.size == len(stored)
    with Image.open(io.BytesIO(data)) as sent, Image.open(io.BytesIO(stored)) as kept:
        assert kept.format == sent.format and kept.size == sent.size
        assert kept.convert("RGB").getpixel((10, 10)) == sent.convert("RGB").getpixel((10, 10))


HOSTILE = {
    "html renamed .pdf": (b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>",
                          "diploma.pdf", "HTML"),
    "svg with a script": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                          b'onload="alert(1)"><circle r="5"/></svg>', "photo.svg", "HTML"),
    "svg renamed .png": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "photo.png", "HTML"),
    "pdf/html polyglot": (b"%PDF-1.4\n<html><script>fetch('/admin')</script></html>\n" + PDF,
                          "cv.pdf", "HTML"),
    "jpeg with an html payload": (image_bytes("JPEG") + b"<script>alert(1)</script>",
                                  "passport.jpg", "HTML"),
    "pdf with javascript": (PDF.replace(b"/Type /Catalog", b"/OpenAction << /S /JavaScript "
                                        b"/JS (app.alert(1)) >>"), "diploma.pdf", "scripts"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "passport.gif", "PDF, JPEG or PNG"),
    "zip": (b"PK\x03\x04" + b"\x00" * 100, "diploma.pdf", "PDF, JPEG or PNG"),
    "pdf without its end": (PDF[:-7], "diploma.pdf", "damaged"),
    "truncated jpeg": (image_bytes("JPEG", (400, 300))[:600], "passport.jpg", "damaged"),
    "empty": (b"", "diploma.pdf", "empty"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_and_broken_files_are_refused(db, draft, case):
    """Refused with a message on the file field saying what is wrong; nothing stored."""
    data, filename, words = HOSTILE[case]
    with pytest.raises(DocumentRefused) as caught:
        upload(draft, data, filename)
    assert caught.value.fields == ["file"]
    assert words in text_of(caught.value)
    assert document_count(db) == 0
    assert stored_files() == []


def test_a_file_over_10_mb_is_refused_and_10_mb_is_not(db, draft):
    """10 MB + 1 byte is refused without reading the rest; exactly 10 MB is accepted."""
    padding = b"\n%" + b"x" * 78
    body = PDF[:-6] + padding * (10 * MB // len(padding))
    exactly = body[: 10 * MB - 6] + b"%%EOF\n"
    assert len(exactly) == 10 * MB

    stream = io.BytesIO(exactly + b"+" + b"y" * MB)
    with pytest.raises(DocumentRefused) as caught:
        documents.store_document(draft, "cv", "cv.pdf", stream, draft.teacher)
    assert "10 MB" in text_of(caught.value)
    assert stream.tell() == 10 * MB + 1  # did not read the whole upload

    document = upload(draft, exactly, "cv.pdf", "cv")
    assert document.size == 10 * MB


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("width", "height"), [(12_000, 12_000), (20_000, 20_000)])
def test_a_png_decompression_bomb_is_refused(db, draft, width, height):
    """A few kilobytes that would take hundreds of megabytes: refused before decoding."""
    bomb = png_bomb(width, height)
    assert len(bomb) < 100_000
    with pytest.raises(DocumentRefused) as caught:
        upload(draft, bomb, "passport.png", "passport")
    assert "lower resolution" in text_of(caught.value)
    assert stored_files() == []


def test_a_chinese_file_name_is_kept_as_metadata_only(db, draft):
    """我的文凭.pdf is what the teacher sees; the disk holds a generated name."""
    document = upload(draft, PDF, "我的文凭.pdf")
    db.session.commit()
    assert document.original_filename == "我的文凭.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}", document.stored_name)
    [path] = stored_files()
    assert path.name == document.stored_name
    assert path.parent.name == str(draft.id)
    assert documents.open_document(document) == path.resolve()


def test_a_path_in_the_file_name_goes_nowhere(db, draft, tmp_path):
    """../../etc/passwd.pdf is stored under a generated name inside the upload folder."""
    document = upload(draft, PDF, "../../etc/passwd.pdf")
    db.session.commit()
    assert document.original_filename == "passwd.pdf"
    root = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    [path] = stored_files()
    assert root in path.resolve().parents
    assert not any(p.name == "passwd.pdf" for p in tmp_path.rglob("*"))


@pytest.mark.parametrize(("given", "kept"), [
    (unicodedata.normalize("NFD", "Диплом Ёлкин.pdf"), "Диплом Ёлкин.pdf"),
    ("cv\u202egpj.pdf", "cvgpj.pdf"),  # a right-to-left override that disguises the extension
    ("line\r\nbreak.pdf", "linebreak.pdf"),
    ("C:\\Users\\王\\护照.pdf", "护照.pdf"),
    ("..", "diploma.pdf"),
    ("", "diploma.pdf"),
    ("长" * 300 + ".pdf", "长" * 251 + ".pdf"),
])
def test_original_names_are_cleaned(given, kept):
    """NFC, no folders, no control characters, at most 255 characters with the extension kept."""
    assert documents.clean_filename(given, fallback="diploma.pdf") == kept


def test_uploading_again_replaces_the_document(db, draft):
    """One diploma per application; the old file is gone once the new one is committed."""
    first = upload(draft, PDF, "old.pdf")
    db.session.commit()
    old_path = documents.open_document(first)
    second = upload(draft, image_bytes("PNG"), "new.png")
    assert old_path.exists()  # until the commit, the old one is still the document
    db.session.commit()
    assert second.id == first.id
    assert (second.original_filename, second.content_type) == ("new.png", "image/png")
    assert not old_path.exists()
    assert stored_files() == [documents.open_document(second)]
    assert document_count(db) == 1


def test_a_rolled_back_upload_leaves_no_file(db, draft):
    """The view failed after the upload: no row and no file remain."""
    db.session.commit()
    upload(draft, PDF)
    assert len(stored_files()) == 1
    db.session.rollback()
    assert stored_files() == []
    assert document_count(db) == 0


def test_a_rolled_back_replacement_keeps_the_old_file(db, draft):
    """The replaced document still opens after the replacement is rolled back."""
    first = upload(draft, PDF, "old.pdf")
    db.session.commit()
    old_path = documents.open_document(first)
    upload(draft, image_bytes("PNG"), "new.png")
    db.session.rollback()
    assert stored_files() == [old_path]
    assert documents.open_document(db.session.get(Document, first.id)) == old_path


def test_only_the_teacher_uploads_and_only_to_a_draft(db, intake, coordinator):
    """Another user cannot add files to an application; a submitted one is frozen."""
    draft = factories.make_application(intake=intake, complete=False)
    for someone_else in (coordinator, factories.make_teacher()):
        with pytest.raises(EnrollmentError):
            documents.store_document(draft, "cv", "cv.pdf", io.BytesIO(PDF), someone_else)
    submitted = factories.make_application(intake=intake, status="submitted", complete=False)
    with pytest.raises(EnrollmentError):
        documents.store_document(submitted, "cv", "cv.pdf", io.BytesIO(PDF), submitted.teacher)
    assert stored_files() == []


def test_uploads_complete_the_application(db, draft):
    """With the three documents uploaded, nothing about documents keeps it from being sent."""
    from course_portal.enrollment.services import submission_problems

    assert {"diploma", "passport", "cv"} <= set(submission_problems(draft))
    upload(draft, PDF, "diploma.pdf", DocumentKind.DIPLOMA)
    upload(draft, image_bytes("JPEG"), "passport.jpg", DocumentKind.PASSPORT)
    upload(draft, PDF, "cv.pdf", DocumentKind.CV)
    db.session.expire(draft, ["documents"])
    assert not {"diploma", "passport", "cv"} & set(submission_problems(draft))


def test_uploads_live_in_the_instance_folder_by_default(app):
    """Outside the code and static/, beside the database: what an operator backs up."""
    assert app.config["UPLOAD_FOLDER"] == str(Path(app.instance_path) / "uploads")


def test_an_upload_folder_inside_static_is_refused(make_app, db, draft):
    """A configuration mistake that would publish passports is caught before a file is written."""
    bad = make_app(UPLOAD_FOLDER=str(Path(current_app.static_folder) / "uploads"))
    with bad.app_context(), pytest.raises(RuntimeError, match="static"):
        documents.upload_root()
