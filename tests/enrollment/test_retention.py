"""Retention: documents of applications that went nowhere, and certified teachers' passports, go.

The portal's clock is moved with time-machine, never slept; the deletion runs as the timed step
runs it. Each application's documents are real files in the upload folder, so the tests see
them leave the disk, and stay on it when the transaction does not commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from uuid import uuid4

import pytest
import time_machine
from sqlalchemy import func, select

from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core import clock, steps
from course_portal.core.audit import AuditEvent
from course_portal.core.steps import STEPS_BY_NAME
from course_portal.enrollment import documents, retention, services
from course_portal.enrollment.models import Application, Document, DocumentKind
from course_portal.extensions import db
from tests import factories
from tests.enrollment.helpers import run_at_once, tally

STEP = "enrollment.delete_expired_documents"
#: the moment the tests start at: mid-month, mid-day, so no month's end is near
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
_sequence = count(1)


def months_later(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months later."""
    return retention.months_before(moment, -months)


def with_files(application: Application) -> dict[DocumentKind, object]:
    """Write a file for each of the application's document rows (factories make rows only)."""
    paths = {}
    for document in application.documents:
        path = documents._path_of(application.id, document.stored_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 " + document.kind.value.encode())
        paths[document.kind] = path
    return paths


def kinds_left(application_id: int) -> set[str]:
    db.session.expire_all()
    return {kind.value for kind in db.session.scalars(
        select(Document.kind).where(Document.application_id == application_id))}


def deletions(application_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "document.deleted")
    if application_id is not None:
        query = query.where(AuditEvent.object_id == application_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def run() -> str:
    """Run the step as the scheduler does, forced (it is due every 6 hours), and say its result."""
    assert steps.run_step(STEPS_BY_NAME[STEP], force=True)
    row = db.session.get(steps.TimedStep, STEP)
    db.session.refresh(row)
    assert row.last_error == "", row.last_error
    return row.last_result


def certify(application: Application, status=CertificateStatus.ISSUED) -> Certificate:
    """A certificate row for the application, issued now (the PDF does not matter here)."""
    sequence = next(_sequence)
    certificate = Certificate(
        registry_number=f"IE-{clock.now().year}-{sequence:04d}",
        program_id=application.intake.program_id, year=clock.now().year,
        sequence=sequence, verification_code=uuid4().hex,
        application_id=application.id, status=status, snapshot={}, pdf=b"%PDF-1.4",
        pdf_sha256="0" * 64, pdf_size=8,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def ended_intake(program, last_day):
    """An intake of the program whose last day was last_day."""
    return factories.make_intake(
        program, applications_open_on=last_day - timedelta(days=200),
        applications_close_on=last_day - timedelta(days=160),
        starts_on=last_day - timedelta(days=150), ends_on=last_day)


@pytest.fixture
def frozen():
    """The portal's clock stopped at T0; move it with frozen.move_to(...)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_months_are_calendar_months_and_a_missing_day_is_the_months_last():
    assert retention.months_before(T0, 12) == datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    assert retention.months_before(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, tzinfo=UTC)
    assert retention.months_before(datetime(2028, 3, 31, tzinfo=UTC), 1) == datetime(
        2028, 2, 29, tzinfo=UTC)
    assert retention.months_before(datetime(2027, 1, 15, tzinfo=UTC), 13) == datetime(
        2025, 12, 15, tzinfo=UTC)
    assert months_later(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(
        2027, 2, 28, tzinfo=UTC)


# --- rejected and withdrawn -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["rejected", "withdrawn"])
def test_a_closed_application_keeps_its_documents_12_months_then_loses_them(
        db, frozen, intake, coordinator, how):
    application = factories.make_application(intake=intake, status="submitted")
    paths = with_files(application)
    db.session.commit()
    if how == "rejected":
        services.reject(application, coordinator, reason="The diploma is not in economics.")
    else:
        services.withdraw(application, application.teacher)
    db.session.commit()
    application_id, teacher_id = application.id, application.teacher_id

    frozen.move_to(months_later(T0, 11))
    assert run() == "deleted 0"
    frozen.move_to(months_later(T0, 12) - timedelta(minutes=1))
    assert run() == "deleted 0"
    assert kinds_left(application_id) == {"diploma", "passport", "cv"}
    assert all(path.is_file() for path in paths.values())

    frozen.move_to(months_later(T0, 12))
    assert run() == "deleted 3"

    assert kinds_left(application_id) == set()
    assert not any(path.exists() for path in paths.values())
    rows = deletions(application_id)
    assert sorted(row.details["kind"] for row in rows) == ["cv", "diploma", "passport"]
    for row in rows:
        assert row.actor_id is None and row.teacher_id == teacher_id
        assert row.object_type == "applications"
        assert row.details["rule"] == how and row.details["months"] == 12
        assert row.details["setting"] == "DOCUMENT_RETENTION_MONTHS"
        assert row.details["since"] == "2026-03-10"

    # a second run finds nothing and audits nothing
    frozen.move_to(months_later(T0, 13))
    assert run() == "deleted 0"
    assert len(deletions()) == 3


def test_the_period_counts_from_the_move_into_the_final_status(db, frozen, intake, coordinator):
    """Not from the submission: a rejection after a long wait on the list keeps its months."""
    application = factories.make_application(intake=intake, status="waitlisted")
    with_files(application)
    db.session.commit()
    frozen.move_to(months_later(T0, 2))
    services.reject(application, coordinator, reason="No seat freed up.")
    db.session.commit()

    frozen.move_to(months_later(T0, 12))
    assert run() == "deleted 0"
    frozen.move_to(months_later(T0, 14))
    assert run() == "deleted 3"


# --- expired ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "submitted", "waitlisted"])
def test_an_application_left_behind_by_an_ended_intake_expires_12_months_after_its_end(
        db, frozen, program, status):
    last_day = clock.portal_today() - timedelta(days=1)
    application = factories.make_application(intake=ended_intake(program, last_day),
                                             status=status)
    paths = with_files(application)
    db.session.commit()

    # the intake was over from the first moment of T0's portal day (Moscow)
    frozen.move_to(months_later(T0, 12) - timedelta(days=1))
    assert run() == "deleted 0"
    frozen.move_to(months_later(T0, 12))
    assert run() == "deleted 3"

    assert not any(path.exists() for path in paths.values())
    rows = deletions(application.id)
    assert {row.details["rule"] for row in rows} == {"expired"}
    assert {row.details["since"] for row in rows} == {"2026-03-10"}


# --- what stays ---------------------------------------------------------------------------------


def test_documents_of_live_applications_never_go(db, frozen, program):
    # an intake that ends in three years: its draft, submitted and waitlisted ones are live
    today = clock.portal_today()
    future = factories.make_intake(
        program, applications_open_on=today - timedelta(days=10),
        applications_close_on=today + timedelta(days=900),
        starts_on=today + timedelta(days=1000), ends_on=today + timedelta(days=1100))
    ended = ended_intake(program, today - timedelta(days=1))
    live = [factories.make_application(intake=future, status=status)
            for status in ("draft", "submitted", "waitlisted", "approved")]
    # approved, enrolled, completed (no certificate yet) and not completed of an ended one
    live += [factories.make_application(intake=ended, status=status)
             for status in ("approved", "enrolled", "completed", "not_completed")]
    paths = [path for application in live for path in with_files(application).values()]
    db.session.commit()

    frozen.move_to(months_later(T0, 30))
    assert run() == "deleted 0"

    assert all(kinds_left(a.id) == {"diploma", "passport", "cv"} for a in live)
    assert all(path.is_file() for path in paths)
    assert deletions() == []


# --- passport pages of certified teachers ---------------------------------------------------


def test_a_certified_teachers_passport_goes_6_months_after_issue_the_rest_stays(
        db, frozen, program):
    ended = ended_intake(program, clock.portal_today() - timedelta(days=20))
    certified = factories.make_application(intake=ended, status="completed")
    not_certified = factories.make_application(intake=ended, status="completed")
    revoked = factories.make_application(intake=ended, status="completed")
    files = {a.id: with_files(a) for a in (certified, not_certified, revoked)}
    certify(certified)
    certify(revoked, status=CertificateStatus.REVOKED)
    db.session.commit()

    frozen.move_to(months_later(T0, 6) - timedelta(minutes=1))
    assert run() == "deleted 0"
    frozen.move_to(months_later(T0, 6))
    assert run() == "deleted 1"

    assert kinds_left(certified.id) == {"diploma", "cv"}
    assert not files[certified.id][DocumentKind.PASSPORT].exists()
    assert files[certified.id][DocumentKind.DIPLOMA].is_file()
    assert files[certified.id][DocumentKind.CV].is_file()
    (row,) = deletions()
    assert row.object_id == certified.id and row.actor_id is None
    assert row.details == {"kind": "passport", "document_id": row.details["document_id"],
                           "rule": "passport_after_certificate", "months": 6,
                           "setting": "PASSPORT_RETENTION_MONTHS", "since": "2026-03-10"}

    # years later: the diploma and CV, and the others' passports, are still there
    frozen.move_to(months_later(T0, 40))
    assert run() == "deleted 0"
    assert kinds_left(certified.id) == {"diploma", "cv"}
    assert kinds_left(not_certified.id) == kinds_left(revoked.id) == {"diploma", "passport", "cv"}


def test_a_reissue_starts_the_passports_count_again(db, frozen, program):
    ended = ended_intake(program, clock.portal_today() - timedelta(days=20))
    application = factories.make_application(intake=ended, status="completed")
    first = certify(application)
    db.session.commit()
    frozen.move_to(months_later(T0, 4))
    first.status = CertificateStatus.SUPERSEDED
    db.session.flush()
    certify(application)
    db.session.commit()

    frozen.move_to(months_later(T0, 8))
    assert run() == "deleted 0"
    frozen.move_to(months_later(T0, 10))
    assert run() == "deleted 1"


# --- settings -------------------------------------------------------------------------------------


def test_the_settings_set_the_periods_and_zero_keeps_everything(
        app, db, frozen, intake, program, coordinator):
    app.config.update(DOCUMENT_RETENTION_MONTHS=0, PASSPORT_RETENTION_MONTHS=0)
    rejected = factories.make_application(intake=intake, status="submitted")
    services.reject(rejected, coordinator, reason="Not eligible.")
    ended = ended_intake(program, clock.portal_today() - timedelta(days=20))
    certified = factories.make_application(intake=ended, status="completed")
    certify(certified)
    db.session.commit()

    frozen.move_to(months_later(T0, 60))
    assert run() == "deleted 0"

    app.config.update(DOCUMENT_RETENTION_MONTHS=3, PASSPORT_RETENTION_MONTHS=1)
    frozen.move_to(months_later(T0, 1))
    assert run() == "deleted 1"
    assert kinds_left(certified.id) == {"diploma", "cv"}
    assert kinds_left(rejected.id) == {"diploma", "passport", "cv"}
    frozen.move_to(months_later(T0, 3))
    assert run() == "deleted 3"
    assert kinds_left(rejected.id) == set()
    assert {row.details["months"] for row in deletions(rejected.id)} == {3}


# --- safety -----------------------------------------------------------------------------------


def test_a_failed_run_keeps_the_rows_and_the_files(db, frozen, intake, coordinator, monkeypatch):
    application = factories.make_application(intake=intake, status="submitted")
    paths = with_files(application)
    services.reject(application, coordinator, reason="Not eligible.")
    db.session.commit()

    def broken(events):
        raise RuntimeError("the audit table said no")

    monkeypatch.setattr("course_portal.core.audit.record_many", broken)
    frozen.move_to(months_later(T0, 12))
    assert steps.run_step(STEPS_BY_NAME[STEP], force=True)

    row = db.session.get(steps.TimedStep, STEP)
    assert row.last_error == "RuntimeError: the audit table said no"
    assert kinds_left(application.id) == {"diploma", "passport", "cv"}
    assert all(path.is_file() for path in paths.values())
    monkeypatch.undo()
    assert run() == "deleted 3"
    assert not any(path.exists() for path in paths.values())


def test_a_document_gone_already_is_skipped_and_a_file_gone_already_is_no_error(
        db, frozen, intake, coordinator):
    application = factories.make_application(intake=intake, status="submitted")
    paths = with_files(application)
    services.reject(application, coordinator, reason="Not eligible.")
    db.session.commit()
    paths[DocumentKind.CV].unlink()  # lost from the disk
    frozen.move_to(months_later(T0, 12))
    (diploma,) = [d for d in retention.due_documents() if d.kind == DocumentKind.DIPLOMA]
    # another runner took the diploma after this one read its batch
    assert documents.delete_stored(diploma.document_id, diploma.application_id,
                                   diploma.stored_name)
    db.session.commit()
    assert not documents.delete_stored(diploma.document_id, diploma.application_id,
                                       diploma.stored_name)

    assert run() == "deleted 2"
    assert kinds_left(application.id) == set()
    assert sorted(row.details["kind"] for row in deletions()) == ["cv", "passport"]


def test_runs_in_batches(db, frozen, intake, coordinator):
    rejected = []
    for _ in range(3):
        application = factories.make_application(intake=intake, status="submitted")
        services.reject(application, coordinator, reason="Not eligible.")
        rejected.append(application.id)
    db.session.commit()
    frozen.move_to(months_later(T0, 12))

    batches = list(retention.due_batches(batch_size=4))
    assert [len(batch) for batch in batches] == [4, 4, 1]
    deleted = retention.delete_due(batch_size=4)
    assert len(deleted) == 9 and len({d.document_id for d in deleted}) == 9
    assert all(kinds_left(application_id) == set() for application_id in rejected)


def test_two_runners_at_once_delete_and_audit_each_document_once(race_app, frozen):
    intake = factories.make_intake(factories.make_program())
    coordinator = factories.make_user(role="coordinator")
    applications = [factories.make_application(intake=intake, status="submitted")
                    for _ in range(4)]
    paths = [path for a in applications for path in with_files(a).values()]
    for application in applications:
        services.reject(application, coordinator, reason="Not eligible.")
    db.session.commit()
    frozen.move_to(months_later(T0, 12))

    def runner(start):
        start()
        retention.delete_due(batch_size=5)

    outcomes = run_at_once(race_app, [runner] * 4)

    assert set(tally(outcomes)) <= {"ok", "OperationalError"}, outcomes
    assert "ok" in tally(outcomes)
    db.session.expire_all()
    # whatever a runner that lost the race left, the next run finishes
    retention.delete_due()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert len(deletions()) == 12
    assert len({row.details["document_id"] for row in deletions()}) == 12
    assert not any(path.exists() for path in paths)


# --- the pages -----------------------------------------------------------------------------------


def sign_in(client, user) -> None:
    """Sign the user in on the client now, as login_as does for a new user."""
    from course_portal.accounts.session import start_clock

    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        start_clock(session)


def test_the_pages_of_an_application_whose_documents_were_deleted_render(
        client, db, frozen, intake, program):
    teacher = factories.make_teacher()
    coordinator = factories.make_user(role="coordinator")
    rejected = factories.make_application(teacher=teacher, intake=intake, status="submitted")
    services.reject(rejected, coordinator, reason="Not eligible.")
    ended = ended_intake(program, clock.portal_today() - timedelta(days=20))
    certified = factories.make_application(teacher=teacher, intake=ended, status="completed")
    with_files(rejected), with_files(certified)
    certify(certified)
    document_ids = {a.id: {d.kind.value: d.id for d in a.documents}
                    for a in (rejected, certified)}
    db.session.commit()
    frozen.move_to(months_later(T0, 12) + timedelta(days=2))
    assert run() == "deleted 4"

    sign_in(client, teacher)

    def page(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    mine = page(f"/applications/{rejected.id}")
    for document_id in document_ids[rejected.id].values():
        assert f"/documents/{document_id}" not in mine
    assert "deleted on Mar 12, 2027 under the retention rules" in mine
    assert "No document uploaded yet." not in mine
    mine = page(f"/applications/{certified.id}")
    assert f"/documents/{document_ids[certified.id]['passport']}" not in mine
    assert f"/documents/{document_ids[certified.id]['diploma']}" in mine
    assert mine.count("under the retention rules") == 1

    sign_in(client, coordinator)
    review = page(f"/review/applications/{rejected.id}")
    for document_id in document_ids[rejected.id].values():
        assert f"/documents/{document_id}" not in review
    assert review.count("deleted on Mar 12, 2027 under the retention rules") == 3
    review = page(f"/review/applications/{certified.id}")
    assert f"/documents/{document_ids[certified.id]['passport']}" not in review
    assert f"/documents/{document_ids[certified.id]['cv']}" in review
    assert review.count("under the retention rules") == 1
    # the link that was there answers 404, as for any document that is not there
    assert client.get(f"/documents/{document_ids[certified.id]['passport']}").status_code == 404


# --- the step and the command ---------------------------------------------------------------


def test_the_step_is_listed_with_the_others(app, db):
    assert STEP in STEPS_BY_NAME
    assert STEPS_BY_NAME[STEP].function == "course_portal.enrollment.retention.delete_expired_documents"
    result = app.test_cli_runner().invoke(args=["steps", "status"])
    assert STEP in result.output


def test_the_command_prints_what_would_go_with_dry_run_then_deletes_it(
        app, db, frozen, intake, coordinator):
    application = factories.make_application(intake=intake, status="submitted")
    paths = with_files(application)
    services.reject(application, coordinator, reason="Not eligible.")
    db.session.commit()
    frozen.move_to(months_later(T0, 12))
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["enrollment", "delete-expired-documents", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"application {application.id}: passport" in dry.output
    assert "rejected since 2026-03-10, 12 months" in dry.output
    assert "would delete 3" in dry.output
    assert kinds_left(application.id) == {"diploma", "passport", "cv"}
    assert all(path.is_file() for path in paths.values()) and deletions() == []

    done = runner.invoke(args=["enrollment", "delete-expired-documents"])
    assert done.exit_code == 0, done.output
    assert "deleted 3" in done.output
    assert kinds_left(application.id) == set() and len(deletions()) == 3
    again = runner.invoke(args=["enrollment", "delete-expired-documents"])
    assert "nothing to delete" in again.output
