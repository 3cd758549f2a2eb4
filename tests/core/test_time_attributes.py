"""Every `<time datetime>` the pages write is a valid HTML moment: UTC, to the second."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine

from course_portal.core.web import machine_moment
from course_portal.enrollment import services as enrollment
from tests import factories

#: HTML's "valid global date and time string" as the portal writes it
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATETIME_ATTRIBUTE = re.compile(r'<time datetime="([^"]*)"')
#: a moment with microseconds and a zone other than UTC's, as isoformat() would write it
SUBMITTED = datetime(2026, 12, 3, 15, 6, 33, 123456, tzinfo=UTC)


def test_a_moment_is_written_in_utc_to_the_second():
    from zoneinfo import ZoneInfo

    moscow = SUBMITTED.astimezone(ZoneInfo("Europe/Moscow"))
    assert machine_moment(moscow) == "2026-12-03T15:06:33Z"
    assert machine_moment(SUBMITTED.replace(tzinfo=None)) == "2026-12-03T15:06:33Z"
    assert machine_moment(None) == ""


def _moments(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return DATETIME_ATTRIBUTE.findall(response.get_data(as_text=True))


def test_the_queue_audit_application_and_partner_pages_write_valid_moments(db, client,
                                                                           login_as):
    partner = factories.make_partner()
    teacher = factories.make_teacher(partner=partner)
    intake = factories.make_intake(factories.make_program(code="TM"))
    application = factories.make_application(teacher=teacher, intake=intake, status="draft")
    with time_machine.travel(SUBMITTED, tick=False):
        enrollment.submit(application, teacher)
    db.session.commit()

    pages = {}
    with client.session_transaction() as session:
        session["_user_id"] = teacher.get_id()
    pages["application"] = _moments(client, f"/applications/{application.id}")
    login_as("partner_liaison", partner_university_id=partner.id)
    pages["partner"] = _moments(client, "/partner/")
    pages["partner's teacher"] = _moments(client, f"/partner/teachers/{teacher.id}")
    login_as("coordinator")
    pages["queue"] = _moments(client, "/review")
    pages["review"] = _moments(client, f"/review/applications/{application.id}")
    pages["audit"] = _moments(client, "/dashboard/audit")

    for name, moments in pages.items():
        assert moments, f"the {name} page shows no moment"
        assert all(MOMENT.fullmatch(value) for value in moments), (name, moments)
    assert "2026-12-03T15:06:33Z" in pages["queue"]
