"""The commands: flask certificates issue, export-registry and pdf; the batch job itself."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from course_portal.certificates import jobs, pdfs, services
from course_portal.certificates.models import BatchStatus, IssueBatch
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import certificates, make_completed, make_finished_intake


def test_issue_an_intake_from_the_command_line(app):
    intake = make_finished_intake()
    for _ in range(3):
        make_completed(intake)
    make_completed(intake, passed=False)
    coordinator = factories.make_user(role="coordinator", email="coord@example.com")
    db.session.commit()

    result = app.test_cli_runner().invoke(
        args=["certificates", "issue", "--intake", str(intake.id), "--as", "coord@example.com"])

    assert result.exit_code == 0, result.output
    assert "3 issued, 0 with a problem" in result.output
    db.session.expire_all()
    issued = certificates()
    assert [c.sequence for c in issued] == [1, 2, 3]
    assert {c.issued_by_id for c in issued} == {coordinator.id}

    again = app.test_cli_runner().invoke(args=["certificates", "issue", "--intake",
                                               str(intake.id)])
    assert "0 issued" in again.output


def test_issue_refuses_an_unknown_intake_or_a_non_coordinator(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["certificates", "issue", "--intake", "999"]).exit_code != 0
    intake = make_finished_intake()
    factories.make_user(email="t@example.com")
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue", "--intake", str(intake.id),
                                 "--as", "t@example.com"])
    assert result.exit_code != 0 and "not a coordinator" in result.output


def test_export_registry_and_pdf(app, tmp_path):
    coordinator = factories.make_user(role="coordinator")
    certificate = services.issue_certificate(make_completed(make_finished_intake()), coordinator)
    db.session.commit()
    runner = app.test_cli_runner()

    out = tmp_path / "registry.csv"
    result = runner.invoke(args=["certificates", "export-registry", "-o", str(out)])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert row["Registry number"] == certificate.registry_number
    assert row["Verification code"] == certificate.verification_code
    assert row["Status code"] == "issued"
    assert row["PDF SHA-256"] == certificate.pdf_sha256

    pdf = tmp_path / "c.pdf"
    result = runner.invoke(args=["certificates", "pdf", certificate.registry_number.lower(),
                                 "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes() == certificate.pdf
    assert runner.invoke(args=["certificates", "pdf", "IE-1999-0001", "-o",
                               str(pdf)]).exit_code != 0


def test_a_batch_records_progress_and_problems(app, monkeypatch):
    intake = make_finished_intake()
    for name in ("Ann", "Bob", "Cat"):
        make_completed(intake, given_name_latin=name)
    coordinator = factories.make_user(role="coordinator")
    batch = jobs.start_batch(intake, coordinator)
    db.session.commit()
    seen = []
    render = pdfs.render_certificate

    def render_and_watch(snapshot, url, images=None):
        seen.append(db.session.scalar(db.select(IssueBatch.processed)))
        if snapshot.name_latin.endswith("Bob"):
            raise services.CertificateError("Rendering stopped: injected")
        return render(snapshot, url, images)

    monkeypatch.setattr(pdfs, "render_certificate", render_and_watch)
    jobs.run_batch(batch.id)

    db.session.expire_all()
    batch = db.session.get(IssueBatch, batch.id)
    # Bob's certificate has its number, and the page says its PDF is still to be made
    assert (batch.status, batch.total, batch.processed, batch.issued) == (
        BatchStatus.DONE, 3, 3, 3)
    assert len(batch.problems) == 1 and "Bob" in batch.problems[0]
    assert "PDF could not be made yet" in batch.problems[0]
    assert seen == [0, 1, 2]  # progress saved after each certificate
    assert [c.sequence for c in certificates()] == [1, 2, 3]
    assert [c.pdf_size > 0 for c in certificates()] == [True, False, True]


@pytest.mark.redis
def test_bulk_issuing_on_redis_waits_for_the_worker(make_app, redis_url, tmp_path):
    from rq import Queue

    from course_portal import ROOT
    from course_portal.core.jobs import QUEUE_NAME, redis_connection

    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        Queue(QUEUE_NAME, connection=redis_connection()).empty()
        intake = make_finished_intake()
        for _ in range(2):
            make_completed(intake)
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        intake_id, user_id = intake.id, coordinator.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id

    response = client.post(f"/certificates/manage/intakes/{intake_id}/issue-all")
    waiting = client.get(response.headers["Location"])
    assert waiting.headers["Refresh"] == "2"  # queued: the page reloads itself
    assert "Waiting to start" in waiting.get_data(as_text=True)

    settings = {"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "worker"),
                "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": redis_url,
                "OUTBOX_DISPATCH": "off",
                # the test app's key, so the worker opens the staff's two-step secrets
                "ENCRYPTION_KEYS": json.dumps(app.config["ENCRYPTION_KEYS"])}
    env = {**os.environ, **{f"COURSE_PORTAL_{k}": v for k, v in settings.items()}}
    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker", "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert worker.returncode == 0, worker.stderr

    done = client.get(response.headers["Location"])
    assert "Refresh" not in done.headers
    assert "2 certificates issued" in done.get_data(as_text=True)
    with app.app_context():
        assert [c.sequence for c in certificates()] == [1, 2]


def test_issue_from_the_command_line_refuses_before_the_last_day_and_says_why(app):
    from datetime import timedelta

    from course_portal.core.clock import portal_today

    intake = make_finished_intake()
    intake.ends_on = portal_today() + timedelta(days=3)
    make_completed(intake)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["certificates", "issue", "--intake",
                                                str(intake.id)])

    assert result.exit_code != 0
    assert "can be issued from that day" in result.output
    assert certificates() == []


def test_export_frdo_writes_the_period_as_the_registers_template(app, tmp_path):
    from openpyxl import load_workbook

    from course_portal.certificates import services
    from course_portal.certificates.frdo import FRDO_COLUMNS
    from course_portal.core.clock import portal_today

    intake = make_finished_intake()
    certificate = services.issue_certificate(make_completed(intake), None)
    db.session.commit()
    output = tmp_path / "frdo.xlsx"
    today = portal_today().isoformat()

    result = app.test_cli_runner().invoke(args=[
        "certificates", "export-frdo", "--from", today, "--to", today, "-o", str(output)])

    assert result.exit_code == 0, result.output
    assert "wrote 1 certificates" in result.output
    sheet = load_workbook(output).active
    header = [cell.value for cell in sheet[1]]
    assert header == [name for name, _ in FRDO_COLUMNS]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert row["Регистрационный номер"] == certificate.registry_number
    assert row["Фамилия получателя"] == "Ван" and row["Имя получателя"] == "Сяомин"
    assert row["Срок обучения, часов (для документа о квалификации)"] == 72
    backwards = app.test_cli_runner().invoke(args=[
        "certificates", "export-frdo", "--from", today, "--to", "2000-01-01", "-o", str(output)])
    assert backwards.exit_code != 0 and "before" in backwards.output
