"""Confirming a seat: the deadline set on approval, one button, the release at the deadline.

The portal's clock is moved with time-machine (never slept); the release runs as the timed
step runs it (core.steps.run_due). Pages are read through the test client as the teacher and
the coordinator read them; emails are read from the outbox, where they wait to be sent.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from course_portal.accounts.session import start_clock
from course_portal.core import clock, steps
from course_portal.core.audit import AuditEvent
from course_portal.core.steps import STEPS_BY_NAME, TimedStep
from course_portal.enrollment import confirmation, services
from course_portal.enrollment.errors import EnrollmentError
from course_portal.enrollment.models import Application, ApplicationStatus
from tests import factories
from tests.enrollment.helpers import history, outbox, seats_taken, status_in_db, text_of

S = ApplicationStatus

#: the day the coordinator approves (a Monday); the intakes start three weeks later
D0 = date(2027, 3, 1)
RELEASE = "enrollment.release_unconfirmed"


def moscow(day: date, hour: int = 0, minute: int = 5) -> datetime:
    """A moment of a portal day (Europe/Moscow)."""
    return datetime.combine(day, time(hour, minute), tzinfo=clock.portal_zone())


def at(day: date, hour: int = 12, minute: int = 0):
    """Move the portal's clock to that moment of a Moscow day, standing still."""
    return time_machine.travel(moscow(day, hour, minute), tick=False)


def sign_in(client, user) -> None:
    """The user's session on the client, as a completed sign-in gives it."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        start_clock(session)


def page(response) -> str:
    """The response's text with the HTML entities read (“ ” and ' as a reader sees them)."""
    return html.unescape(response.get_data(as_text=True))


def fresh(application: Application) -> Application:
    """The application as stored now."""
    from course_portal.extensions import db

    db.session.expire_all()
    return db.session.get(Application, application.id)


def make_intake(days: int | None = 3, capacity: int = 5, starts_in: int = 21, **fields):
    """An intake of a program whose title reads in three languages, closed for applications."""
    program = factories.make_program(title_en="Investment Ecosystem", title_zh="投资生态系统",
                                     title_ru="Инвестиционная экосистема")
    starts = D0 + timedelta(days=starts_in)
    return factories.make_intake(
        program, capacity=capacity, starts_on=starts, ends_on=starts + timedelta(days=30),
        applications_open_on=D0 - timedelta(days=20), applications_close_on=D0,
        confirm_within_days=days, title="Spring 2027", **fields)


def submitted(intake, **teacher_fields) -> Application:
    """A submitted application of a new teacher."""
    teacher = factories.make_teacher(**teacher_fields)
    return factories.make_application(teacher=teacher, intake=intake, status="submitted")


def audit_rows(action: str, application: Application) -> list[AuditEvent]:
    from course_portal.extensions import db

    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == application.id)
        .order_by(AuditEvent.id)))


def step_result(name: str = RELEASE) -> str:
    from course_portal.extensions import db

    db.session.expire_all()
    return db.session.get(TimedStep, name).last_result


# --- the deadline set on approval ---------------------------------------------------------


def test_approval_sets_the_deadline_and_the_email_gives_the_day_and_the_link(
        client, db, coordinator):
    intake = make_intake(days=3)
    application = submitted(intake, email="wang@example.edu.cn")
    db.session.commit()

    with at(D0, 11):
        sign_in(client, coordinator)
        response = client.post(f"/review/applications/{application.id}/decide",
                               data={"seen_status": "submitted", "approve": "1"})
        assert response.status_code == 302

        approved = fresh(application)
        assert approved.status == S.APPROVED
        assert approved.confirm_by == D0 + timedelta(days=3)
        assert approved.confirmed_at is None
        (mail,) = outbox(to="wang@example.edu.cn", kind="application.approved")
        assert f"http://portal.test/applications/{application.id}/confirm" in mail.body_text
        # the last day, when it ends in Moscow and, for a teacher in Beijing, there
        assert "March 4, 2027 23:59 (Moscow Time)" in mail.body_text
        assert "March 5, 2027 04:59 (China Time)" in mail.body_text

        # the coordinator's page says it too, with the form to move it
        review = page(client.get(f"/review/applications/{application.id}"))
        assert "Seat confirmation" in review and "Not confirmed yet" in review
        assert "Set the new deadline" in review


def test_the_deadline_is_never_after_the_day_before_the_start(db):
    intake = make_intake(days=10, starts_in=4)
    assert confirmation.deadline_for(intake, D0) == D0 + timedelta(days=3)
    # approved on the first day or later: until the end of that very day
    assert confirmation.deadline_for(intake, D0 + timedelta(days=6)) == D0 + timedelta(days=6)
    assert confirmation.deadline_for(make_intake(days=None), D0) is None


# --- the teacher confirms -----------------------------------------------------------------


def test_the_teacher_confirms_from_the_link_and_keeps_the_seat_after_the_deadline(
        client, db, coordinator):
    intake = make_intake(days=3)
    application = submitted(intake)
    teacher = application.teacher
    with at(D0, 11):
        services.approve(application, coordinator)
        db.session.commit()

    with at(D0 + timedelta(days=1), 20):
        sign_in(client, teacher)
        mine = page(client.get("/applications"))
        assert "Confirm your seat by March 4, 2027" in mine and "Confirm my seat" in mine

        form = page(client.get(f"/applications/{application.id}/confirm"))
        assert "Investment Ecosystem" in form and "Spring 2027" in form
        assert "March 4, 2027 23:59 (Moscow Time)" in form
        assert len(re.findall(r'<input [^>]*value="Confirm my seat"', form)) == 1

        response = client.post(f"/applications/{application.id}/confirm", data={})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/applications/{application.id}")
        shown = page(client.get(response.headers["Location"]))
        assert "Your seat is confirmed" in shown
        assert "Seat confirmed" in shown and "Confirmed on" in shown
        assert "Confirm my seat" not in shown
        assert "Seat confirmed" in page(client.get("/applications"))
        assert fresh(application).confirmed_at is not None
        (row,) = audit_rows("application.seat_confirmed", application)
        assert row.actor_id == teacher.id

        # a second click changes nothing and says why
        again = client.post(f"/applications/{application.id}/confirm", data={})
        assert "You have already confirmed this seat." in page(
            client.get(again.headers["Location"]))
        assert len(audit_rows("application.seat_confirmed", application)) == 1

    with at(D0 + timedelta(days=5), 0, 5):
        assert RELEASE in steps.run_due()
        assert step_result() == "released 0"
        assert status_in_db(application) == S.APPROVED

    with at(intake.starts_on, 0, 5):
        steps.run_due()
        assert status_in_db(application) == S.ENROLLED


# --- the release at the deadline ----------------------------------------------------------


def test_an_unconfirmed_seat_is_released_the_day_after_its_deadline(client, db, coordinator):
    intake = make_intake(days=3, capacity=2)
    first = submitted(intake, locale="zh", email="li@example.edu.cn")
    second = submitted(intake, email="zhao@example.edu.cn")
    waiting = submitted(intake, locale="ru", email="ivanova@example.edu.cn")
    with at(D0, 11):
        services.approve(first, coordinator)
        services.approve(second, coordinator)
        services.waitlist(waiting, coordinator)
        db.session.commit()
    assert seats_taken(intake) == 2

    # the last day, late in the evening in Moscow: still time
    with at(D0 + timedelta(days=3), 23, 50):
        steps.run_due()
        assert step_result() == "released 0"
        assert status_in_db(first) == S.APPROVED

    # five past midnight: the day has ended
    with at(D0 + timedelta(days=4), 0, 5):
        assert RELEASE in steps.run_due()
        assert step_result() == "released 2"
        assert status_in_db(first) == status_in_db(second) == S.WITHDRAWN
        # two seats freed, one taken again by the first teacher waiting
        assert seats_taken(intake) == 1

        row = history(first)[-1]
        assert (row.from_status, row.to_status, row.actor_id) == (S.APPROVED, S.WITHDRAWN, None)
        assert "The seat was not confirmed by 2027-03-04, so it was released" in row.reason
        assert "截至2027-03-04未确认参加" in row.reason
        (audited,) = audit_rows("application.withdrawn", first)
        assert audited.actor_id is None and "2027-03-04" in audited.details["reason"]

        (released,) = outbox(to="li@example.edu.cn", kind="application.seat_released")
        assert "投资生态系统" in released.subject
        assert "March 4, 2027" not in released.body_text  # in the teacher's language
        assert outbox(to="li@example.edu.cn", kind="application.withdrawn") == []

        promoted = fresh(waiting)
        assert promoted.status == S.APPROVED
        assert promoted.confirm_by == D0 + timedelta(days=7)
        (approval,) = outbox(to="ivanova@example.edu.cn", kind="application.approved")
        assert "Инвестиционная экосистема" in approval.subject
        assert f"/applications/{waiting.id}/confirm" in approval.body_text

        # a second run, forced, releases nobody twice and mails nobody again
        mails = len(outbox())
        assert steps.run_step(STEPS_BY_NAME[RELEASE], force=True)
        assert step_result() == "released 0"
        assert [e.to_status for e in history(first)].count(S.WITHDRAWN) == 1
        assert len(outbox()) == mails

        # the teacher reads why on the application's page
        sign_in(client, first.teacher)
        shown = page(client.get(f"/applications/{first.id}"))
        assert "The seat was not confirmed by 2027-03-04" in shown
        refused = page(client.get(f"/applications/{first.id}/confirm"))
        assert "由于未在2027-03-04之前确认，该名额已释放。" in refused  # the teacher reads Chinese
        assert "Confirm my seat" not in refused


def test_confirming_after_the_deadline_is_refused_with_a_message(client, db, coordinator):
    intake = make_intake(days=3)
    application = submitted(intake)
    with at(D0, 11):
        services.approve(application, coordinator)
        db.session.commit()

    # after midnight, before the step has run: the seat is not released yet, but it is too late
    with at(D0 + timedelta(days=4), 0, 1):
        sign_in(client, application.teacher)
        late = "The last day to confirm this seat was 2027-03-04."
        form = client.get(f"/applications/{application.id}/confirm")
        assert form.status_code == 200
        assert late in page(form) and "Confirm my seat" not in page(form)
        assert late in page(client.get(f"/applications/{application.id}"))

        response = client.post(f"/applications/{application.id}/confirm", data={})
        assert response.status_code == 302
        assert late in page(client.get(response.headers["Location"]))
        assert fresh(application).confirmed_at is None
        with pytest.raises(EnrollmentError) as refused:
            confirmation.confirm(fresh(application), application.teacher)
        assert "2027-03-04" in text_of(refused.value)


def test_only_the_teacher_who_applied_confirms(client, db, coordinator):
    intake = make_intake(days=3)
    application = submitted(intake)
    other = factories.make_teacher()
    with at(D0, 11):
        services.approve(application, coordinator)
        db.session.commit()
        url = f"/applications/{application.id}/confirm"

        assert client.get(url).headers["Location"].startswith("/login")
        sign_in(client, other)
        assert client.get(url).status_code == 404
        assert client.post(url, data={}).status_code == 404
        sign_in(client, coordinator)
        assert client.post(url, data={}).status_code == 403
        assert fresh(application).confirmed_at is None
        assert audit_rows("application.seat_confirmed", application) == []

        # an application without a seat: a message, not an error
        pending = submitted(intake)
        db.session.commit()
        sign_in(client, pending.teacher)
        answer = client.get(f"/applications/{pending.id}/confirm")
        assert answer.status_code == 200
        assert "There is no seat to confirm: this application is submitted." in page(answer)


# --- a coordinator extends one teacher's deadline -----------------------------------------


def test_a_coordinator_extends_the_deadline_with_a_reason_and_the_release_waits(
        client, db, coordinator):
    intake = make_intake(days=3)
    application = submitted(intake, email="chen@example.edu.cn")
    with at(D0, 11):
        services.approve(application, coordinator)
        db.session.commit()
    url = f"/review/applications/{application.id}/confirmation"

    with at(D0 + timedelta(days=2), 15):
        sign_in(client, coordinator)
        # the reason is required, and the day cannot be in the past
        no_reason = client.post(url, data={"extend-until": "2027-03-09", "extend-reason": " "})
        assert no_reason.status_code == 200
        assert "Give the reason for the new deadline." in page(no_reason)
        past = client.post(url, data={"extend-until": "2027-03-02",
                                      "extend-reason": "Visa appointment"})
        assert "The new last day cannot be before today (2027-03-03)." in page(past)
        assert fresh(application).confirm_by == D0 + timedelta(days=3)

        response = client.post(url, data={
            "extend-until": "2027-03-09", "extend-reason": "Her visa appointment is on the 8th."})
        assert response.status_code == 302
        assert fresh(application).confirm_by == date(2027, 3, 9)
        (row,) = audit_rows("application.confirmation_extended", application)
        assert row.actor_id == coordinator.id
        assert row.details == {"from": "2027-03-04", "to": "2027-03-09",
                               "reason": "Her visa appointment is on the 8th."}
        (mail,) = outbox(to="chen@example.edu.cn", kind="application.confirmation_extended")
        assert "March 9, 2027 23:59 (Moscow Time)" in mail.body_text
        assert f"/applications/{application.id}/confirm" in mail.body_text
        review = page(client.get(response.headers["Location"]))
        assert "now has until 2027-03-09" in review
        assert "Deadline moved from 2027-03-04 to 2027-03-09" in review
        assert "Her visa appointment is on the 8th." in review

    # the old deadline has passed: nothing happens
    with at(D0 + timedelta(days=4), 0, 5):
        steps.run_due()
        assert status_in_db(application) == S.APPROVED
        sign_in(client, application.teacher)
        assert "Confirm your seat by March 9, 2027" in page(
            client.get(f"/applications/{application.id}"))

    # the new one has
    with at(date(2027, 3, 10), 0, 5):
        steps.run_due()
        assert step_result() == "released 1"
        assert status_in_db(application) == S.WITHDRAWN
        assert "2027-03-09" in history(application)[-1].reason

        # and there is nothing left to extend
        sign_in(client, coordinator)
        refused = client.post(url, data={"extend-until": "2027-03-20", "extend-reason": "Late"})
        assert refused.status_code == 200
        assert "Only an approved application that has a seat to confirm" in page(refused)


# --- an intake that asks nothing ----------------------------------------------------------


def test_an_intake_without_confirmation_approves_as_before(client, db, coordinator):
    intake = make_intake(days=None)
    application = submitted(intake, email="sun@example.edu.cn")
    db.session.commit()

    with at(D0, 11):
        sign_in(client, coordinator)
        client.post(f"/review/applications/{application.id}/decide",
                    data={"seen_status": "submitted", "approve": "1"})
        approved = fresh(application)
        assert approved.status == S.APPROVED and approved.confirm_by is None
        (mail,) = outbox(to="sun@example.edu.cn", kind="application.approved")
        assert "/confirm" not in mail.body_text and "confirm" not in mail.body_text.lower()
        assert "Seat confirmation" not in page(
            client.get(f"/review/applications/{application.id}"))

        sign_in(client, application.teacher)
        for path in (f"/applications/{application.id}", "/applications"):
            shown = page(client.get(path))
            assert "Confirm my seat" not in shown and "Confirm your seat" not in shown
        answer = page(client.get(f"/applications/{application.id}/confirm"))
        assert "This intake does not ask teachers to confirm their seat." in answer

    with at(D0 + timedelta(days=10), 0, 5):
        steps.run_due()
        assert status_in_db(application) == S.APPROVED
    with at(intake.starts_on, 0, 5):
        steps.run_due()
        assert status_in_db(application) == S.ENROLLED


# --- a deadline on the day before the start -----------------------------------------------


def test_with_the_deadline_the_day_before_the_start_the_first_day_releases_then_enrols(
        db, coordinator):
    """00:05 on the first day: the release runs before the enrolment, so the unconfirmed
    teacher is never enrolled; the teacher promoted into the seat has until the end of that
    day, and is enrolled once they confirm."""
    intake = make_intake(days=5, capacity=2, starts_in=3)
    sure, unsure, waiting = (submitted(intake) for _ in range(3))
    with at(D0, 11):
        services.approve(sure, coordinator)
        services.approve(unsure, coordinator)
        services.waitlist(waiting, coordinator)
        db.session.commit()
        assert fresh(unsure).confirm_by == intake.starts_on - timedelta(days=1)
    with at(D0 + timedelta(days=1), 9):
        confirmation.confirm(fresh(sure), sure.teacher)
        db.session.commit()

    with at(intake.starts_on, 0, 5):
        ran = steps.run_due()
        assert ran.index(RELEASE) < ran.index("enrollment.enroll_started")
        assert status_in_db(sure) == S.ENROLLED
        assert status_in_db(unsure) == S.WITHDRAWN
        promoted = fresh(waiting)
        assert promoted.status == S.APPROVED and promoted.confirm_by == intake.starts_on

    with at(intake.starts_on, 10):
        confirmation.confirm(fresh(waiting), waiting.teacher)
        db.session.commit()
        assert steps.run_step(STEPS_BY_NAME["enrollment.enroll_started"], force=True)
        assert status_in_db(waiting) == S.ENROLLED
        assert [e.to_status for e in history(unsure)].count(S.ENROLLED) == 0


# --- the setting --------------------------------------------------------------------------


def test_the_intake_form_sets_the_days_to_confirm(client, db, coordinator):
    intake = make_intake(days=None)
    db.session.commit()
    url = f"/manage/programs/{intake.program_id}/intakes/{intake.id}"
    data = {"title": "Spring 2027", "starts_on": intake.starts_on.isoformat(),
            "ends_on": intake.ends_on.isoformat(),
            "applications_open_on": intake.applications_open_on.isoformat(),
            "applications_close_on": intake.applications_close_on.isoformat(),
            "capacity": "5", "is_open": "y", "study_form": "full_time", "delivery": "online"}
    with at(D0, 11):
        sign_in(client, coordinator)
        assert "Days to confirm a seat (empty: no confirmation)" in page(client.get(url))

        too_many = client.post(url, data={**data, "confirm_within_days": "61"})
        assert too_many.status_code == 200
        assert "Enter a number from 1 to 60." in page(too_many)

        assert client.post(url, data={**data, "confirm_within_days": "7"}).status_code == 302
        db.session.expire_all()
        assert db.session.get(type(intake), intake.id).confirm_within_days == 7
        assert client.post(url, data=data).status_code == 302
        db.session.expire_all()
        assert db.session.get(type(intake), intake.id).confirm_within_days is None
