"""A certificate's PDF dropped on /verify: every answer a reader can get, and what is refused."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date
from markupsafe import escape

from course_portal.certificates import filecheck, services
from course_portal.certificates.signing import make_dev_key_pair
from course_portal.core.clock import portal_zone
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake

MB = 1024 * 1024


def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=842, height=595)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: a real PDF, and no certificate of the portal
STRANGER_PDF = _blank_pdf()


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("signing")
    key, cert = folder / "key.pem", folder / "cert.pem"
    make_dev_key_pair(key, cert, "Test signer")
    return key, cert


@pytest.fixture
def signed_app(make_app, key_pair):
    """The portal with a signing key: its certificates carry a PAdES signature."""
    application = make_app(SIGNING_KEY_PATH=str(key_pair[0]), SIGNING_CERT_PATH=str(key_pair[1]))
    with application.app_context():
        yield application


@pytest.fixture
def web(signed_app):
    return signed_app.test_client()


@pytest.fixture
def coordinator(signed_app):
    return factories.make_user(role="coordinator")


def issue(coordinator, **names):
    """A certificate of Investment Ecosystem for 欧阳娜娜 OUYANG Nana (or other names)."""
    intake = make_finished_intake()
    fields = {"family_name_zh": "欧阳", "given_name_zh": "娜娜", "family_name_latin": "Ouyang",
              "given_name_latin": "Nana", "name_ru": "Оуян Нана", **names}
    certificate = services.issue_certificate(make_completed(intake, **fields), coordinator)
    db.session.commit()
    return certificate


@pytest.fixture
def certificate(coordinator):
    return issue(coordinator)


def drop(web, content: bytes, filename: str = "certificate.pdf", **headers):
    """Post the file as the form on /verify does."""
    return web.post("/verify/file", data={"file": (io.BytesIO(content), filename)},
                    content_type="multipart/form-data", headers=headers)


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.get_data(as_text=True).split())


def long_day(day: date | str, locale: str) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return re.sub(r"[\s\u00a0\u202f]г\.$", "", format_date(day, "long", locale=locale))


NOT_AS_ISSUED = ("This file is not a certificate as the portal issued it: it matches none, or "
                 "it was changed after issue.")


# --- the answers ----------------------------------------------------------------------------


def test_the_genuine_file_names_the_certificate_and_its_intact_signature(web, certificate):
    assert certificate.is_signed
    page = page_of(drop(web, certificate.pdf))

    day = long_day(certificate.snapshot["issued_on"], "en")
    assert (f"This file is certificate {certificate.registry_number}, valid, issued {day} to "
            f"欧阳娜娜 OUYANG Nana.") in page
    assert ("Its digital signature is intact (signed by Test signer, Peter the Great St. "
            "Petersburg Polytechnic University).") in page
    assert f"/verify/{certificate.verification_code}" in page
    assert certificate.pdf_sha256 in page.replace("<wbr>", "")
    assert "Not as issued" not in page


def test_the_answer_is_in_the_readers_language(web, certificate):
    page = page_of(drop(web, certificate.pdf, **{"Accept-Language": "ru"}))
    # the date as Russian writes it (the sentences are translated with the other messages)
    assert long_day(certificate.snapshot["issued_on"], "ru") in page
    assert '<html lang="ru">' in page


def test_one_byte_changed_is_not_the_certificate_and_breaks_the_signature(web, certificate):
    tampered = bytearray(certificate.pdf)
    tampered[certificate.pdf.index(b"stream") + 20] ^= 0x01

    page = page_of(drop(web, bytes(tampered)))
    assert NOT_AS_ISSUED in page and "Check the number instead." in page
    assert "is broken: the file was changed after it was signed" in page
    assert certificate.registry_number not in page


def test_something_appended_after_signing_is_not_the_certificate(web, certificate):
    page = page_of(drop(web, certificate.pdf + b"\n% a line added later\n"))
    assert NOT_AS_ISSUED in page
    assert "covers only part of the file: something was added" in page


def test_a_revoked_certificate_says_so_with_the_reason(web, certificate, coordinator):
    services.revoke(certificate, coordinator, "Attendance records were falsified")
    db.session.commit()

    page = page_of(drop(web, certificate.pdf))
    assert "Revoked" in page and "valid, issued" not in page
    # the day of revocation in the reader's zone: a visitor reads the portal's
    revoked_on = certificate.revoked_at.astimezone(portal_zone()).date()
    assert (f"This file is certificate {certificate.registry_number}, issued "
            f"{long_day(certificate.snapshot['issued_on'], 'en')} to 欧阳娜娜 OUYANG Nana, but "
            f"the certificate was revoked on {long_day(revoked_on, 'en')} "
            "and is no longer valid.") in page
    assert "Attendance records were falsified" in page


def test_a_reissued_original_names_its_replacement(web, certificate, coordinator):
    replacement = services.reissue(certificate, coordinator, "Russian spelling corrected")
    db.session.commit()

    page = page_of(drop(web, certificate.pdf))
    assert "Superseded" in page
    assert "but it was replaced on" in page and "by a corrected certificate:" in page
    assert (f'<a href="/verify/{replacement.verification_code}">'
            f"{replacement.registry_number}</a>") in page
    assert "Russian spelling corrected" in page
    # the replacement's own file is valid
    assert f"This file is certificate {replacement.registry_number}, valid" in page_of(
        drop(web, replacement.pdf))


def test_an_unsigned_certificate_matches_and_says_it_has_no_signature(make_app):
    application = make_app()
    with application.app_context():
        certificate = issue(factories.make_user(role="coordinator"))
        assert not certificate.is_signed
        page = page_of(drop(application.test_client(), certificate.pdf))
    assert f"This file is certificate {certificate.registry_number}, valid" in page
    assert "It carries no digital signature; its exact match" in page


def test_a_pdf_that_is_no_certificate(web, certificate):
    page = page_of(drop(web, STRANGER_PDF))
    assert NOT_AS_ISSUED in page and "It carries no digital signature." in page


def test_a_signature_by_someone_else_proves_nothing(web, certificate, tmp_path):
    from course_portal.certificates.signing import sign_pdf

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    make_dev_key_pair(key, cert, "SPbPU <b>official</b>")
    forged = sign_pdf(STRANGER_PDF, key, cert)

    page = page_of(drop(web, forged))
    assert NOT_AS_ISSUED in page
    assert ("It carries an intact digital signature by SPbPU &lt;b&gt;official&lt;/b&gt;, "
            "Peter the Great St. Petersburg Polytechnic University, but the portal issued no "
            "certificate with exactly this content.") in page


# --- what is refused, with a message on the page --------------------------------------------


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2000, "certificate.pdf",
     "This file is a picture (JPEG), not a PDF, whatever its name says."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "scan.pdf", "This file is a picture (PNG), not a PDF"),
    (b"", "certificate.pdf", "The file is empty."),
    (b"<html><script>alert(1)</script></html>", "certificate.pdf", "This file is not a PDF"),
    (b"PK\x03\x04" + b"\x00" * 100, "certificates.zip", "This file is not a PDF"),
], ids=["jpeg-renamed", "png-renamed", "empty", "html", "zip"])
def test_what_is_not_a_pdf_gets_a_message(web, content, filename, message):
    page = page_of(drop(web, content, filename))
    assert message in page
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert "<script>alert(1)" not in page


def test_a_file_over_10_mb_gets_a_message(web):
    page = page_of(drop(web, b"%PDF-1.7\n" + b"0" * (filecheck.MAX_FILE_BYTES - 8)))
    assert "The file is larger than 10 MB" in page and 'role="alert"' in page


def test_a_request_far_over_the_limit_gets_the_same_message_not_a_413(web):
    response = drop(web, b"%PDF-1.7\n" + b"0" * (12 * MB))
    page = page_of(response)
    assert "The file is larger than 10 MB" in page
    assert 'action="/verify/file"' in page  # the form again, to choose another file


def test_no_file_chosen(web):
    response = web.post("/verify/file", data={"file": (io.BytesIO(b""), "")},
                        content_type="multipart/form-data")
    page = page_of(response)
    assert "Choose the certificate&#39;s PDF file." in page or \
        "Choose the certificate's PDF file." in page


@pytest.mark.parametrize("cut", [
    lambda pdf: pdf[: len(pdf) * 2 // 3] + b"\n%%EOF\n",
    lambda pdf: pdf[: pdf.rindex(b"/ByteRange") + 14],
    lambda pdf: b"%PDF-1.7\n/ByteRange [0 1 2 3] trailer <<>>",
], ids=["two-thirds", "in-the-signature", "header-and-junk"])
def test_a_damaged_pdf_is_answered_not_a_500(web, certificate, cut):
    page = page_of(drop(web, cut(certificate.pdf)))
    assert NOT_AS_ISSUED in page
    assert "signature" in page.split("Not as issued")[1]


def test_a_large_stranger_is_hashed_but_its_signature_not_parsed(web, monkeypatch):
    def no_parsing(data):
        raise AssertionError("a file of several megabytes went to pyHanko")

    monkeypatch.setattr(filecheck, "read_signature", no_parsing)
    slow = b"%PDF-1.7\n/ByteRange [0 1 2 3]\n%" + b"0" * (3 * MB) + b"\n%%EOF\n"
    page = page_of(drop(web, slow))
    assert NOT_AS_ISSUED in page
    assert "so its digital signature was not checked" in page


def test_the_file_name_is_shown_escaped(web):
    name = "<img src=x onerror=alert('1')>.pdf"
    page = page_of(drop(web, STRANGER_PDF, name))
    assert str(escape(name)) in page
    assert "<img src=x" not in page


# --- the file is not kept, and the limits --------------------------------------------------


def test_the_file_stays_in_memory_and_nowhere_else(web, certificate, monkeypatch, signed_app):
    import werkzeug.formparser

    def no_temporary_file(*args, **kwargs):
        raise AssertionError("the upload was spooled to a temporary file")

    # werkzeug writes parts over 500 KB to a temporary file unless told otherwise
    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_temporary_file)
    monkeypatch.setattr(werkzeug.formparser, "TemporaryFile", no_temporary_file, raising=False)
    big = certificate.pdf + b"%" + b"0" * (2 * MB) + b"\n%%EOF\n"
    instance = Path(signed_app.instance_path)
    before = sorted(p for p in instance.rglob("*") if p.is_file())

    page = page_of(drop(web, big))
    assert NOT_AS_ISSUED in page
    assert sorted(p for p in instance.rglob("*") if p.is_file()) == before


def test_the_form_is_on_verify_and_works_with_its_csrf_token(make_app, key_pair):
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        certificate = issue(factories.make_user(role="coordinator"))
        web = application.test_client()
        form = web.get("/verify").get_data(as_text=True)
        assert 'enctype="multipart/form-data"' in form
        assert re.search(r'<input type="file" id="verify-file-input" name="file" '
                         r'accept="\.pdf,application/pdf" required', form)
        token = re.search(r'id="check-file">.*?name="csrf_token" value="([^"]+)"', form,
                          re.DOTALL).group(1)
        answered = web.post("/verify/file", data={
            "csrf_token": token, "file": (io.BytesIO(certificate.pdf), "c.pdf")},
            content_type="multipart/form-data")
        assert f"This file is certificate {certificate.registry_number}, valid" in page_of(
            answered)
        stale = web.post("/verify/file", data={"file": (io.BytesIO(certificate.pdf), "c.pdf")},
                         content_type="multipart/form-data")
        page = page_of(stale)
        assert "Choose the file again and check it." in page
        assert certificate.registry_number not in page


def test_file_checks_are_counted_as_uploads_then_429(make_app):
    application = make_app(RATELIMIT_ENABLED=True, UPLOAD_RATE_LIMIT="3 per hour")
    web = application.test_client()
    codes = [drop(web, STRANGER_PDF).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # looking a number up is another budget
    assert web.get("/verify").status_code == 200


def test_opening_the_forms_address_leads_to_the_form(web):
    response = web.get("/verify/file")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/verify#check-file")
