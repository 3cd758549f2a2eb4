"""One intake walked from its open window to closing, with the clock moved and nothing slept.

At each step the timed steps run as the scheduler runs them; the emails leave through a real
SMTP server, and the roster, the history, the teachers' calendar feeds and the mail received
are checked as a coordinator and the teachers would see them. The intake asks approved
teachers to confirm their seat: one confirms, one does not and is released, and the teacher
waiting is moved up with a deadline of their own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import time_machine
from sqlalchemy import select

from course_portal.calendar import services as calendar
from course_portal.core import clock, outbox, steps
from course_portal.enrollment import confirmation, services
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


def _feed(client, user) -> dict[str, date]:
    """The teacher's private feed as a phone's calendar reads it: each event's UID and day."""
    token = calendar.token_for(user)
    db.session.commit()
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(response.data)
    days = {}
    for event in feed.walk("VEVENT"):
        start = event.decoded("DTSTART")
        days[str(event["UID"])] = start.date() if isinstance(start, datetime) else start
    return days


def test_an_intake_from_its_open_window_to_closing(make_app, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5,
                   OUTBOX_DISPATCH="inline", CLOSE_ENDED_AFTER_DAYS=2)
    with app.app_context():
        today = clock.portal_today()
        program = factories.make_program(code="WK", hours=(6, 6), title_en="Walk",
                                         title_zh="全程", title_ru="Путь")
        intake = factories.make_intake(
            program, capacity=2, applications_open_on=today, applications_close_on=today + timedelta(days=5),
            starts_on=today + timedelta(days=12), ends_on=today + timedelta(days=30),
            confirm_within_days=3)
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
        enrolled = factories.make_application(teacher=learner, intake=intake, status="submitted")
        absent = factories.make_application(
            teacher=factories.make_teacher(locale="ru", email="absent@example.edu.cn"),
            intake=intake, status="submitted")
        waiting = factories.make_application(
            teacher=factories.make_teacher(locale="zh", email="waiting@example.edu.cn"),
            intake=intake, status="submitted")
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        client = app.test_client()

        # the first day: two approved with three days to confirm, the third waits for a seat
        for application, to in ((enrolled, S.APPROVED), (absent, S.APPROVED),
                                (waiting, S.WAITLISTED)):
            services.transition(application, to, actor=coordinator,
                                reason="No seat yet" if to == S.WAITLISTED else "")
        db.session.commit()
        outbox.send_pending()
        assert enrolled.confirm_by == today + timedelta(days=3)
        [approval] = [m for m in smtp_server.messages if m["To"] == "learner@example.edu.cn"]
        body = approval.get_body(preferencelist=("plain",)).get_content()
        assert f"/applications/{enrolled.id}/confirm" in body
        # each feed holds what its teacher must do by when, under a stable UID
        drafts_feed = _feed(client, drafter)
        assert drafts_feed[f"application-{draft.id}-deadline@{calendar._host()}"] == (
            intake.applications_close_on)
        learners_feed = _feed(client, learner)
        assert learners_feed[f"application-{enrolled.id}-confirm-by"
                             f"@{calendar._host()}"] == enrolled.confirm_by
        assert intake.starts_on in learners_feed.values()
        confirmation.confirm(enrolled, learner)
        db.session.commit()
        assert not any("confirm-by" in uid for uid in _feed(client, learner))

        # 3 days before the window closes: the draft's reminder, in Chinese, once
        with time_machine.travel(_at(intake.applications_close_on - timedelta(days=3), 10),
                                 tick=False):
            steps.run_due()
            steps.run_due()
        [reminder] = _subjects(smtp_server, "draft@example.edu.cn")
        assert "全程" in reminder

        # the day after the deadline: the unconfirmed seat goes to the teacher waiting, who is
        # told so with a deadline of their own (as the feed now shows), and confirms
        with time_machine.travel(_at(today + timedelta(days=4), 10), tick=False):
            steps.run_due()
            steps.run_due()
            assert _history(absent.id)[-1] == "withdrawn"
            assert _history(waiting.id)[-1] == "approved"
            promoted = db.session.get(Application, waiting.id)
            assert promoted.confirm_by == today + timedelta(days=7)
            waiting_feed = _feed(client, promoted.teacher)
            assert promoted.confirm_by in waiting_feed.values()
            confirmation.confirm(promoted, promoted.teacher)
            db.session.commit()
        [released] = _subjects(smtp_server, "absent@example.edu.cn")[-1:]
        assert "освобождено" in released
        assert any("全程" in s for s in _subjects(smtp_server, "waiting@example.edu.cn"))

        # a week before the start: the approved teacher hears what to prepare
        with time_machine.travel(_at(intake.starts_on - timedelta(days=7), 10), tick=False):
            steps.run_due()
        assert any("starts in a week" in s for s in _subjects(smtp_server,
                                                            "learner@example.edu.cn"))

        # the first day (a morning in Beijing is already that day in Moscow): enrolled, mailed
        with time_machine.travel(_at(intake.starts_on, 10), tick=False):
            steps.run_due()
            assert _history(enrolled.id)[-1] == "enrolled"
            assert _history(waiting.id)[-1] == "enrolled"
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
