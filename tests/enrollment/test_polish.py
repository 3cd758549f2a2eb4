"""Finishing touches: a closed intake says who closed it, a submitted draft is never overwritten,
and seats added to an intake go to its waiting list at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from course_portal.catalog import intakes as catalog_intakes
from course_portal.catalog import services as catalog
from course_portal.core.clock import portal_today
from course_portal.enrollment import services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.models import Application, ApplicationStatus, IntakeQuota
from tests import factories
from tests.enrollment.helpers import history, outbox, seats_taken, status_in_db, text_of
from tests.enrollment.test_pages_teacher import all_files, application_form, sign_in, text

S = ApplicationStatus
CLOSED_BY_COORDINATOR = "A course coordinator has closed applications to this intake."


# --- the refusal message of a closed intake -------------------------------------------------


def test_a_new_draft_in_a_closed_intake_says_a_coordinator_closed_it(db, intake):
    """Inside its dates but switched off: the dates are not the reason, so they are not given."""
    intake.is_open = False
    teacher = factories.make_teacher()

    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(teacher, intake, motivation="I teach finance.")

    message = text_of(caught.value)
    assert message == CLOSED_BY_COORDINATOR
    assert "accepted from" not in message
    assert db.session.scalar(select(Application.id)) is None


def test_submitting_a_draft_after_the_intake_was_closed_says_so(db, intake):
    application = factories.make_application(intake=intake, status="draft")
    intake.is_open = False

    with pytest.raises(EnrollmentError) as caught:
        services.submit(application, application.teacher)

    assert caught.value.errors[None] == [caught.value.message]
    assert text_of(caught.value) == CLOSED_BY_COORDINATOR
    assert status_in_db(application) == S.DRAFT


def test_outside_its_dates_an_open_intake_still_gives_them(db, program):
    today = portal_today()
    intake = factories.make_intake(program, applications_open_on=today - timedelta(days=30),
                                   applications_close_on=today - timedelta(days=1))
    application = factories.make_application(intake=intake, status="draft")

    with pytest.raises(EnrollmentError) as caught:
        services.submit(application, application.teacher)

    assert text_of(caught.value) == (
        f"Applications to this intake are accepted from {intake.applications_open_on} "
        f"to {intake.applications_close_on}.")


def test_the_apply_page_shows_the_closed_message_above_the_form(client, db, intake):
    teacher = factories.make_teacher()
    draft = factories.make_application(teacher=teacher, intake=intake, status="draft",
                                       complete=False)
    intake.is_open = False
    db.session.commit()
    sign_in(client, teacher)

    page = text(client.post(f"/intakes/{intake.id}/apply",
                            data=application_form("send", files=all_files())))

    assert CLOSED_BY_COORDINATOR in page
    assert "are accepted from" not in page
    assert status_in_db(draft) == S.DRAFT


# --- a draft submitted from another tab ---------------------------------------------------


def _submitted_elsewhere(db, application, motivation: str) -> None:
    """What another tab's request did and committed while this one held the old copy."""
    with db.engine.begin() as other:
        other.execute(update(Application).where(Application.id == application.id)
                      .values(status=S.SUBMITTED, motivation=motivation))


def test_saving_a_draft_that_another_tab_submitted_changes_nothing(db, intake):
    """The session still holds the draft; the compare-and-set on the status refuses."""
    application = factories.make_application(intake=intake, status="draft",
                                             motivation="My first words.")
    teacher = application.teacher
    db.session.commit()
    assert application.status == S.DRAFT  # this request has read it
    _submitted_elsewhere(db, application, "What I submitted.")

    with pytest.raises(StaleApplication) as caught:
        services.save_draft(teacher, intake, motivation="Typed in the old tab.", consent=False)

    assert "already been submitted" in text_of(caught.value)
    db.session.rollback()
    db.session.refresh(application)
    assert application.status == S.SUBMITTED
    assert application.motivation == "What I submitted."
    assert application.consent_at is not None


def test_a_draft_known_to_be_submitted_is_refused_before_any_write(db, intake):
    application = factories.make_application(intake=intake, status="submitted")

    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(application.teacher, intake, motivation="Changed.")

    assert "already applied to this intake" in text_of(caught.value)
    assert application.motivation != "Changed."


def test_a_draft_still_saves_and_a_bad_value_leaves_no_new_draft(db, intake):
    teacher = factories.make_teacher()
    with pytest.raises(EnrollmentError):
        services.save_draft(teacher, intake, funding_source="lottery")
    assert db.session.scalar(select(Application.id)) is None

    application = services.save_draft(teacher, intake, motivation="  Finance.  ",
                                      funding_source="other", funding_other="A foundation",
                                      consent=True)
    consented = application.consent_at
    services.save_draft(teacher, intake, funding_source="moe_china", consent=True)

    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.motivation == "Finance."
    assert stored.funding_source == "moe_china"
    assert stored.funding_other == ""  # only kept for "other"
    assert stored.consent_at == consented  # the first consent's time is kept
    assert [e.to_status for e in history(stored)] == [S.DRAFT]


# --- seats added by a coordinator go to the waiting list ----------------------------------


def _intake_values(intake, **changes) -> dict:
    values = {name: getattr(intake, name) for name in catalog.INTAKE_FIELDS}
    values.update(changes)
    return values


def _waitlisted(intake, n: int, partner=None) -> list[Application]:
    coordinator = factories.make_user(role="coordinator")
    apps = []
    for _ in range(n):
        teacher = factories.make_teacher(partner)
        application = factories.make_application(teacher=teacher, intake=intake,
                                                 status="submitted")
        services.waitlist(application, coordinator)
        apps.append(application)
    return apps


def test_raising_the_capacity_promotes_from_the_waiting_list(db, program, coordinator):
    intake = factories.make_intake(program, capacity=1)
    factories.make_application(intake=intake, status="approved")
    first, second, third = _waitlisted(intake, 3)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={},
                        **_intake_values(intake, capacity=3))

    assert [status_in_db(a) for a in (first, second, third)] == [S.APPROVED, S.APPROVED,
                                                                 S.WAITLISTED]
    assert seats_taken(intake) == 3
    assert history(first)[-1].actor_id is None  # the portal promoted it
    mails = outbox(kind="application.approved")
    assert [m.to_address for m in mails] == [first.teacher.email, second.teacher.email]


def test_saving_without_new_seats_leaves_the_waiting_list_alone(db, program, coordinator):
    """Free seats a coordinator chose to keep are not given away by editing the title."""
    intake = factories.make_intake(program, capacity=5)
    (waiting,) = _waitlisted(intake, 1)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={},
                        **_intake_values(intake, title="Spring 2027, renamed"))

    assert status_in_db(waiting) == S.WAITLISTED
    assert outbox(kind="application.approved") == []


def test_raising_or_removing_a_quota_promotes_that_partners_teachers(db, program, coordinator):
    intake = factories.make_intake(program, capacity=10)
    datong = factories.make_partner("Datong University")
    factories.make_quota(intake, datong, seats=1)
    factories.make_application(teacher=factories.make_teacher(datong), intake=intake,
                               status="approved")
    first, second = _waitlisted(intake, 2, partner=datong)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={datong.id: 2},
                        **_intake_values(intake))

    assert [status_in_db(a) for a in (first, second)] == [S.APPROVED, S.WAITLISTED]
    quota = db.session.scalar(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    assert (quota.seats, quota.seats_taken) == (2, 2)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={datong.id: None},
                        **_intake_values(intake))

    assert status_in_db(second) == S.APPROVED
    assert seats_taken(intake) == 3


def test_the_intake_page_promotes_when_the_capacity_is_raised(client, db, login_as, program):
    intake = factories.make_intake(program, capacity=1, title="Spring 2027")
    factories.make_application(intake=intake, status="approved")
    (waiting,) = _waitlisted(intake, 1)
    db.session.commit()
    login_as("coordinator")
    form = {name: (value.isoformat() if isinstance(value, date) else value)
            for name, value in _intake_values(intake, capacity="2").items()}
    form["is_open"] = "y"

    response = client.post(f"/manage/programs/{program.id}/intakes/{intake.id}", data=form)

    assert response.status_code == 302
    db.session.expire_all()
    assert status_in_db(waiting) == S.APPROVED
    assert seats_taken(intake) == 2


def test_a_teacher_without_a_draft_reads_that_the_coordinator_closed_the_intake(client, db, intake):
    teacher = factories.make_teacher()
    intake.is_open = False
    db.session.commit()
    sign_in(client, teacher)

    page = text(client.get(f"/intakes/{intake.id}/apply"))

    assert CLOSED_BY_COORDINATOR in page
    assert "are accepted from" not in page
