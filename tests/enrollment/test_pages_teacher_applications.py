"""My applications, an application's page with its history, withdrawal, and document downloads."""

from __future__ import annotations

import io
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from flask import current_app
from flask_babel import force_locale

from course_portal.core.clock import portal_today
from course_portal.enrollment import documents, labels, services
from tests import factories
from tests.enrollment.helpers import history, outbox, status_in_db
from tests.enrollment.test_pages_teacher import PDF, csrf_token, image_bytes, sign_in, text
from tests.queries import statements_sent


@pytest.fixture
def teacher(db, client):
    """A signed-in teacher whose profile is complete enough to submit."""
    user = factories.make_teacher(email="zhao.lei@example.edu.cn")
    db.session.commit()
    sign_in(client, user)
    return user


def with_file(application, kind="diploma", name="diploma.pdf", data=PDF):
    """Store a real file as the draft's document, as the apply page does."""
    return documents.store_document(application, kind, name, io.BytesIO(data),
                                    application.teacher)


def submitted_through_services(teacher, intake):
    """A draft saved, completed with real files and submitted, with its history rows."""
    draft = services.save_draft(teacher, intake, motivation="Why: 因为。", consent=True,
                                funding_source="self_funded")
    with_file(draft, "diploma", "diploma.pdf")
    with_file(draft, "passport", "passport.jpg", image_bytes("JPEG"))
    with_file(draft, "cv", "cv.png", image_bytes("PNG"))
    services.submit(draft, teacher)
    return draft


# --- my applications ----------------------------------------------------------------------


def test_a_teacher_without_applications_is_pointed_to_the_programs(client, teacher):
    page = text(client.get("/applications"))
    assert "My applications" in page
    assert "You have not applied to a program yet." in page
    assert "Browse the programs" in page


def test_my_applications_lists_each_with_its_status(client, db, teacher, intake):
    other = factories.make_intake(factories.make_program(title_en="Intellectual Systems"),
                                  title="Autumn 2027")
    draft = factories.make_application(teacher, intake, complete=False)
    waitlisted = factories.make_application(teacher, other, status="waitlisted")
    factories.make_application(intake=intake, status="approved")  # someone else's
    db.session.commit()

    page = text(client.get("/applications"))

    assert "Investment Ecosystem" in page and "Spring 2027" in page
    assert "Intellectual Systems" in page and "Autumn 2027" in page
    assert 'class="badge status-badge badge-draft">a draft<' in page
    assert 'class="badge status-badge badge-waitlisted">on the waiting list<' in page
    assert "badge-approved" not in page
    assert f'href="/applications/{draft.id}"' in page
    assert f'href="/applications/{waitlisted.id}"' in page
    assert f'href="/intakes/{intake.id}/apply">Continue the application' in page
    assert f'href="/intakes/{other.id}/apply"' not in page
    assert page.index("Intellectual Systems") < page.index("Investment Ecosystem")  # newest first


def test_my_applications_is_for_teachers(client, db, login_as):
    login_as("coordinator")
    assert client.get("/applications").status_code == 403


def test_the_query_count_of_my_applications_does_not_grow(client, db, teacher):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy
    def add(n):
        for _ in range(n):
            intake = factories.make_intake(factories.make_program())
            factories.make_application(teacher, intake, status="submitted")
        db.session.commit()

    add(2)
    client.get("/applications")  # warm up: the first request loads what every page loads
    with statements_sent() as few:
        assert client.get("/applications").status_code == 200
    add(15)
    with statements_sent() as many:
        page = text(client.get("/applications"))

    assert page.count('class="card application-item"') == 17
    assert len(many) == len(few), many


def test_the_nav_links_my_applications_for_teachers_only(client, db, login_as):
    login_as("teacher")
    assert 'href="/applications">My applications<' in text(client.get("/"))
    login_as("coordinator")
    assert 'href="/applications"' not in text(client.get("/"))


# --- the application's page ---------------------------------------------------------------


def test_the_page_shows_status_history_documents_motivation_and_funding(
        client, db, teacher, intake, coordinator):
    application = submitted_through_services(teacher, intake)
    services.waitlist(application, coordinator, reason="The seats are taken; you are next.")
    db.session.commit()

    response = client.get(f"/applications/{application.id}")
    page = text(response)

    assert response.status_code == 200
    assert "Investment Ecosystem" in page and "Spring 2027" in page
    assert 'class="badge status-badge badge-waitlisted">on the waiting list<' in page
    timeline = page[page.index('<ol class="timeline">'):page.index("</ol>")]
    steps = ["Draft started", "a draft → submitted", "submitted → on the waiting list"]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)  # oldest first, newest last
    assert timeline.count("by you") == 2 and timeline.count("by a course coordinator") == 1
    assert "Reason: The seats are taken; you are next." in timeline
    assert "<time datetime=" in timeline
    for document in application.documents:
        assert f'href="/documents/{document.id}"' in page
    assert "diploma.pdf" in page and "passport.jpg" in page and "cv.png" in page
    assert "Why: 因为。" in page
    assert "Self-funded" in page
    assert f'href="/applications/{application.id}/withdraw"' in page


def test_the_history_is_shown_in_the_readers_language(client, db, intake, coordinator):
    teacher = factories.make_teacher(locale="zh")
    db.session.commit()
    sign_in(client, teacher)
    application = submitted_through_services(teacher, intake)
    services.reject(application, coordinator, reason="文凭不清楚。")
    db.session.commit()

    page = text(client.get(f"/applications/{application.id}"))

    assert "文凭不清楚。" in page
    assert f'href="/applications/{application.id}/withdraw"' not in page
    with current_app.test_request_context(), force_locale("zh"):
        assert str(labels.status_label("rejected")) in page


def test_a_draft_links_to_its_form(client, db, teacher, intake):
    application = factories.make_application(teacher, intake, complete=False)
    db.session.commit()
    page = text(client.get(f"/applications/{application.id}"))
    assert f'href="/intakes/{intake.id}/apply">Continue the application' in page
    assert "/withdraw" not in page
    assert "No document uploaded yet." in page


def test_a_coordinator_is_sent_to_the_review_page_or_sees_it_read_only(
        client, db, login_as, intake):
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    login_as("coordinator")

    response = client.get(f"/applications/{application.id}")

    if "enrollment.review_application" in current_app.view_functions:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "/withdraw" not in text(response)


# --- withdraw -----------------------------------------------------------------------------


def test_withdrawing_asks_first_then_withdraws_and_mails(client, db, teacher, intake):
    application = factories.make_application(teacher, intake, status="submitted")
    db.session.commit()
    url = f"/applications/{application.id}/withdraw"

    page = text(client.get(url))
    assert "Withdraw your application?" in page
    assert "Withdrawing cannot be undone." in page
    assert 'value="Yes, withdraw"' in page and "No, keep my application" in page
    assert status_in_db(application) == "submitted"

    response = client.post(url, data={"confirm": "Yes, withdraw"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{application.id}")
    assert status_in_db(application) == "withdrawn"
    assert [(e.from_status, e.to_status) for e in history(application)][-1] == (
        "submitted", "withdrawn")
    assert [m.kind for m in outbox(to=teacher.email)] == ["application.withdrawn"]
    page = text(client.get(response.headers["Location"]))
    assert "Your application is withdrawn." in page
    assert 'class="badge status-badge badge-withdrawn">withdrawn<' in page
    assert "/withdraw" not in page


def test_withdrawing_an_approved_application_gives_the_seat_to_the_waiting_list(
        client, db, teacher, program):
    intake = factories.make_intake(program, capacity=1)
    application = factories.make_application(teacher, intake, status="approved")
    waiting = factories.make_application(intake=intake, status="waitlisted")
    db.session.commit()

    page = text(client.get(f"/applications/{application.id}/withdraw"))
    assert "the seat goes to the next teacher on the waiting list" in page

    client.post(f"/applications/{application.id}/withdraw", data={"confirm": "Yes, withdraw"})

    assert status_in_db(application) == "withdrawn"
    assert status_in_db(waiting) == "approved"


@pytest.mark.parametrize("status", ["draft", "rejected", "withdrawn", "enrolled"])
def test_what_cannot_be_withdrawn_is_not_offered(client, db, teacher, intake, status):
    application = factories.make_application(teacher, intake, status=status)
    db.session.commit()
    url = f"/applications/{application.id}/withdraw"

    response = client.post(url, data={"confirm": "Yes, withdraw"})

    assert response.status_code == 302
    assert "This application can no longer be withdrawn." in text(
        client.get(response.headers["Location"]))
    assert status_in_db(application) == status
    assert outbox() == []


def test_an_expired_withdraw_form_changes_nothing(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        teacher = factories.make_teacher()
        application = factories.make_application(teacher, status="submitted")
        db.session.commit()
        sign_in(client, teacher)
        stored = SimpleNamespace(id=application.id)
    url = f"/applications/{stored.id}/withdraw"
    page = text(client.get(url))

    def status():
        with app.app_context():
            return status_in_db(stored)

    response = client.post(url, data={"confirm": "Yes, withdraw", "csrf_token": "old"})
    assert response.status_code == 200
    assert "This form had expired. Nothing has changed" in text(response)
    assert status() == "submitted"

    client.post(url, data={"confirm": "Yes, withdraw", "csrf_token": csrf_token(page)})
    assert status() == "withdrawn"


# --- someone else's application and documents ---------------------------------------------


def test_another_teachers_application_and_documents_are_not_found(client, db, teacher, intake):
    other = factories.make_teacher()
    application = factories.make_application(other, intake, complete=False)
    document = with_file(application)
    db.session.commit()

    for url in (f"/applications/{application.id}", f"/applications/{application.id}/withdraw",
                f"/documents/{document.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/applications/{application.id}/withdraw").status_code == 404
    assert client.get("/applications/999999").status_code == 404
    assert client.get("/documents/999999").status_code == 404
    assert status_in_db(application) == "draft"


@pytest.mark.parametrize("url", [
    "/applications", "/applications/1", "/applications/1/withdraw", "/documents/1",
])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- downloads ----------------------------------------------------------------------------


def test_a_document_downloads_as_an_attachment_with_its_chinese_name(
        client, db, teacher, intake):
    draft = factories.make_application(teacher, intake, complete=False)
    document = with_file(draft, name="我的文凭.pdf")
    db.session.commit()

    response = client.get(f"/documents/{document.id}")

    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("我的文凭.pdf") in disposition
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


def test_an_image_keeps_its_stored_type(client, db, teacher, intake):
    draft = factories.make_application(teacher, intake, complete=False)
    document = with_file(draft, "passport", "scan.pdf", image_bytes("PNG"))  # the name lies
    db.session.commit()

    response = client.get(f"/documents/{document.id}")

    assert response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_can_download(client, db, login_as, intake, role):
    teacher = factories.make_teacher()
    draft = factories.make_application(teacher, intake, complete=False)
    document = with_file(draft)
    db.session.commit()
    login_as(role)

    response = client.get(f"/documents/{document.id}")

    assert response.status_code == 200 and response.data == PDF


def test_a_document_whose_file_is_gone_is_not_found(client, db, teacher, intake):
    application = factories.make_application(teacher, intake)  # rows without files
    db.session.commit()
    assert client.get(f"/documents/{application.documents[0].id}").status_code == 404


# --- the program page's Apply button ------------------------------------------------------


def test_the_program_page_offers_apply_for_accepting_intakes(client, db, program, intake):
    from datetime import timedelta

    closed = factories.make_intake(program, title="Closed",
                                   applications_open_on=portal_today() + timedelta(days=5),
                                   applications_close_on=portal_today() + timedelta(days=9))
    db.session.commit()

    page = text(client.get(f"/programs/{program.code}"))

    assert f'href="/intakes/{intake.id}/apply">Apply<' in page
    assert f"/intakes/{closed.id}/apply" not in page
