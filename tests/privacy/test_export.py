"""A copy of everything: the ZIP a teacher downloads from the profile, and a coordinator's copy.

The ZIP is opened as a teacher would (zipfile, the manifest read as JSON); the certificate's
PDF in it is the issued one, byte for byte, and the documents are the stored files.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from course_portal.certificates import services as certificate_services
from course_portal.certificates.models import Certificate
from course_portal.core import clock, steps
from course_portal.core.audit import AuditEvent
from course_portal.core.outbox import OutboxMessage, queue_email
from course_portal.enrollment import documents
from course_portal.extensions import db
from course_portal.privacy import export as exports
from course_portal.privacy.models import DataExport, ExportStatus
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.partners.helpers import sign_in

NANA = dict(family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
            given_name_latin="Nana", name_ru="Оуян Нана", email="nana@tsnu.edu.cn",
            phone="+86 138 0013 8000", wechat_id="nana_wx")


def with_files(application) -> dict[str, bytes]:
    """Real files behind the application's document rows (factories make the rows only)."""
    written = {}
    for document in application.documents:
        content = b"%PDF-1.4 " + document.kind.value.encode() + b" of application %d" % application.id
        path = documents._path_of(application.id, document.stored_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        document.sha256 = hashlib.sha256(content).hexdigest()
        written[document.kind.value] = content
    return written


@pytest.fixture
def nana(app):
    """A teacher with a certificate, a second application with documents, and an email."""
    coordinator = factories.make_user(role="coordinator")
    completed = make_completed(make_finished_intake(), **NANA)
    certificate = certificate_services.issue_certificate(completed, coordinator)
    teacher = completed.teacher
    other = factories.make_application(
        teacher=teacher, intake=factories.make_intake(factories.make_program(code="DE")),
        status="submitted")
    files = with_files(other)
    queue_email(teacher.email, "application_submitted", locale="zh", application=other,
                intake=other.intake,
                program_title="Digital Economy", teacher_name="欧阳娜娜", link="http://x/")
    db.session.commit()
    return {"teacher": teacher, "coordinator": coordinator, "certificate": certificate,
            "other": other, "files": files}


def download(client, export_id: int) -> zipfile.ZipFile:
    response = client.get(f"/privacy/exports/{export_id}/download")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "no-store" in response.headers["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def ask(client) -> int:
    response = client.post("/privacy/export")
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_teacher_downloads_everything_the_portal_holds_about_them(client, nana):
    teacher = sign_in(client, nana["teacher"])
    profile_page = client.get("/profile").get_data(as_text=True)
    assert "Download a copy of my data" in profile_page

    export_id = ask(client)
    status = client.get(f"/privacy/exports/{export_id}")
    page = status.get_data(as_text=True)
    assert status.status_code == 200 and "The copy is ready" in page
    assert "data-refresh-seconds" not in page

    archive = download(client, export_id)
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["account"]["email"] == "nana@tsnu.edu.cn"
    for secret in ("password_hash", "session_token", "totp_secret", "calendar_token"):
        assert secret not in manifest["account"]
    assert manifest["profile"]["wechat_id"] == "nana_wx"
    assert manifest["profile"]["family_name_zh"] == "欧阳"
    assert {c["kind"] for c in manifest["consents"]} == {"processing", "transfer_abroad"}

    applications = {a["id"]: a for a in manifest["applications"]}
    other = applications[nana["other"].id]
    assert other["status"] == "submitted"
    assert other["motivation"].startswith("I teach economics")
    for described in other["documents"]:
        # named by kind and id, never by the name on the teacher's device
        assert described["file"] in names
        assert "original_filename" in described
        assert archive.read(described["file"]) == nana["files"][described["kind"]]
    completed = applications[nana["certificate"].application_id]
    assert completed["module_results"] and completed["final_assessments"]
    assert completed["history"] is not None

    [certificate] = manifest["certificates"]
    assert certificate["registry_number"] == nana["certificate"].registry_number
    issued_pdf = db.session.scalar(select(Certificate.pdf)
                                   .where(Certificate.id == nana["certificate"].id))
    assert archive.read(certificate["file"]) == issued_pdf
    assert certificate["snapshot"]["registry_number"] == certificate["registry_number"]

    subjects = [email["subject"] for email in manifest["emails"]]
    assert subjects and all(email["to_address"] == teacher.email for email in manifest["emails"])
    actions = {row["action"] for row in manifest["audit"]}
    assert "certificate.issued" in actions and "data_export.requested" in actions
    assert all("ip" not in row or row["actor"] == "you" for row in manifest["audit"])


def test_the_credential_is_in_the_copy_when_the_portal_signs_them(make_app, tmp_path):
    app = make_app(BASE_URL="http://127.0.0.1:8000")
    with app.app_context():
        coordinator = factories.make_user(role="coordinator")
        completed = make_completed(make_finished_intake(), **NANA)
        certificate = certificate_services.issue_certificate(completed, coordinator)
        client = app.test_client()
        sign_in(client, completed.teacher)
        archive = download(client, ask(client))
        [described] = json.loads(archive.read("manifest.json"))["certificates"]
        token = archive.read(described["credential_file"]).decode()
        assert token.count(".") == 2
        assert described["credential_file"] == f"certificates/{certificate.registry_number}.jwt"


def test_only_whoever_asked_may_download_and_only_for_a_while(client, app, nana):
    sign_in(client, nana["teacher"])
    export_id = ask(client)

    for intruder in (factories.make_teacher(), nana["coordinator"]):
        sign_in(client, intruder)
        assert client.get(f"/privacy/exports/{export_id}").status_code == 404
        assert client.get(f"/privacy/exports/{export_id}/download").status_code == 404

    sign_in(client, nana["teacher"])
    hours = app.config["DATA_EXPORT_VALID_HOURS"]
    export = db.session.get(DataExport, export_id)
    path = exports.path_of(export)
    assert path.is_file()
    with time_machine.travel(clock.now() + timedelta(hours=hours, minutes=1), tick=False):
        sign_in(client, nana["teacher"])  # a session lasts less than a copy's link
        gone = client.get(f"/privacy/exports/{export_id}/download")
        assert gone.status_code == 410
        assert "link has expired" in gone.get_data(as_text=True)
        assert steps.run_step(steps.STEPS_BY_NAME["privacy.purge_exports"], force=True)
        db.session.expire_all()
        assert db.session.get(DataExport, export_id).status is ExportStatus.EXPIRED
        assert not path.exists()
        assert client.get(f"/privacy/exports/{export_id}").status_code == 410


def test_a_coordinator_makes_a_copy_on_request_and_the_audit_says_why(client, nana):
    coordinator = sign_in(client, nana["coordinator"])
    page = client.get(f"/privacy/teachers/{nana['teacher'].id}")
    assert page.status_code == 200
    # the reason is required, and what was typed is kept
    refused = client.post(f"/privacy/teachers/{nana['teacher'].id}", data={"reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.get_data(as_text=True)
    made = client.post(f"/privacy/teachers/{nana['teacher'].id}",
                       data={"reason": "email of 3 December"})
    export_id = int(made.headers["Location"].rsplit("/", 1)[1])
    archive = download(client, export_id)
    assert json.loads(archive.read("manifest.json"))["account"]["id"] == nana["teacher"].id
    rows = {row.action: row for row in db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == coordinator.id))}
    assert rows["data_export.requested"].details["reason"] == "email of 3 December"
    assert rows["data_export.requested"].teacher_id == nana["teacher"].id
    assert "data_export.downloaded" in rows
    # the teacher cannot download the coordinator's copy, nor see it among theirs
    sign_in(client, nana["teacher"])
    assert client.get(f"/privacy/exports/{export_id}/download").status_code == 404
    assert f"/privacy/exports/{export_id}" not in client.get("/profile").get_data(as_text=True)
    # a teacher is not staff
    assert client.get(f"/privacy/teachers/{nana['teacher'].id}").status_code == 403


def test_the_requester_is_told_by_email_in_their_language(client, nana):
    nana["teacher"].locale = "zh"
    sign_in(client, nana["teacher"])
    ask(client)
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "data_export_ready"))
    assert message.to_address == "nana@tsnu.edu.cn"
    assert "/privacy/exports/" in message.body_text


def test_a_large_copy_is_built_in_the_background_with_progress(make_app, redis_url):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from course_portal.core.jobs import QUEUE_NAME

    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        connection = Redis.from_url(redis_url)
        Queue(QUEUE_NAME, connection=connection).empty()
        teacher = factories.make_teacher()
        for number in range(4):
            application = factories.make_application(
                teacher=teacher, intake=factories.make_intake(factories.make_program(
                    code=f"P{number}")), status="submitted")
            with_files(application)
        client = app.test_client()
        sign_in(client, teacher)
        export_id = ask(client)
        waiting = client.get(f"/privacy/exports/{export_id}").get_data(as_text=True)
        assert "The copy is being made" in waiting and 'data-refresh-seconds="3"' in waiting
        SimpleWorker([Queue(QUEUE_NAME, connection=connection)],
                     connection=connection).work(burst=True)
        db.session.expire_all()
        export = db.session.get(DataExport, export_id)
        assert export.status is ExportStatus.READY and export.progress == 100
        archive = download(client, export_id)
        assert len([n for n in archive.namelist() if n.startswith("documents/")]) == 12


def test_asking_twice_while_it_is_built_makes_one_copy(app, nana):
    first = exports.request_export(nana["teacher"], actor=nana["teacher"])
    second = exports.request_export(nana["teacher"], actor=nana["teacher"])
    assert first.id == second.id
    db.session.commit()
    assert exports.build_export(first.id) == "ready"
    assert exports.build_export(first.id) == "taken"
