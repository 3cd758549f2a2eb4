"""The teacher's apply page: drafts, documents, submission, hostile input, one application per intake."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import select

from course_portal.core.clock import portal_today
from course_portal.enrollment import services
from course_portal.enrollment.models import Application
from course_portal.extensions import db as _db
from tests import factories
from tests.enrollment.helpers import outbox

# --- helpers, also used by test_pages_teacher_applications.py ---------------------------

#: a minimal valid PDF: a catalog, a trailer and the end marker
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
#: a web page dressed up as a PDF by its name
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
MOTIVATION = "我教经济学。I teach economics and want to learn how investment ecosystems work."


def image_bytes(image_format: str, size=(64, 48)) -> bytes:
    """A small real image made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buffer, image_format)
    return buffer.getvalue()


def file(data: bytes, name: str) -> tuple:
    """A file part of a multipart form, as the test client takes it."""
    return (io.BytesIO(data), name)


def all_files() -> dict:
    """The three documents: a PDF diploma, a JPEG passport page, a PNG CV."""
    return {
        "diploma": file(PDF, "diploma.pdf"),
        "passport": file(image_bytes("JPEG"), "passport.jpg"),
        "cv": file(image_bytes("PNG"), "cv.png"),
    }


def application_form(button: str = "save", files: dict | None = None, **overrides) -> dict:
    """The application form as a browser posts it: typed fields, chosen files and the button."""
    data = {
        "motivation": MOTIVATION,
        "funding_source": "home_university",
        "funding_other": "",
        "consent": "y",
    }
    data.update(overrides)
    data = {name: value for name, value in data.items() if value is not None}
    data.update(files or {})
    data[button] = {"save": "Save draft", "send": "Submit application"}[button]
    return data


def sign_in(client, user) -> None:
    """Sign the user in on the test client (the user must be committed)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def text(response) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def field_block(page: str, name: str) -> str:
    """The HTML of the form field wrapper holding the input of that name."""
    position = page.index(f'name="{name}"')
    start = page.rindex('<div class="field', 0, position)
    end = page.index("</div>", position)
    return page[start:end]


def applications_of(teacher) -> list[Application]:
    """The teacher's applications as stored, past the session's copies."""
    _db.session.expire_all()
    return list(_db.session.scalars(
        select(Application).where(Application.teacher_id == teacher.id).order_by(Application.id)
    ))


def csrf_token(page: str) -> str:
    """The CSRF token of a page's form."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def teacher(db, client):
    """A signed-in teacher whose profile is complete enough to submit."""
    user = factories.make_teacher(email="li.na@example.edu.cn")
    db.session.commit()
    sign_in(client, user)
    return user


@pytest.fixture
def url(intake, db):
    """The apply page of the intake."""
    db.session.commit()
    return f"/intakes/{intake.id}/apply"


def stored_files() -> list[Path]:
    """Every file under the upload folder."""
    root = Path(current_app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_the_program_the_intake_and_the_form(client, teacher, url):
    response = client.get(url)
    page = text(response)

    assert response.status_code == 200
    assert "Investment Ecosystem" in page and "Spring 2027" in page
    assert "Seats left" in page and "5 / 5" in page and "Deadline" in page
    assert 'enctype="multipart/form-data"' in page
    for name in ("diploma", "passport", "cv"):
        assert f'name="{name}" type="file"' in page
    assert page.count('accept=".pdf,.jpg,.jpeg,.png') == 3
    assert "PDF, JPEG or PNG, at most 10 MB" in page
    assert 'maxlength="5000"' in page
    for label in ("Self-funded", "My home university",
                  "A program of the Ministry of Education of China", "Other"):
        assert label in page
    assert "I agree to the processing of my personal data" in page
    assert 'value="Save draft"' in page and 'value="Submit application"' in page
    # the CSP allows neither inline (scripts come from the portal's own files)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "style=" not in page


def test_a_coordinator_cannot_apply(client, db, login_as, url):
    login_as("coordinator")
    assert client.get(url).status_code == 403
    assert client.post(url, data=application_form()).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "apply" in response.headers["Location"]


def test_an_unknown_or_unpublished_intake_is_not_found(client, db, teacher, url):
    hidden = factories.make_intake(factories.make_program(published=False))
    db.session.commit()
    assert client.get("/intakes/999999/apply").status_code == 404
    assert client.get(f"/intakes/{hidden.id}/apply").status_code == 404


def test_a_closed_intake_says_so_and_takes_nothing(client, db, teacher, program):
    today = portal_today()
    closed = factories.make_intake(program, applications_open_on=today - timedelta(days=30),
                                   applications_close_on=today - timedelta(days=1))
    db.session.commit()
    url = f"/intakes/{closed.id}/apply"

    page = text(client.get(url))
    assert "This intake does not accept applications now" in page
    assert 'type="file"' not in page

    assert client.post(url, data=application_form()).status_code == 200
    assert applications_of(teacher) == []


# --- the happy path -----------------------------------------------------------------------


def test_a_teacher_applies_with_a_pdf_a_jpeg_and_a_png(client, db, teacher, url):
    response = client.post(url, data=application_form("send", files=all_files()))

    [application] = applications_of(teacher)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{application.id}")
    assert application.status == "submitted" and application.submitted_at is not None
    assert application.motivation == MOTIVATION
    assert application.funding_source == "home_university"
    assert application.consent_at is not None
    kinds = {d.kind.value: (d.original_filename, d.content_type) for d in application.documents}
    assert kinds == {
        "diploma": ("diploma.pdf", "application/pdf"),
        "passport": ("passport.jpg", "image/jpeg"),
        "cv": ("cv.png", "image/png"),
    }
    assert len(stored_files()) == 3
    assert [m.kind for m in outbox(to=teacher.email)] == ["application.submitted"]

    page = text(client.get(response.headers["Location"]))
    assert "Your application is submitted" in page
    assert "diploma.pdf" in page and "passport.jpg" in page and "cv.png" in page


def test_a_draft_is_saved_and_reopened_with_what_was_typed(client, db, teacher, url):
    response = client.post(url, data=application_form(
        "save", funding_source="other", funding_other="深圳市教育基金会", consent=None,
        files={"diploma": file(PDF, "我的文凭.pdf")},
    ))

    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    [application] = applications_of(teacher)
    assert application.status == "draft"
    assert application.funding_other == "深圳市教育基金会"
    assert application.consent_at is None
    assert [d.original_filename for d in application.documents] == ["我的文凭.pdf"]

    page = text(client.get(url))
    assert "Your draft is saved" in page
    assert MOTIVATION in page
    assert 'value="other" checked' in page or 'checked id="funding_source-3"' in page
    assert 'value="深圳市教育基金会"' in page
    assert 'id="consent" name="consent" type="checkbox" value="y">' in page  # not checked
    assert "Uploaded:" in page and "我的文凭.pdf" in page
    assert "To replace it, choose another file." in page
    assert f'href="/documents/{application.documents[0].id}"' in page


def test_a_draft_is_finished_later(client, db, teacher, url):
    client.post(url, data=application_form("save", files={"diploma": file(PDF, "d.pdf")}))
    files = all_files()
    del files["diploma"]

    response = client.post(url, data=application_form("send", files=files))

    [application] = applications_of(teacher)
    assert response.status_code == 302
    assert application.status == "submitted"
    assert len(application.documents) == 3


def test_uploading_a_kind_again_replaces_the_document(client, db, teacher, url):
    client.post(url, data=application_form(files={"diploma": file(PDF, "old.pdf")}))
    [first] = stored_files()

    client.post(url, data=application_form(
        files={"diploma": file(image_bytes("PNG"), "new.png")}))

    [application] = applications_of(teacher)
    assert [(d.original_filename, d.content_type) for d in application.documents] == [
        ("new.png", "image/png")]
    assert stored_files() != [first] and len(stored_files()) == 1


# --- what keeps an application from being submitted ----------------------------------------


def test_submitting_without_documents_lists_what_is_missing(client, db, teacher, url):
    response = client.post(url, data=application_form("send"))
    page = text(response)

    assert response.status_code == 200
    assert page.count("Upload this document (PDF, JPEG or PNG).") == 3
    for name in ("diploma", "passport", "cv"):
        assert "Upload this document" in field_block(page, name)
    assert "Your draft is saved, but it cannot be submitted yet" in page
    assert MOTIVATION in page
    [application] = applications_of(teacher)
    assert application.status == "draft" and application.motivation == MOTIVATION
    assert outbox() == []


def test_submitting_an_empty_form_names_every_missing_part(client, db, teacher, url):
    page = text(client.post(url, data=application_form(
        "send", motivation="", funding_source=None, consent=None)))

    assert "Tell us why you want to take this program." in field_block(page, "motivation")
    assert "Choose how your participation is funded." in page
    assert "Consent to the processing of your personal data to apply." in field_block(
        page, "consent")
    assert applications_of(teacher)[0].status == "draft"


def test_other_funding_needs_words(client, db, teacher, url):
    page = text(client.post(url, data=application_form(
        "send", funding_source="other", files=all_files())))
    assert "Say who funds your participation." in field_block(page, "funding_other")
    assert applications_of(teacher)[0].status == "draft"


def test_consent_is_required_and_the_stored_documents_stay(client, db, teacher, url):
    response = client.post(url, data=application_form("send", consent=None, files=all_files()))
    page = text(response)

    assert response.status_code == 200
    assert "Consent to the processing of your personal data to apply." in page
    [application] = applications_of(teacher)
    assert application.status == "draft"
    assert len(application.documents) == 3 and len(stored_files()) == 3
    assert page.count("Uploaded:") == 3

    response = client.post(url, data=application_form("send"))
    assert response.status_code == 302
    assert applications_of(teacher)[0].status == "submitted"


def test_an_incomplete_profile_is_explained_above_the_form(client, db, login_as, url):
    teacher = login_as("teacher")  # a name, but no university, department or position
    page = text(client.post(url, data=application_form("send", files=all_files())))

    assert "Complete your profile first" in page
    assert 'href="/profile"' in page
    assert applications_of(teacher)[0].status == "draft"


def test_an_unknown_funding_source_is_refused(client, db, teacher, url):
    page = text(client.post(url, data=application_form(funding_source="lottery")))
    funding = page[page.index('<fieldset class="radios'):]
    assert "Not a valid choice" in funding[:funding.index("</fieldset>")]
    assert applications_of(teacher) == []


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(("motivation", "message"), [
    ("I teach\x00 economics", "Remove the invisible control character U+0000"),
    ("x" * 10_001, "Shorten this to 5000 characters; it has 10001 now."),
    ("bell \x07 here", "Remove the invisible control character U+0007"),
])
def test_a_refused_motivation_changes_nothing_and_keeps_the_rest(
        client, db, teacher, url, motivation, message):
    response = client.post(url, data=application_form(
        motivation=motivation, funding_source="moe_china",
        files={"diploma": file(PDF, "diploma.pdf")}))
    page = text(response)

    assert response.status_code == 200
    assert message in field_block(page, "motivation")
    assert 'value="moe_china" checked' in page or 'checked id="funding_source-2"' in page
    assert "The files you chose were not uploaded" in page
    assert applications_of(teacher) == [] and stored_files() == []


@pytest.mark.parametrize("motivation", [
    "{{ 7*7 }} {% raw %}",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "Line one\r\nLine two\n\n第三行 ‮ (a right-to-left override)",
])
def test_markup_and_template_syntax_are_kept_as_text(client, db, teacher, url, motivation):
    client.post(url, data=application_form("send", motivation=motivation, files=all_files()))

    [application] = applications_of(teacher)
    assert application.status == "submitted"
    assert application.motivation == motivation.replace("\r\n", "\n").strip()
    page = text(client.get(f"/applications/{application.id}"))
    assert "<script>alert" not in page and "<img src=x" not in page
    if "7*7" in motivation:
        assert "{{ 7*7 }}" in page and "49" not in page.split("motivation", 1)[-1][:200]
    if "script" in motivation:
        assert "&lt;script&gt;alert(" in page


def test_a_refused_file_shows_its_message_and_keeps_everything_else(client, db, teacher, url):
    response = client.post(url, data=application_form("send", files={
        "diploma": file(HTML_PAGE, "diploma.pdf"),
        "passport": file(image_bytes("PNG"), "passport.png"),
    }))
    page = text(response)

    assert response.status_code == 200
    assert "This file contains web page (HTML) or script code" in field_block(page, "diploma")
    assert "Your draft is saved, but a file was refused" in page
    assert MOTIVATION in page
    [application] = applications_of(teacher)
    assert application.status == "draft" and application.motivation == MOTIVATION
    assert [d.kind.value for d in application.documents] == ["passport"]
    assert len(stored_files()) == 1


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.pdf", "The file is empty."),
    (b"GIF89a" + b"\x00" * 100, "scan.png", "Upload a PDF, JPEG or PNG file."),
    (PDF[:-7], "cut.pdf", "damaged or incomplete"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.jpg",
     "web page (HTML) or script code"),
])
def test_files_that_are_not_documents_are_refused(client, db, teacher, url, data, name, message):
    page = text(client.post(url, data=application_form(files={"cv": file(data, name)})))
    assert message in field_block(page, "cv")
    assert applications_of(teacher)[0].documents == []
    assert stored_files() == []


# --- one application per teacher and intake -----------------------------------------------


def test_a_submitted_application_sends_the_teacher_to_its_page(client, db, teacher, intake, url):
    application = factories.make_application(teacher, intake, status="submitted")
    db.session.commit()

    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{application.id}")
    assert "You have already applied to this intake" in text(client.get(response.headers[
        "Location"]))

    response = client.post(url, data=application_form("send", motivation="again"))
    assert response.status_code == 302
    [stored] = applications_of(teacher)
    assert stored.motivation != "again"


def test_two_posts_of_a_new_draft_make_one_application(client, db, teacher, url):
    client.post(url, data=application_form())
    client.post(url, data=application_form(motivation="changed"))
    [application] = applications_of(teacher)
    assert application.motivation == "changed"


# --- CSRF ---------------------------------------------------------------------------------


def test_an_expired_form_keeps_what_was_typed_and_changes_nothing(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        teacher = factories.make_teacher()
        intake = factories.make_intake(factories.make_program())
        db.session.commit()
        url = f"/intakes/{intake.id}/apply"
        sign_in(client, teacher)
    client.get(url)  # the session has a token, as a browser's has

    response = client.post(url, data=application_form(
        "send", csrf_token="expired-or-forged", funding_source="self_funded",
        files={"diploma": file(PDF, "diploma.pdf")}))
    page = text(response)

    assert response.status_code == 200
    assert "This form had expired. Your entries are kept" in page
    assert "The files you chose were not uploaded: choose them again." in page
    assert MOTIVATION in page
    assert 'value="self_funded" checked' in page or 'checked id="funding_source-0"' in page
    with app.app_context():
        assert applications_of(teacher) == []

    response = client.post(url, data=application_form("save", csrf_token=csrf_token(page)))
    assert response.status_code == 302
    with app.app_context():
        assert len(applications_of(teacher)) == 1


def test_services_and_the_page_agree_on_what_is_missing(db, intake):
    """The field names submission_problems uses are the form's (or None, above the form)."""
    from course_portal.enrollment.forms import ApplicationForm

    draft = factories.make_application(intake=intake, complete=False,
                                       funding_source="other")
    problems = services.submission_problems(draft)
    with current_app.test_request_context():
        names = set(ApplicationForm(meta={"csrf": False})._fields)
    assert set(problems) - {None} <= names
