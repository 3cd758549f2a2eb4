"""Times in the reader's zone: a teacher in Beijing, a coordinator in Moscow, a chosen zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from course_portal.accounts.models import User
from course_portal.core import clock
from course_portal.enrollment.models import ApplicationEvent
from course_portal.extensions import db
from tests import factories

#: 06:28 UTC is 09:28 in Moscow and 14:28 in Beijing
MOMENT = datetime(2026, 12, 3, 6, 28, tzinfo=UTC)


def _history_at(moment: datetime, teacher):
    from course_portal.enrollment.models import ApplicationStatus

    application = factories.make_application(teacher=teacher, status="submitted")
    db.session.add(ApplicationEvent(application_id=application.id, actor_id=teacher.id,
                                    from_status=ApplicationStatus.DRAFT,
                                    to_status=ApplicationStatus.SUBMITTED, created_at=moment))
    db.session.commit()
    return application


def test_a_teacher_reads_the_history_in_beijing_time_a_coordinator_in_moscow_time(
        client, login_as, db):
    teacher = login_as("teacher", locale="en")
    application = _history_at(MOMENT, teacher)

    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "2:28" in page and "6:28" not in page.replace("2026-12-03T06:28", "")
    assert "China" in page  # the footer names the zone the times are in

    client.get("/logout")
    login_as("coordinator")
    staff_page = client.get(f"/review/applications/{application.id}").get_data(as_text=True)
    assert "9:28" in staff_page
    assert "Moscow" in staff_page


def test_a_zone_chosen_in_the_profile_is_used_and_a_made_up_one_refused(client, login_as, db):
    teacher = login_as("teacher", locale="en")
    application = _history_at(MOMENT, teacher)
    form = {"family_name_zh": "王", "given_name_zh": "小明", "family_name_latin": "Wang",
            "given_name_latin": "Xiaoming", "name_ru": "Ван Сяомин", "citizenship": "CN",
            "department": "School of Economics", "position": "Lecturer",
            "academic_title": "none", "locale": "en"}

    refused = client.post("/profile/edit", data={**form, "timezone": "Mars/Olympus"})
    assert refused.status_code in (200, 400)
    assert db.session.get(User, teacher.id).timezone == ""

    saved = client.post("/profile/edit", data={**form, "timezone": "UTC"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, teacher.id).timezone == "UTC"
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "6:28" in page


def test_a_deadline_says_when_it_ends_in_moscow_and_in_the_readers_zone(client, db):
    today = clock.portal_today()
    program = factories.make_program(code="TZ")
    close = today + timedelta(days=20)
    factories.make_intake(program, applications_open_on=today - timedelta(days=1),
                          applications_close_on=close, starts_on=close + timedelta(days=10),
                          ends_on=close + timedelta(days=100))
    db.session.commit()

    chinese = client.get("/programs/TZ", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "23:59" in chinese and "04:59" in chinese
    assert "莫斯科时间" in chinese and "中国时间" in chinese

    english = client.get("/programs/TZ", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "23:59 (Moscow Time)" in english and "04:59" not in english


def test_the_day_ends_at_moscow_midnight_whatever_the_readers_zone(db):
    day = datetime(2027, 1, 20).date()
    with time_machine.travel(datetime(2027, 1, 20, 20, 59, tzinfo=UTC), tick=False):
        assert clock.portal_today() == day  # 23:59 in Moscow
    with time_machine.travel(datetime(2027, 1, 20, 21, 0, tzinfo=UTC), tick=False):
        assert clock.portal_today() == day + timedelta(days=1)
    assert clock.day_ends_at(day) == datetime(2027, 1, 20, 20, 59, 59, 999999, tzinfo=UTC)


def test_exports_are_in_the_readers_zone_and_say_which(client, login_as, db):
    import csv
    import io

    coordinator = login_as("coordinator")
    application = factories.make_application(status="submitted")
    application.submitted_at = MOMENT
    db.session.commit()

    body = client.get("/review/export.csv?status=all").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["Submitted at (Europe/Moscow)"] == "2026-12-03 09:28:00"

    coordinator.timezone = "Asia/Shanghai"
    db.session.commit()
    body = client.get("/review/export.csv?status=all").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["Submitted at (Asia/Shanghai)"] == "2026-12-03 14:28:00"
