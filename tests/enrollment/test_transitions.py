"""Status moves: every allowed and forbidden move, who may make them, history and emails."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from babel.dates import format_date
from sqlalchemy import update

from course_portal.core.clock import portal_today
from course_portal.enrollment import services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication, TransitionRefused
from course_portal.enrollment.models import SEAT_HOLDING, Application, ApplicationStatus
from tests import factories
from tests.enrollment.helpers import history, outbox, seats_taken, status_in_db, text_of

S = ApplicationStatus
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED, S.WAITLISTED),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.WAITLISTED, S.APPROVED),
    (S.WAITLISTED, S.REJECTED),
    (S.WAITLISTED, S.WITHDRAWN),
    (S.APPROVED, S.ENROLLED),
    (S.APPROVED, S.REJECTED),
    (S.APPROVED, S.WITHDRAWN),
    (S.ENROLLED, S.COMPLETED),
    (S.ENROLLED, S.NOT_COMPLETED),
}


def _actor_for(application, to, coordinator):
    return application.teacher if to in (S.SUBMITTED, S.WITHDRAWN) else coordinator


@pytest.mark.parametrize(("start", "target"), list(product(S, S)), ids=lambda s: s.value)
def test_every_move_is_allowed_or_refused(db, program, coordinator, start, target):
    """The 81 moves: the 13 allowed ones succeed with history and email, the rest change nothing."""
    # started yesterday, still accepting: every guard (window, start date) passes
    intake = factories.make_intake(program, capacity=5, starts_on=portal_today() - timedelta(days=1))
    application = factories.make_application(intake=intake, status=start)
    seats_before = seats_taken(intake)
    events_before = len(history(application))

    if (start, target) in ALLOWED:
        services.transition(application, target, _actor_for(application, target, coordinator),
                            reason="Decided at the review meeting")
        assert status_in_db(application) == target
        event = history(application)[-1]
        assert (event.from_status, event.to_status) == (start, target)
        mails = outbox(to=application.teacher.email)
        assert [m.kind for m in mails] == [f"application.{target.value}"]
        holds = int(target in SEAT_HOLDING) - int(start in SEAT_HOLDING)
        assert seats_taken(intake) == seats_before + holds
    else:
        with pytest.raises(TransitionRefused) as caught:
            services.transition(application, target,
                                _actor_for(application, target, coordinator), reason="No")
        assert "cannot become" in text_of(caught.value)
        assert status_in_db(application) == start
        assert len(history(application)) == events_before
        assert outbox() == []
        assert seats_taken(intake) == seats_before


def test_rejecting_needs_a_reason(db, intake, coordinator):
    """A teacher is never rejected without being told why."""
    application = factories.make_application(intake=intake, status="submitted")
    for reason in ("", "   \n "):
        with pytest.raises(EnrollmentError) as caught:
            services.reject(application, coordinator, reason)
        assert caught.value.fields == ["reason"]
    assert status_in_db(application) == S.SUBMITTED
    assert history(application) == []
    assert outbox() == []


def test_only_the_teacher_who_applied_can_withdraw(db, intake, coordinator):
    """Neither a coordinator nor another teacher withdraws someone's application."""
    application = factories.make_application(intake=intake, status="submitted")
    for someone_else in (coordinator, factories.make_teacher()):
        with pytest.raises(TransitionRefused):
            services.withdraw(application, someone_else)
    assert status_in_db(application) == S.SUBMITTED
    services.withdraw(application, application.teacher)
    assert status_in_db(application) == S.WITHDRAWN


def test_only_the_teacher_who_applied_can_submit(db, intake, coordinator):
    """A coordinator cannot submit a teacher's draft for them."""
    application = factories.make_application(intake=intake, status="draft")
    with pytest.raises(TransitionRefused):
        services.submit(application, coordinator)
    assert status_in_db(application) == S.DRAFT


@pytest.mark.parametrize("decide", [services.approve, services.waitlist])
def test_teachers_cannot_decide(db, intake, decide):
    """Not even on their own application."""
    application = factories.make_application(intake=intake, status="submitted")
    with pytest.raises(TransitionRefused):
        decide(application, application.teacher)
    assert status_in_db(application) == S.SUBMITTED
    assert seats_taken(intake) == 0


def test_an_admin_can_decide(db, intake):
    """Admins hold every coordinator right."""
    application = factories.make_application(intake=intake, status="submitted")
    services.approve(application, factories.make_user(role="admin"))
    assert status_in_db(application) == S.APPROVED


def test_history_records_who_when_from_to_and_why(db, intake, coordinator):
    """The application page's timeline: every move with its actor and reason, in order."""
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake, status="draft")
    services.submit(application, teacher)
    services.waitlist(application, coordinator, "Seats are being confirmed")
    services.approve(application, coordinator)
    services.withdraw(application, teacher)

    rows = history(application)
    assert [(r.actor_id, r.from_status, r.to_status, r.reason) for r in rows] == [
        (teacher.id, S.DRAFT, S.SUBMITTED, ""),
        (coordinator.id, S.SUBMITTED, S.WAITLISTED, "Seats are being confirmed"),
        (coordinator.id, S.WAITLISTED, S.APPROVED, ""),
        (teacher.id, S.APPROVED, S.WITHDRAWN, ""),
    ]
    assert all(r.created_at is not None for r in rows)
    assert application.submitted_at and application.waitlisted_at and application.decided_at


@pytest.mark.parametrize(("locale", "title"), [
    ("zh", "投资生态系统"), ("ru", "Инвестиционная экосистема"), ("en", "Investment Ecosystem"),
])
def test_emails_are_in_the_teachers_language(db, intake, coordinator, locale, title):
    """Program title and dates in the teacher's language; a link that opens from a phone."""
    teacher = factories.make_teacher(locale=locale, email=f"teacher-{locale}@example.edu.cn")
    application = factories.make_application(teacher=teacher, intake=intake, status="submitted")
    services.approve(application, coordinator, "Welcome aboard")

    [mail] = outbox(to=teacher.email)
    assert mail.kind == "application.approved"
    assert title in mail.subject
    assert format_date(intake.starts_on, "long", locale=locale) in mail.body_text
    assert f"http://portal.test/applications/{application.id}" in mail.body_text
    assert "Welcome aboard" in mail.body_text
    # each reader's own spelling of the name: 汉字, the Cyrillic, the passport's Latin
    assert {"zh": "王小明", "ru": "Ван Сяомин", "en": "WANG Xiaoming"}[locale] in mail.body_text


def test_rejection_email_carries_the_reason(db, intake, coordinator):
    """The teacher reads why."""
    application = factories.make_application(intake=intake, status="submitted")
    services.reject(application, coordinator, "The diploma scan is unreadable.")
    [mail] = outbox(to=application.teacher.email)
    assert mail.kind == "application.rejected"
    assert "Investment Ecosystem" in mail.subject
    assert "The diploma scan is unreadable." in mail.body_text
    assert application.reason == "The diploma scan is unreadable."


def test_enrollment_waits_for_the_start(db, program, coordinator):
    """Approved teachers become enrolled on the first day, not before."""
    intake = factories.make_intake(program, starts_on=portal_today() + timedelta(days=3))
    application = factories.make_application(intake=intake, status="approved")
    with pytest.raises(TransitionRefused):
        services.transition(application, S.ENROLLED, coordinator)
    assert services.enroll_started(intake) == []
    assert status_in_db(application) == S.APPROVED


def test_enroll_started_enrolls_only_the_approved(db, program):
    """Approved ones become enrolled (and mailed); the waiting list stays as it is."""
    intake = factories.make_intake(program, starts_on=portal_today() - timedelta(days=1))
    approved = [factories.make_application(intake=intake, status="approved") for _ in range(2)]
    waiting = factories.make_application(intake=intake, status="waitlisted")
    enrolled = services.enroll_started(intake)
    assert sorted(a.id for a in enrolled) == sorted(a.id for a in approved)
    assert all(status_in_db(a) == S.ENROLLED for a in approved)
    assert status_in_db(waiting) == S.WAITLISTED
    assert history(approved[0])[-1].actor_id is None  # the portal did it
    assert len(outbox(kind="application.enrolled")) == 2
    assert seats_taken(intake) == 2


def test_a_decision_on_a_stale_page_changes_nothing(db, intake, coordinator):
    """Withdrawn meanwhile by the teacher: the coordinator's approval is refused, no seat taken."""
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    assert application.status == S.SUBMITTED  # the coordinator's page is loaded
    with db.engine.begin() as other:  # the teacher withdraws in another transaction
        other.execute(update(Application).where(Application.id == application.id)
                      .values(status=S.WITHDRAWN))
    with pytest.raises(StaleApplication) as caught:
        services.approve(application, coordinator)
    assert "withdrawn" in text_of(caught.value)
    assert seats_taken(intake) == 0
    assert history(application) == []


def test_bulk_decide_reports_each_result(db, intake, coordinator):
    """One reason for many: those that can move do, the others say why."""
    submitted = [factories.make_application(intake=intake, status="submitted") for _ in range(3)]
    draft = factories.make_application(intake=intake, status="draft")
    outcome = services.bulk_decide([a.id for a in submitted] + [draft.id, 999_999], "rejected",
                                   coordinator, "The program is for teachers of economics.")
    assert outcome.succeeded == sorted(a.id for a in submitted)
    assert set(outcome.failed) == {draft.id, 999_999}
    assert "cannot become" in text_of(outcome.failed[draft.id])
    assert status_in_db(draft) == S.DRAFT
    assert len(outbox(kind="application.rejected")) == 3
    assert all(history(a)[-1].reason == "The program is for teachers of economics."
               for a in submitted)


def test_bulk_approve_stops_at_capacity(db, program, coordinator):
    """Approving more than the seats: the first ones get seats, the rest are told there is none."""
    intake = factories.make_intake(program, capacity=2)
    apps = [factories.make_application(intake=intake, status="submitted") for _ in range(4)]
    outcome = services.bulk_decide([a.id for a in apps], "approved", coordinator)
    assert outcome.succeeded == [apps[0].id, apps[1].id]
    assert "seat" in text_of(outcome.failed[apps[2].id])
    assert seats_taken(intake) == 2


def test_bulk_reject_needs_a_reason(db, intake, coordinator):
    """Refused before anything moves."""
    application = factories.make_application(intake=intake, status="submitted")
    with pytest.raises(EnrollmentError) as caught:
        services.bulk_decide([application.id], "rejected", coordinator, "")
    assert caught.value.fields == ["reason"]
    assert status_in_db(application) == S.SUBMITTED

