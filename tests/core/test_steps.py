"""Timed steps: an intake walked from approval to closing with the clock moved, never slept.

The portal's clock (core.clock) is moved with time-machine; the steps run as the thread or the
scheduler runs them (core.steps.run_due); the emails leave through a real SMTP server.
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from course_portal.core import clock, scheduler, steps
from course_portal.core.outbox import OutboxMessage
from course_portal.core.steps import STEPS_BY_NAME, TimedStep
from course_portal.enrollment.models import Application, ApplicationEvent, ApplicationStatus
from course_portal.extensions import db
from course_portal.progress.models import FinalAssessment, ModuleResult, Outcome
from tests import factories
from tests.enrollment.helpers import run_at_once, tally

S = ApplicationStatus


def moscow(day, hour=0, minute=5) -> datetime:
    """A moment of a portal day (Europe/Moscow)."""
    return datetime.combine(day, time(hour, minute), tzinfo=clock.portal_zone())


def status_of(application_id: int) -> ApplicationStatus:
    db.session.expire_all()
    return db.session.get(Application, application_id).status


def events(application_id: int, to: ApplicationStatus) -> int:
    return db.session.scalar(select(func.count()).select_from(ApplicationEvent).where(
        ApplicationEvent.application_id == application_id, ApplicationEvent.to_status == to))


def _pilot(start_in_days: int = 1, length_days: int = 1):
    """A short pilot: an intake starting in start_in_days, two approved teachers (zh and ru)."""
    today = clock.portal_today()
    program = factories.make_program(code="PL", hours=(4, 4), title_en="Pilot",
                                     title_zh="试点", title_ru="Пилот")
    starts = today + timedelta(days=start_in_days)
    intake = factories.make_intake(program, capacity=5, starts_on=starts,
                                   ends_on=starts + timedelta(days=length_days),
                                   applications_open_on=today - timedelta(days=10),
                                   applications_close_on=today)
    zh = factories.make_teacher(locale="zh", email="zh@example.edu.cn")
    ru = factories.make_teacher(locale="ru", email="ru@example.edu.cn",
                                family_name_latin="Li", given_name_latin="Wei", name_ru="Ли Вэй")
    applications = [factories.make_application(teacher=t, intake=intake, status="approved")
                    for t in (zh, ru)]
    db.session.commit()
    return intake, applications


def test_an_intake_runs_by_itself_from_approval_to_closing(make_app, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5,
                   OUTBOX_DISPATCH="inline", CLOSE_ENDED_AFTER_DAYS=3)
    with app.app_context():
        intake, (zh, ru) = _pilot(start_in_days=2, length_days=10)

        # the day before: nothing to do yet, and a second look changes nothing
        with time_machine.travel(moscow(intake.starts_on - timedelta(days=1), 12), tick=False):
            steps.run_due()
            assert status_of(zh.id) == S.APPROVED

        # 00:05 Moscow on the first day: both enrolled, each mailed in their language
        with time_machine.travel(moscow(intake.starts_on), tick=False):
            ran = steps.run_due()
            assert "enrollment.enroll_started" in ran
            assert (status_of(zh.id), status_of(ru.id)) == (S.ENROLLED, S.ENROLLED)
            subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
            assert "zh@example.edu.cn" in subjects and "ru@example.edu.cn" in subjects
            assert "试点" in subjects["zh@example.edu.cn"]
            assert "Пилот" in subjects["ru@example.edu.cn"]
            # run again at once: not due, nothing done twice
            assert steps.run_due() == []
            sent = len(smtp_server.messages)

        # later the same day, due again: still one enrolment each, no second email
        with time_machine.travel(moscow(intake.starts_on, 9), tick=False):
            assert "enrollment.enroll_started" in steps.run_due()
            assert events(zh.id, S.ENROLLED) == events(ru.id, S.ENROLLED) == 1
            assert len(smtp_server.messages) == sent

        # the zh teacher passes everything, the ru teacher attends nothing
        for module in intake.program.modules:
            db.session.add(ModuleResult(application_id=zh.id, module_id=module.id,
                                        attended_hours=module.hours, outcome=Outcome.PASSED))
        db.session.add(FinalAssessment(application_id=zh.id, outcome=Outcome.PASSED))
        db.session.commit()

        # the last day and the grace days after it: the intake stays open for results
        with time_machine.travel(moscow(intake.ends_on + timedelta(days=2), 12), tick=False):
            steps.run_due()
            assert status_of(zh.id) == S.ENROLLED

        # CLOSE_ENDED_AFTER_DAYS after the last day: closed by the rules, with emails
        with time_machine.travel(moscow(intake.ends_on + timedelta(days=3), 1), tick=False):
            assert "progress.close_ended" in steps.run_due()
            assert (status_of(zh.id), status_of(ru.id)) == (S.COMPLETED, S.NOT_COMPLETED)
            kinds = set(db.session.scalars(select(OutboxMessage.kind).where(
                OutboxMessage.sent_at.is_not(None))))
            assert {"application.enrolled", "application.completed",
                    "application.not_completed"} <= kinds
            row = db.session.get(TimedStep, "progress.close_ended")
            assert row.last_result == "closed 1" and row.last_error == ""


def test_the_roster_lists_the_approved_teachers_on_the_first_day_before_the_step(
        client, login_as, db):
    intake, (zh, ru) = _pilot(start_in_days=0)
    login_as("coordinator")

    page = client.get(f"/progress/manage/intakes/{intake.id}/roster").get_data(as_text=True)

    assert (status_of(zh.id), status_of(ru.id)) == (S.ENROLLED, S.ENROLLED)
    assert "Ли Вэй" in page or "LI Wei" in page
    assert events(zh.id, S.ENROLLED) == 1
    # the step, running late, finds nothing left to do
    steps.run_step(STEPS_BY_NAME["enrollment.enroll_started"], force=True)
    assert events(zh.id, S.ENROLLED) == 1


def test_two_runners_at_once_run_each_step_once(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 2})
    with app.app_context():
        intake, (zh, ru) = _pilot(start_in_days=0)
        ran: list[list[str]] = []

        def runner(start):
            start()
            ran.append(steps.run_due())

        outcomes = run_at_once(app, [runner, runner, runner])

        assert tally(outcomes) == {"ok": 3}, outcomes
        names = [name for run in ran for name in run]
        assert sorted(names) == sorted(step.name for step in steps.STEPS)
        assert events(zh.id, S.ENROLLED) == events(ru.id, S.ENROLLED) == 1


def test_two_runners_of_the_enrolment_itself_enrol_each_teacher_once(make_app):
    """The lease aside, the step's own moves are compare-and-set: a restart mid-step is safe."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 2})
    with app.app_context():
        from course_portal.enrollment.services import enroll_all_started

        intake, (zh, ru) = _pilot(start_in_days=0)

        def runner(start):
            start()
            enroll_all_started()

        outcomes = run_at_once(app, [runner, runner])

        assert set(tally(outcomes)) <= {"ok", "StaleApplication", "OperationalError"}, outcomes
        assert (status_of(zh.id), status_of(ru.id)) == (S.ENROLLED, S.ENROLLED)
        assert events(zh.id, S.ENROLLED) == events(ru.id, S.ENROLLED) == 1


def test_a_runner_that_died_holding_a_step_is_taken_over_after_its_lease(db):
    step = STEPS_BY_NAME["enrollment.enroll_started"]
    now = clock.now()
    assert steps.claim(step, now)  # and then the process died: the lease stays
    assert not steps.run_step(step, force=True)
    with time_machine.travel(now + steps.LEASE + timedelta(seconds=1), tick=False):
        assert steps.run_step(step)
        row = db.session.get(TimedStep, step.name)
        assert row.lease_until is None and row.last_ok_at is not None


def test_a_failing_step_is_recorded_and_the_others_still_run(db, monkeypatch):
    def broken():
        raise RuntimeError("the database said no")

    monkeypatch.setattr("course_portal.core.outbox.send_due_step", broken)
    ran = steps.run_due()

    assert "outbox.send_due" in ran and "enrollment.enroll_started" in ran
    row = db.session.get(TimedStep, "outbox.send_due")
    assert row.last_error == "RuntimeError: the database said no" and row.last_ok_at is None
    assert [s.step.name for s in steps.overdue()] == ["outbox.send_due"]


def test_doctor_status_and_dashboard_say_when_a_step_is_overdue(app, client, login_as):
    from course_portal.ops.doctor import check_steps

    check = check_steps()
    assert check.status == "WARN" and "enrollment.enroll_started" in check.detail
    assert "flask steps scheduler" in check.hint
    result = app.test_cli_runner().invoke(args=["steps", "status"])
    assert result.exit_code == 1 and "OVERDUE" in result.output

    login_as("coordinator")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "What the portal does by itself is late" in page

    steps.run_due()
    assert check_steps().status == "OK"
    assert app.test_cli_runner().invoke(args=["steps", "status"]).exit_code == 0
    assert "What the portal does by itself is late" not in client.get(
        "/dashboard").get_data(as_text=True)
    # a day later with nothing run since: overdue again
    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        assert check_steps().status == "WARN"


def test_flask_steps_run_names_what_it_did(app, db):
    intake, (zh, _) = _pilot(start_in_days=0)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["steps", "run", "enrollment.enroll_started"])
    assert result.exit_code == 0 and "enrolled 2" in result.output
    again = runner.invoke(args=["steps", "run", "enrollment.enroll_started"])
    assert "not due" in again.output
    assert runner.invoke(args=["steps", "run", "no.such.step"]).exit_code != 0


def test_the_thread_of_make_run_ticks_by_itself_and_starts_once(make_app, monkeypatch):
    ticked = threading.Event()
    monkeypatch.setattr(steps, "run_due", lambda names=None: ticked.set() or [])

    off = make_app(STEPS="off")
    assert scheduler.start_thread(off) is None
    app = make_app(STEPS="thread", STEPS_TICK_SECONDS=3600)
    # create_app started it already; a second start is refused
    assert scheduler.start_thread(app) is None
    assert ticked.wait(timeout=20), "the thread did not run the steps"


@pytest.mark.parametrize("hour", [0, 23])
def test_the_portal_day_is_moscows_whatever_the_utc_date(db, hour):
    with time_machine.travel(moscow(clock.portal_today(), hour, 30), tick=False):
        local = clock.now().astimezone(clock.portal_zone())
        assert clock.portal_today() == local.date()
        assert clock.day_starts_at(local.date()) <= clock.now() <= clock.day_ends_at(local.date())
