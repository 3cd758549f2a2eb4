"""flask enrollment enroll-started and flask enrollment promote, run as an operator or cron would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from course_portal.core.clock import portal_today
from course_portal.enrollment import services
from course_portal.enrollment.models import Application, ApplicationEvent, ApplicationStatus
from tests import factories
from tests.enrollment.helpers import history, outbox, seats_taken

S = ApplicationStatus


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["enrollment", *args])


def _committed_statuses(db, applications) -> list[str]:
    """The statuses as another connection sees them: only what the command committed."""
    with db.engine.connect() as other:
        rows = dict(other.execute(select(Application.id, Application.status)
                                  .where(Application.id.in_([a.id for a in applications]))).all())
    return [str(rows[a.id]) for a in applications]


def _counts(db) -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(ApplicationEvent)),
            len(outbox()))


def test_enroll_started_enrolls_the_approved_of_started_intakes_once(app, db, program):
    today = portal_today()
    started = factories.make_intake(program, title="Started", starts_on=today,
                                    applications_close_on=today - timedelta(days=1))
    upcoming = factories.make_intake(program, title="Upcoming",
                                     starts_on=today + timedelta(days=3))
    approved = [factories.make_application(intake=started, status="approved") for _ in range(2)]
    waiting = factories.make_application(intake=started, status="waitlisted")
    not_yet = factories.make_application(intake=upcoming, status="approved")
    db.session.commit()

    result = _run(app, "enroll-started")

    assert result.exit_code == 0, result.output
    assert f"{program.code} Started (intake {started.id})" in result.output
    assert "enrolled 2" in result.output
    for application in approved:
        assert application.teacher.email in result.output
    assert "Upcoming" not in result.output
    assert _committed_statuses(db, [*approved, waiting, not_yet]) == [
        "enrolled", "enrolled", "waitlisted", "approved"]
    db.session.expire_all()
    assert history(approved[0])[-1].actor_id is None  # the portal did it
    assert len(outbox(kind="application.enrolled")) == 2
    assert seats_taken(started) == 2

    counts = _counts(db)
    again = _run(app, "enroll-started")

    assert again.exit_code == 0, again.output
    assert "nothing to enroll" in again.output
    assert _counts(db) == counts


def test_enroll_started_with_nothing_to_do_says_so(app, db):
    result = _run(app, "enroll-started")

    assert result.exit_code == 0
    assert "nothing to enroll" in result.output


def test_promote_fills_the_free_seats_in_waiting_list_order(app, db, program, coordinator):
    intake = factories.make_intake(program, capacity=2)
    factories.make_application(intake=intake, status="approved")
    waiting = []
    for _ in range(3):
        application = factories.make_application(intake=intake, status="submitted")
        services.waitlist(application, coordinator)
        waiting.append(application)
    db.session.commit()

    result = _run(app, "promote", "--intake", str(intake.id))

    assert result.exit_code == 0, result.output
    assert f"promoted application {waiting[0].id} of {waiting[0].teacher.email}" in result.output
    assert "promoted 1, 0 seats left, 2 still on the waiting list" in result.output
    assert _committed_statuses(db, waiting) == ["approved", "waitlisted", "waitlisted"]
    db.session.expire_all()
    assert [m.to_address for m in outbox(kind="application.approved")] == [
        waiting[0].teacher.email]

    counts = _counts(db)
    again = _run(app, "promote", "--intake", str(intake.id))

    assert "promoted 0, 0 seats left, 2 still on the waiting list" in again.output
    assert _counts(db) == counts


def test_promote_skips_a_teacher_whose_university_quota_is_full(app, db, program, coordinator):
    intake = factories.make_intake(program, capacity=5)
    datong = factories.make_partner("Datong University")
    factories.make_quota(intake, datong, seats=1)
    factories.make_application(teacher=factories.make_teacher(datong), intake=intake,
                               status="approved")
    first = factories.make_application(teacher=factories.make_teacher(datong), intake=intake,
                                       status="submitted")
    second = factories.make_application(intake=intake, status="submitted")
    services.waitlist(first, coordinator)
    services.waitlist(second, coordinator)
    db.session.commit()

    result = _run(app, "promote", "--intake", str(intake.id))

    assert result.exit_code == 0, result.output
    assert "promoted 1, 3 seats left, 1 still on the waiting list" in result.output
    assert _committed_statuses(db, [first, second]) == ["waitlisted", "approved"]


def test_promote_an_unknown_intake_fails(app, db):
    result = _run(app, "promote", "--intake", "999999")

    assert result.exit_code == 1
    assert "there is no intake with id 999999" in result.output


def test_promote_needs_the_intake(app, db):
    result = _run(app, "promote")

    assert result.exit_code == 2
    assert "--intake" in result.output
