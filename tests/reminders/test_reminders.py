"""Reminders: each at a waking hour of its reader, in their language, never twice.

The clock is moved with time-machine; the reminders' step runs as the scheduler runs it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from course_portal.core import clock
from course_portal.core.outbox import OutboxMessage
from course_portal.extensions import db
from course_portal.progress.models import ModuleResult, ModuleSchedule, Outcome
from course_portal.reminders.services import send_due
from tests import factories
from tests.enrollment.helpers import run_at_once, tally

BEIJING = ZoneInfo("Asia/Shanghai")


def at(day, hour, zone=BEIJING) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == f"reminder.{kind}").order_by(OutboxMessage.id)))


def _intake(**dates):
    today = clock.portal_today()
    program = factories.make_program(code=f"R{today.day}", hours=(8, 8), title_en="Reminders",
                                     title_zh="提醒项目", title_ru="Напоминания")
    values = {"applications_open_on": today - timedelta(days=30),
              "applications_close_on": today + timedelta(days=10),
              "starts_on": today + timedelta(days=20), "ends_on": today + timedelta(days=100)}
    values.update(dates)
    return factories.make_intake(program, capacity=10, **values)


def test_a_draft_is_reminded_3_days_and_1_day_before_the_window_closes(db):
    intake = _intake()
    zh = factories.make_teacher(locale="zh", email="zh@example.edu.cn")
    draft = factories.make_application(teacher=zh, intake=intake, status="draft")
    quiet = factories.make_teacher(email="quiet@example.edu.cn")
    quiet.wants_reminders = False  # turned off in the profile
    factories.make_application(teacher=quiet, intake=intake, status="draft")
    sent_in = factories.make_teacher(email="sent@example.edu.cn")
    factories.make_application(teacher=sent_in, intake=intake, status="submitted")
    db.session.commit()
    close = intake.applications_close_on

    with time_machine.travel(at(close - timedelta(days=4), 10), tick=False):
        send_due()
        assert mails("draft_3_days") == []
    # 3 days before, 03:00 in Beijing: asleep, nothing; 10:00: the reminder, once
    with time_machine.travel(at(close - timedelta(days=3), 3), tick=False):
        send_due()
        assert mails("draft_3_days") == []
    with time_machine.travel(at(close - timedelta(days=3), 10), tick=False):
        send_due()
        send_due()
        [mail] = mails("draft_3_days")
        assert mail.to_address == "zh@example.edu.cn"
        assert "提醒项目" in mail.subject
        assert f"/intakes/{intake.id}/apply" in mail.body_text
        assert "23:59" in mail.body_text  # when the window closes, in Moscow and Beijing time
    # a day late (the scheduler was down on the day): the last-day reminder still leaves, once
    with time_machine.travel(at(close, 11), tick=False):
        send_due()
        send_due()
        [last] = mails("draft_1_day")
        assert last.to_address == "zh@example.edu.cn"
    # sent: no reminder for it afterwards
    assert {m.to_address for m in mails("draft_3_days") + mails("draft_1_day")} == {
        "zh@example.edu.cn"}
    assert draft.status.value == "draft"


def test_none_after_submitting_or_withdrawing(db):
    intake = _intake()
    teacher = factories.make_teacher(email="t@example.edu.cn")
    application = factories.make_application(teacher=teacher, intake=intake, status="withdrawn")
    db.session.commit()
    with time_machine.travel(at(intake.applications_close_on - timedelta(days=1), 10),
                             tick=False):
        send_due()
    assert mails("draft_1_day") == [] and application.id


def test_approved_a_week_before_the_start_and_enrolled_the_day_before_each_module(db):
    intake = _intake()
    ru = factories.make_teacher(locale="ru", email="ru@example.edu.cn")
    approved = factories.make_application(teacher=ru, intake=intake, status="approved")
    module = intake.program.modules[0]
    db.session.add(ModuleSchedule(intake_id=intake.id, module_id=module.id,
                                  starts_on=intake.starts_on + timedelta(days=3),
                                  ends_on=intake.starts_on + timedelta(days=10)))
    db.session.commit()

    with time_machine.travel(at(intake.starts_on - timedelta(days=7), 12), tick=False):
        send_due()
        send_due()
        [mail] = mails("start_in_a_week")
        assert mail.to_address == "ru@example.edu.cn" and "Напоминания" in mail.subject
        assert "Модуль 1" in mail.body_text  # the first module with its date

    approved.status = approved.status.__class__("enrolled")
    db.session.commit()
    with time_machine.travel(at(intake.starts_on + timedelta(days=2), 12), tick=False):
        send_due()
        send_due()
        [tomorrow] = mails("module_tomorrow")
        assert "Модуль 1" in tomorrow.subject


def test_a_teacher_who_falls_behind_is_told_once(db):
    today = clock.portal_today()
    intake = _intake(applications_close_on=today - timedelta(days=40),
                     applications_open_on=today - timedelta(days=60),
                     starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30))
    teacher = factories.make_teacher(email="behind@example.edu.cn")
    application = factories.make_application(teacher=teacher, intake=intake, status="enrolled")
    module = intake.program.modules[0]
    db.session.add(ModuleSchedule(intake_id=intake.id, module_id=module.id,
                                  starts_on=today - timedelta(days=25),
                                  ends_on=today - timedelta(days=20)))
    db.session.add(ModuleResult(application_id=application.id, module_id=module.id,
                                attended_hours=0, outcome=Outcome.PENDING))
    db.session.commit()

    for hour in (10, 12, 14):
        with time_machine.travel(at(today, hour), tick=False):
            send_due()
    [mail] = mails("behind")
    assert mail.to_address == "behind@example.edu.cn"
    assert f"/progress/{application.id}" in mail.body_text


def test_the_coordinators_digest_comes_once_a_day_and_not_when_there_is_nothing(db, app):
    coordinator = factories.make_user(role="coordinator", email="coord@example.edu")
    db.session.commit()
    today = clock.portal_today()
    moscow = clock.portal_zone()
    with time_machine.travel(at(today, 10, moscow), tick=False):
        send_due()
    assert mails("review_digest") == []

    intake = _intake()
    old = factories.make_application(intake=intake, status="submitted")
    old.submitted_at = clock.now() - timedelta(days=app.config["REVIEW_DIGEST_DAYS"] + 2)
    factories.make_application(intake=intake, status="submitted").submitted_at = clock.now()
    db.session.commit()
    with time_machine.travel(at(today, 10, moscow), tick=False):
        send_due()
        send_due()
    [digest] = mails("review_digest")
    assert digest.to_address == coordinator.email
    assert intake.program.code in digest.body_text and "/review" in digest.body_text
    with time_machine.travel(at(today + timedelta(days=1), 10, moscow), tick=False):
        send_due()
    assert len(mails("review_digest")) == 2


def test_two_runners_at_once_send_each_reminder_once(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 2})
    with app.app_context():
        intake = _intake()
        for n in range(4):
            factories.make_application(
                teacher=factories.make_teacher(email=f"d{n}@example.edu.cn"),
                intake=intake, status="draft")
        db.session.commit()
        moment = at(intake.applications_close_on - timedelta(days=3), 10)

        def runner(start):
            start()
            send_due()

        with time_machine.travel(moment, tick=False):
            outcomes = run_at_once(app, [runner, runner, runner])
        assert set(tally(outcomes)) <= {"ok", "OperationalError", "IntegrityError"}, outcomes
        assert sorted(m.to_address for m in mails("draft_3_days")) == [
            f"d{n}@example.edu.cn" for n in range(4)]


def test_the_profile_turns_the_reminders_off(client, login_as, db):
    teacher = login_as("teacher", locale="en")
    form = {"family_name_zh": "王", "given_name_zh": "小明", "family_name_latin": "Wang",
            "given_name_latin": "Xiaoming", "name_ru": "Ван Сяомин", "citizenship": "CN",
            "department": "School of Economics", "position": "Lecturer",
            "academic_title": "none", "locale": "en", "timezone": ""}
    assert client.get("/profile/edit").status_code == 200
    assert client.post("/profile/edit", data=form).status_code == 302  # the box unticked
    db.session.expire_all()
    assert teacher.wants_reminders is False
    assert "Off" in client.get("/profile").get_data(as_text=True)
    client.post("/profile/edit", data={**form, "wants_reminders": "y"})
    db.session.expire_all()
    assert teacher.wants_reminders is True


def test_a_seat_still_to_confirm_is_reminded_the_day_before_its_last_day_even_when_quiet(db):
    """Losing the seat is not optional news: the reminder leaves whatever the profile says,
    once per deadline, and not once the seat is confirmed."""
    intake = _intake()
    last_day = clock.portal_today() + timedelta(days=3)
    quiet = factories.make_teacher(locale="ru", email="quiet@example.edu.cn")
    quiet.wants_reminders = False
    waiting = factories.make_application(teacher=quiet, intake=intake, status="approved",
                                         confirm_by=last_day)
    done = factories.make_teacher(email="done@example.edu.cn")
    factories.make_application(teacher=done, intake=intake, status="approved",
                               confirm_by=last_day, confirmed_at=clock.now())
    db.session.commit()

    with time_machine.travel(at(last_day - timedelta(days=2), 10), tick=False):
        send_due()
        assert mails("confirm_seat") == []
    with time_machine.travel(at(last_day - timedelta(days=1), 10), tick=False):
        send_due()
        send_due()
        [mail] = mails("confirm_seat")
    assert mail.to_address == "quiet@example.edu.cn"
    assert "Напоминания" in mail.subject  # the programme's title, in the teacher's language
    assert f"/applications/{waiting.id}/confirm" in mail.body_text
    assert "23:59" in mail.body_text
    # a coordinator gives more time: one more reminder before the new last day
    waiting.confirm_by = last_day + timedelta(days=5)
    db.session.commit()
    with time_machine.travel(at(last_day + timedelta(days=4), 10), tick=False):
        send_due()
    assert len(mails("confirm_seat")) == 2
