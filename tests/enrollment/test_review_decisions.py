"""Deciding from the review pages: one application or many, seats, reasons, a stale decision."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from course_portal.enrollment import services
from course_portal.enrollment.models import Application, FundingSource
from course_portal.extensions import db as _db
from tests import factories
from tests.enrollment.helpers import count_status, history, seats_taken, status_in_db


@pytest.fixture
def staff(login_as, db):
    """A coordinator, Anna Petrova, signed in on the test client."""
    user = login_as("coordinator")
    user.display_name = "Anna Petrova"
    db.session.commit()
    return user


def page_text(response) -> str:
    """The response's HTML."""
    return response.get_data(as_text=True)


def flashes(client) -> str:
    """The flashed messages of the page the client was redirected to."""
    return page_text(client.get("/review"))


def buttons(html: str) -> list[str]:
    """The labels of the page's submit buttons."""
    return re.findall(r'<input [^>]*type="submit" value="([^"]+)"', html)


# --- many at once -------------------------------------------------------------------------


def test_bulk_approve_with_seats_for_only_some(client, staff, db, program):
    intake = factories.make_intake(program, capacity=2, title="Small")
    applications = [factories.make_application(intake=intake, status="submitted")
                    for _ in range(4)]
    db.session.commit()
    url = f"/review?intake={intake.id}&sort=name"

    response = client.post(url, data={"ids": [a.id for a in applications], "approve": "1"})

    assert response.status_code == 302
    assert response.headers["Location"] == url  # the same filtered page
    html = page_text(client.get(url))
    assert "2 approved; 2 could not be: " in html
    # one message for both, after the two applications it concerns
    assert html.count("Every seat of this intake is taken.") == 1
    refused = re.search(r"could not be: (.*?): Every seat", html).group(1)
    assert refused.count("№ ") == 2
    assert seats_taken(intake) == 2
    assert count_status(intake, "approved") == 2
    assert count_status(intake, "submitted") == 2


def test_bulk_reject_needs_a_reason_and_keeps_the_ticks(client, staff, db, intake):
    applications = [factories.make_application(intake=intake, status="submitted")
                    for _ in range(3)]
    db.session.commit()
    ticked = [applications[0].id, applications[2].id]

    response = client.post("/review", data={"ids": ticked, "reject": "1", "reason": "  "})

    assert response.status_code == 200
    html = page_text(response)
    assert "Give the reason for the rejection; the teacher will read it." in html
    for application in applications:
        assert status_in_db(application) == "submitted"
        checked = f'value="{application.id}:submitted" checked' in html
        assert checked == (application.id in ticked)


def test_bulk_reject_with_a_reason_and_bulk_waitlist(client, staff, db, intake):
    first, second, third = (factories.make_application(intake=intake, status="submitted")
                            for _ in range(3))
    db.session.commit()

    client.post("/review", data={"ids": [first.id, second.id], "reject": "1",
                                 "reason": "The diploma is not in a related field."})
    assert "2 rejected." in flashes(client)
    client.post("/review", data={"ids": [third.id], "waitlist": "1"})
    assert "1 put on the waiting list." in flashes(client)

    assert [status_in_db(a) for a in (first, second, third)] == [
        "rejected", "rejected", "waitlisted"]
    event = history(first)[-1]
    assert (event.reason, event.actor_id) == ("The diploma is not in a related field.", staff.id)


def test_bulk_failures_name_the_applications(client, staff, db, intake):
    teacher = factories.make_teacher(family_name_zh="欧阳", given_name_zh="娜娜",
                                     family_name_latin="Ouyang", given_name_latin="Nana")
    rejected = factories.make_application(teacher=teacher, intake=intake, status="rejected")
    waiting = factories.make_application(intake=intake, status="submitted")
    db.session.commit()

    client.post("/review?status=all", data={"ids": [rejected.id, waiting.id], "approve": "1"})

    html = page_text(client.get("/review?status=all"))
    assert "1 approved; 1 could not be: " in html
    assert (f"№ {rejected.id} 欧阳娜娜 (OUYANG Nana): An application that is rejected cannot "
            "become approved.") in html


def test_bulk_reject_does_not_revoke_a_colleagues_approval(client, staff, db, intake):
    first, second = (factories.make_application(intake=intake, status="submitted")
                     for _ in range(2))
    db.session.commit()
    page = page_text(client.get("/review"))
    assert f'value="{first.id}:submitted"' in page
    # while the page is open, a colleague approves the first one
    services.approve(_db.session.get(Application, first.id), factories.make_user(role="coordinator"))
    db.session.commit()

    client.post("/review", data={"ids": [f"{first.id}:submitted", f"{second.id}:submitted"],
                                 "reject": "1", "reason": "The course is full of economists."})

    html = flashes(client)
    assert "1 rejected; 1 could not be: " in html
    assert "(it is now approved)" in html
    assert status_in_db(first) == "approved"
    assert status_in_db(second) == "rejected"
    assert seats_taken(intake) == 1


def test_bulk_needs_a_ticked_application_and_a_decision(client, staff, db, intake):
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()

    nothing_ticked = page_text(client.post("/review", data={"approve": "1"}))
    assert "Tick at least one application." in nothing_ticked
    no_button = page_text(client.post("/review", data={"ids": [application.id]}))
    assert "Choose approve, waiting list or reject." in no_button
    junk = client.post("/review", data={"ids": ["1 OR 1=1"], "approve": "1"})
    assert junk.status_code == 200
    assert status_in_db(application) == "submitted"


# --- one application ----------------------------------------------------------------------


@pytest.fixture
def nana(db, intake):
    """欧阳娜娜's submitted application, with documents and a complete profile."""
    partner = factories.make_partner("Tianshui Pedagogical University")
    teacher = factories.make_teacher(
        partner, email="nana@tsnu.edu.cn", locale="zh",
        family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
        given_name_latin="Nana", name_ru="Оуян Нана", department="School of Economics",
        position="Head of the teaching office", academic_title="associate_professor",
        phone="+86 138 0013 8000", wechat_id="nana_ouyang",
    )
    application = factories.make_application(
        teacher=teacher, intake=intake, status="submitted",
        motivation="I teach investment analysis.\nI want to compare ecosystems.",
        funding_source=FundingSource.OTHER, funding_other="A provincial grant",
    )
    db.session.commit()
    return application


def test_the_application_page_shows_profile_documents_and_history(client, staff, db, nana):
    services.waitlist(nana, staff, reason="Waiting for the budget")
    db.session.commit()

    response = client.get(f"/review/applications/{nana.id}")

    assert response.status_code == 200
    html = page_text(response)
    for text in ("欧阳娜娜", "OUYANG Nana", "Оуян Нана", "Tianshui Pedagogical University",
                 "School of Economics", "Head of the teaching office", "Associate professor",
                 "+86 138 0013 8000", "nana_ouyang", "nana@tsnu.edu.cn", "中文",
                 "I teach investment analysis.", "Other: A provincial grant",
                 "Spring 2027", "5 of 5"):
        assert text in html, text
    for document in nana.documents:
        assert f'href="/documents/{document.id}"' in html
        assert document.original_filename in html
    # the history: created as a row by the factory, then waitlisted by Anna
    assert "Submitted → Waitlisted" in html
    assert "by Anna Petrova" in html
    assert "Waiting for the budget" in html
    assert buttons(html) == ["Approve", "Reject"]


def test_an_unknown_application_is_404(client, staff, db):
    assert client.get("/review/applications/999999").status_code == 404
    assert client.post("/review/applications/999999/decide",
                       data={"approve": "1"}).status_code == 404


@pytest.mark.parametrize(("status", "expected"), [
    ("submitted", ["Approve", "Put on the waiting list", "Reject"]),
    ("waitlisted", ["Approve", "Reject"]),
    ("approved", ["Reject"]),
    ("rejected", []),
    ("withdrawn", []),
])
def test_the_page_offers_only_the_moves_allowed_now(client, staff, db, intake, status, expected):
    application = factories.make_application(intake=intake, status=status)
    db.session.commit()
    html = page_text(client.get(f"/review/applications/{application.id}"))
    assert buttons(html) == expected


def _decide(client, application, button: str, reason: str = "", seen: str = "submitted"):
    return client.post(f"/review/applications/{application.id}/decide",
                       data={button: "1", "reason": reason, "seen_status": seen})


def test_approve_one_application(client, staff, db, nana, intake):
    response = _decide(client, nana, "approve")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/review/applications/{nana.id}"
    html = page_text(client.get(response.headers["Location"]))
    assert f"Approved: № {nana.id} 欧阳娜娜 (OUYANG Nana)." in html
    assert status_in_db(nana) == "approved"
    assert seats_taken(intake) == 1
    assert history(nana)[-1].actor_id == staff.id


def test_reject_needs_a_reason_on_the_form(client, staff, db, nana):
    response = _decide(client, nana, "reject", reason="")

    assert response.status_code == 200
    html = page_text(response)
    assert re.search(r'<textarea[^>]*aria-invalid="true"', html)
    assert "Give the reason for the rejection; the teacher will read it." in html
    assert status_in_db(nana) == "submitted"

    _decide(client, nana, "reject", reason="The program needs a degree in economics.")
    assert status_in_db(nana) == "rejected"
    assert history(nana)[-1].reason == "The program needs a degree in economics."


def test_no_seat_left_suggests_the_waiting_list(client, staff, db, program):
    intake = factories.make_intake(program, capacity=1, title="Full")
    factories.make_application(intake=intake, status="approved")
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()

    response = _decide(client, application, "approve")

    assert response.status_code == 200
    html = page_text(response)
    assert "Every seat of this intake is taken. Put the application on the waiting list" in html
    assert "Put on the waiting list" in buttons(html)
    assert status_in_db(application) == "submitted"
    assert seats_taken(intake) == 1


def test_a_stale_decision_says_what_the_status_is_now(client, staff, db, nana, intake):
    page = page_text(client.get(f"/review/applications/{nana.id}"))
    assert 'name="seen_status" type="hidden" value="submitted"' in page
    # meanwhile a colleague approves it
    colleague = factories.make_user(role="coordinator")
    services.approve(_db.session.get(Application, nana.id), colleague)
    db.session.commit()

    response = _decide(client, nana, "reject", reason="Not a related field", seen="submitted")

    assert response.status_code == 200
    html = page_text(response)
    assert "Someone else changed this application meanwhile (it is now approved)." in html
    assert status_in_db(nana) == "approved"  # the colleague's approval stands
    assert seats_taken(intake) == 1
    # the page now shows the current status, so deciding again from it is informed
    assert 'name="seen_status" type="hidden" value="approved"' in html


def test_approving_after_a_colleagues_rejection_is_stale(client, staff, db, nana):
    colleague = factories.make_user(role="coordinator")
    services.reject(_db.session.get(Application, nana.id), colleague, reason="Duplicate")
    db.session.commit()

    # the coordinator's page was older than the colleague's rejection
    html = page_text(_decide(client, nana, "approve", seen="submitted"))

    assert "it is now rejected" in html
    assert status_in_db(nana) == "rejected"


def test_decisions_check_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        application = factories.make_application(status="submitted")
        coordinator = factories.make_user(role="coordinator")
        _db.session.commit()
        application_id, user_id = application.id, coordinator.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True

    single = client.post(f"/review/applications/{application_id}/decide",
                         data={"approve": "1", "seen_status": "submitted"})
    bulk = client.post("/review", data={"ids": [application_id], "approve": "1"})

    assert "This form had expired" in page_text(single)
    assert "This form had expired" in page_text(bulk)
    with app.app_context():
        assert _db.session.scalar(
            select(Application.status).where(Application.id == application_id)) == "submitted"
