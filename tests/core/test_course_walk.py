"""One intake walked from its open window to closing, with the clock moved and nothing slept.

At each step the timed steps run as the scheduler runs them; the emails leave through a real
SMTP server, and the roster, the history and the mail received are checked as a coordinator and
the teachers would see them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from course_portal.core import clock, steps
from course_portal.enrollment.models import Application, ApplicationEvent, ApplicationStatus
from course_portal.extensions import db
from course_portal.progress.models import FinalAssessment, ModuleResult, ModuleSchedule, Outcome
from tests import factories

S = ApplicationStatus
BEIJING = ZoneInfo("Asia/Shanghai")


def _at(day, hour):
    """10:00 or so in Beijing: a waking hour for the teachers, early morning in Moscow."""
    return datetime.combine(day, time(hour), tzinfo=BEIJING)


def _subjects(smtp_server, address: str) -> list[str]:
    return [m["Subject"] for m in smtp_server.messages if m["To"] == address]


def _history(application_id: int) -> list[str]:
    db.session.expire_all()
    return [e.to_status.value for e in db.session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
        .order_by(ApplicationEvent.id))]


def test_an_intake_from_its_open_window_to_closing(make_app, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5,
                   OUTBOX_DISPATCH="inline", CLOSE_ENDED_AFTER_DAYS=2)
    with app.app_context():
        today = clock.portal_today()
        program = factories.make_program(code="WK", hours=(6, 6), title_en="Walk",
                                         title_zh="全程", title_ru="Путь")
        intake = factories.make_intake(
            program, capacity=5, applications_open_on=today, applications_close_on=today + timedelta(days=5),
            starts_on=today + timedelta(days=12), ends_on=today + timedelta(days=30))
        first, second = program.modules
        db.session.add_all([
            ModuleSchedule(intake_id=intake.id, module_id=first.id,
                           starts_on=intake.starts_on + timedelta(days=2),
                           ends_on=intake.starts_on + timedelta(days=8)),
            ModuleSchedule(intake_id=intake.id, module_id=second.id,
                           starts_on=intake.starts_on + timedelta(days=10),
                           ends_on=intake.starts_on + timedelta(days=16)),
        ])
        drafter = factories.make_teacher(locale="zh", email="draft@example.edu.cn")
        draft = factories.make_application(teacher=drafter, intake=intake, status="draft")
        learner = factories.make_teacher(locale="en", email="learner@example.edu.cn")
        enrolled = factories.make_application(teacher=learner, intake=intake, status="approved")
        db.session.commit()

        # 3 days before the window closes: the draft's reminder, in Chinese, once
        with time_machine.travel(_at(intake.applications_close_on - timedelta(days=3), 10),
                                 tick=False):
            steps.run_due()
            steps.run_due()
        [reminder] = _subjects(smtp_server, "draft@example.edu.cn")
        assert "全程" in reminder

        # a week before the start: the approved teacher hears what to prepare
        with time_machine.travel(_at(intake.starts_on - timedelta(days=7), 10), tick=False):
            steps.run_due()
        assert any("starts in a week" in s for s in _subjects(smtp_server,
                                                            "learner@example.edu.cn"))

        # the first day (a morning in Beijing is already that day in Moscow): enrolled, mailed
        with time_machine.travel(_at(intake.starts_on, 10), tick=False):
            steps.run_due()
            assert _history(enrolled.id)[-1] == "enrolled"
            client = app.test_client()
            coordinator = factories.make_user(role="coordinator")
            db.session.commit()
            from course_portal.accounts.session import start_clock

            with client.session_transaction() as session:
                session["_user_id"] = coordinator.get_id()
                session["_fresh"] = True
                start_clock(session)
            roster = client.get(f"/progress/manage/intakes/{intake.id}/roster")
            assert roster.status_code == 200 and "Xiaoming" in roster.get_data(as_text=True)
        assert db.session.get(Application, draft.id).status == S.DRAFT

        # the day before each module: a reminder naming it
        with time_machine.travel(_at(intake.starts_on + timedelta(days=1), 10), tick=False):
            steps.run_due()
        with time_machine.travel(_at(intake.starts_on + timedelta(days=9), 10), tick=False):
            steps.run_due()
        module_mails = [s for s in _subjects(smtp_server, "learner@example.edu.cn")
                        if "Tomorrow" in s]
        assert len(module_mails) == 2
        assert "Module 1" in module_mails[0] and "Module 2" in module_mails[1]

        # results recorded; after the last day and the grace days the intake closes itself
        for module in program.modules:
            db.session.add(ModuleResult(application_id=enrolled.id, module_id=module.id,
                                        attended_hours=module.hours, outcome=Outcome.PASSED))
        db.session.add(FinalAssessment(application_id=enrolled.id, outcome=Outcome.PASSED))
        db.session.commit()
        with time_machine.travel(_at(intake.ends_on + timedelta(days=1), 10), tick=False):
            steps.run_due()
            assert _history(enrolled.id)[-1] == "enrolled"
        with time_machine.travel(_at(intake.ends_on + timedelta(days=2), 10), tick=False):
            steps.run_due()
        assert _history(enrolled.id)[-2:] == ["enrolled", "completed"]
        assert any("completed" in s.lower() for s in _subjects(smtp_server,
                                                             "learner@example.edu.cn"))
        # nothing was sent twice
        subjects = [(m["To"], m["Subject"]) for m in smtp_server.messages]
        assert len(subjects) == len(set(subjects))
