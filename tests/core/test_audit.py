"""Every wired action writes its audit row in the same transaction as the change, or none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from course_portal.catalog import intakes as catalog_intakes
from course_portal.catalog import services as catalog
from course_portal.certificates import services as certificates
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.errors import EnrollmentError
from course_portal.extensions import db as _db
from course_portal.progress.grid import hours_key, load_roster, save_grid
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake


def events(action: str | None = None) -> list[AuditEvent]:
    """The audit rows, oldest first, optionally of one action."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(_db.session.scalars(query))


@pytest.fixture
def coordinator(db):
    return factories.make_user(role="coordinator")


def test_approving_records_who_approved_whose_application(db, coordinator):
    application = factories.make_application(status="submitted")
    db.session.commit()

    enrollment.approve(application, coordinator, reason="Strong motivation")
    db.session.commit()

    [event] = events("application.approved")
    assert (event.actor_id, event.teacher_id) == (coordinator.id, application.teacher_id)
    assert (event.object_type, event.object_id) == ("applications", application.id)
    assert event.details == {"from": "submitted", "to": "approved",
                             "reason": "Strong motivation"}
    assert event.occurred_at is not None


def test_the_portal_acting_alone_has_no_actor(db):
    today = portal_today()
    started = factories.make_intake(
        factories.make_program(), applications_open_on=today - timedelta(days=30),
        applications_close_on=today - timedelta(days=5), starts_on=today,
        ends_on=today + timedelta(days=90))
    application = factories.make_application(intake=started, status="approved")
    db.session.commit()

    enrollment.enroll_started(started)  # what `flask enrollment enroll-started` runs
    db.session.commit()

    [event] = events("application.enrolled")
    assert event.actor_id is None
    assert event.teacher_id == application.teacher_id


def test_a_refused_transition_writes_no_row(db, coordinator):
    application = factories.make_application(status="submitted")
    db.session.commit()

    with pytest.raises(EnrollmentError):
        enrollment.reject(application, coordinator, reason="")  # a rejection needs a reason
    db.session.rollback()

    assert events() == []


def test_a_rolled_back_decision_leaves_no_row(db, coordinator):
    application = factories.make_application(status="submitted")
    db.session.commit()

    enrollment.approve(application, coordinator)
    assert len(events("application.approved")) == 1  # in the transaction...
    db.session.rollback()

    assert events() == []  # ...and gone with it


def test_bulk_decisions_record_each_application(db, coordinator):
    intake = factories.make_intake(factories.make_program())
    applications = [factories.make_application(intake=intake, status="submitted")
                    for _ in range(3)]
    db.session.commit()

    enrollment.bulk_decide([a.id for a in applications], "waitlisted", coordinator)
    db.session.commit()

    assert sorted(e.object_id for e in events("application.waitlisted")) == sorted(
        a.id for a in applications)


def test_a_changed_result_is_one_row_per_cell_with_old_and_new(db, coordinator):
    intake = make_finished_intake()
    application = make_completed(intake, passed=False)
    first = intake.program.modules[0]
    db.session.commit()

    save_grid(load_roster(intake), {hours_key(application.id, first.id): "4"}, coordinator)
    db.session.commit()

    [event] = events("result.changed")
    assert (event.actor_id, event.teacher_id) == (coordinator.id, application.teacher_id)
    assert (event.object_type, event.object_id) == ("applications", application.id)
    assert event.details["module"] == f"1. {first.title_en}"
    assert (event.details["field"], event.details["old"], event.details["new"]) == (
        "attended_hours", str(first.hours), "4")
    assert event.details["source"] == "grid"


def test_issuing_and_revoking_a_certificate_are_recorded(db, coordinator):
    intake = make_finished_intake()
    application = make_completed(intake)
    db.session.commit()

    certificate = certificates.issue_certificate(application, coordinator)
    db.session.commit()
    certificates.revoke(certificate, coordinator, "Issued to the wrong <b>name</b>")
    db.session.commit()

    issued, revoked = events("certificate.issued"), events("certificate.revoked")
    assert [(e.object_type, e.object_id) for e in issued + revoked] == [
        ("certificates", certificate.id)] * 2
    assert issued[0].teacher_id == revoked[0].teacher_id == application.teacher_id
    assert issued[0].details["number"] == certificate.registry_number
    assert revoked[0].details["reason"] == "Issued to the wrong <b>name</b>"


def test_editing_a_program_records_which_fields_changed(db, coordinator):
    program = factories.make_program(code="IE")
    db.session.commit()
    values = {name: getattr(program, name) for name in catalog.PROGRAM_FIELDS}

    catalog.save_program(program, actor=coordinator, **{**values, "title_en": "New title"})
    db.session.commit()

    [event] = events("program.updated")
    assert (event.actor_id, event.object_type, event.object_id) == (
        coordinator.id, "programs", program.id)
    assert event.details == {"program": "IE", "changed": ["title_en"]}


def test_saving_a_program_unchanged_writes_nothing(db, coordinator):
    program = factories.make_program(code="IE")
    db.session.commit()
    values = {name: getattr(program, name) for name in catalog.PROGRAM_FIELDS}

    catalog.save_program(program, actor=coordinator, **values)
    db.session.commit()

    assert events() == []


def test_closing_applications_and_changing_a_quota_are_recorded(db, coordinator):
    program = factories.make_program(code="IE")
    intake = factories.make_intake(program, title="Spring 2027")
    partner = factories.make_partner(name_en="Datong University")
    db.session.commit()
    values = {name: getattr(intake, name) for name in catalog.INTAKE_FIELDS}

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={partner.id: 5},
                        **{**values, "capacity": 30})
    catalog_intakes.set_intake_open(intake, False, actor=coordinator)
    db.session.commit()

    [quota] = events("quota.changed")
    assert quota.details == {"intake": "Spring 2027", "partner": "Datong University",
                             "old": None, "new": 5}
    [updated] = events("intake.updated")
    assert updated.details["changed"] == {"capacity": [20, 30]}
    [closed] = events("intake.closed")
    assert (closed.object_type, closed.object_id) == ("intakes", intake.id)


def test_sending_a_bulk_email_records_how_many_and_the_subject(client, login_as, db):
    intake = factories.make_intake(factories.make_program())
    for _ in range(2):
        factories.make_application(intake=intake, status="enrolled")
    db.session.commit()
    coordinator = login_as("coordinator")

    response = client.post("/dashboard/email", data={
        "intake": intake.id, "audience": "taking", "subject": "Timetable change",
        "body": "Module 3 moves to Friday.", "action": "send"})

    assert response.status_code == 302
    [event] = events("email.bulk_sent")
    assert event.actor_id == coordinator.id
    assert (event.details["count"], event.details["subject"]) == (2, "Timetable change")
    assert event.details["filters"] == {"intake": intake.id}


def test_exporting_applications_records_the_filters(client, login_as, db):
    intake = factories.make_intake(factories.make_program())
    factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    coordinator = login_as("coordinator")

    response = client.get(f"/review/export.csv?intake={intake.id}&status=all&q=wang")
    response.get_data()

    assert response.status_code == 200
    [event] = events("applications.exported")
    assert event.actor_id == coordinator.id
    assert event.details == {"format": "CSV", "filters": {"intake": intake.id, "status": "all"},
                             "search": True}


def test_a_report_download_is_recorded(client, login_as, db):
    coordinator = login_as("coordinator")

    assert client.get("/dashboard/reports/status.csv").status_code == 200

    [event] = events("report.exported")
    assert event.actor_id == coordinator.id
    assert event.details == {"report": "application-status", "format": "csv"}
