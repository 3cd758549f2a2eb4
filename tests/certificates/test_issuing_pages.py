"""The certificate pages: issue, revoke, re-issue, downloads, ZIP, merged PDF, registry exports."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from course_portal.certificates import services
from course_portal.certificates.models import BatchStatus, CertificateStatus, IssueBatch
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import certificates, make_completed, make_finished_intake

C = CertificateStatus


@pytest.fixture
def intake(db):
    return make_finished_intake()


def _issue(application, coordinator=None):
    coordinator = coordinator or factories.make_user(role="coordinator")
    certificate = services.issue_certificate(application, coordinator)
    db.session.commit()
    return certificate


# --- the teacher ------------------------------------------------------------------------------


def test_the_teacher_downloads_their_own_with_a_readable_chinese_file_name(
        client, login_as, intake):
    teacher = login_as("teacher", family_name_zh="欧阳", given_name_zh="娜娜",
                       family_name_latin="Ouyang", given_name_latin="Nana")
    certificate = _issue(make_completed(intake, teacher=teacher))

    page = client.get("/certificates").get_data(as_text=True)
    assert certificate.registry_number in page and "Download PDF" in page

    response = client.get(f"/certificates/{certificate.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == certificate.pdf
    disposition = response.headers["Content-Disposition"]
    readable = f"{certificate.registry_number} 欧阳娜娜 OUYANG Nana.pdf"
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(readable)}" in disposition
    assert "filename=" in disposition.replace("filename*=", "")  # an ASCII fallback too


def test_another_teacher_gets_404(client, login_as, intake):
    certificate = _issue(make_completed(intake))
    login_as("teacher")
    assert client.get(f"/certificates/{certificate.id}/pdf").status_code == 404
    assert certificate.registry_number not in client.get("/certificates").get_data(as_text=True)


def test_teachers_cannot_open_the_coordinator_pages(client, login_as, intake):
    certificate = _issue(make_completed(intake))
    login_as("teacher")
    for url in ("/certificates/manage", f"/certificates/manage/intakes/{intake.id}",
                f"/certificates/manage/certificates/{certificate.id}",
                "/certificates/manage/registry.csv"):
        assert client.get(url).status_code == 403, url


# --- the coordinator --------------------------------------------------------------------------


def test_the_coordinator_issues_one_from_the_intake_page(client, login_as, intake):
    coordinator = login_as("coordinator")
    ready = make_completed(intake, family_name_latin="Li", given_name_latin="Wei")
    make_completed(intake, passed=False, family_name_latin="Zhao", given_name_latin="Lei")
    db.session.commit()

    page = client.get(f"/certificates/manage/intakes/{intake.id}").get_data(as_text=True)
    assert "LI Wei" in page and "ZHAO Lei" in page
    assert "final assessment not taken yet" in page

    response = client.post(f"/certificates/manage/applications/{ready.id}/issue",
                           follow_redirects=True)
    assert response.status_code == 200
    [certificate] = certificates()
    assert certificate.issued_by_id == coordinator.id
    assert f"Certificate {certificate.registry_number} issued." in response.get_data(as_text=True)


def test_a_refusal_is_flashed_and_nothing_is_issued(client, login_as, intake):
    login_as("coordinator")
    application = make_completed(intake, family_name_zh="\U0002a6d6")
    db.session.commit()
    response = client.post(f"/certificates/manage/applications/{application.id}/issue",
                           follow_redirects=True)
    assert "U+2A6D6" in response.get_data(as_text=True)
    assert certificates() == []


def test_revoke_and_reissue_through_the_pages(client, login_as, intake):
    coordinator = login_as("coordinator")
    first = _issue(make_completed(intake), coordinator)
    second = _issue(make_completed(intake), coordinator)
    url = f"/certificates/manage/certificates/{first.id}"

    assert "Revoke certificate" in client.get(url).get_data(as_text=True)
    empty = client.post(url + "/revoke", data={"revoke-reason": ""})
    assert empty.status_code == 400
    client.post(url + "/revoke", data={"revoke-reason": "Issued to the wrong person"})
    client.post(f"/certificates/manage/certificates/{second.id}/reissue",
                data={"reissue-reason": "Name corrected"})

    db.session.expire_all()
    statuses = [(c.registry_number, c.status) for c in certificates()]
    assert [s for _, s in statuses] == [C.REVOKED, C.SUPERSEDED, C.ISSUED]
    assert certificates()[2].replaces_id == second.id


def test_zip_and_merged_pdf_of_an_intake(client, login_as, intake):
    coordinator = login_as("coordinator")
    names = [("李", "伟", "Li", "Wei"), ("王", "芳", "Wang", "Fang"), ("张", "敏", "Zhang", "Min")]
    issued = [_issue(make_completed(intake, family_name_zh=a, given_name_zh=b,
                                    family_name_latin=c, given_name_latin=d), coordinator)
              for a, b, c, d in names]
    services.revoke(issued[2], coordinator, "Duplicate")
    db.session.commit()

    response = client.get(f"/certificates/manage/intakes/{intake.id}/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted([
        f"{issued[0].registry_number} 李伟 LI Wei.pdf",
        f"{issued[1].registry_number} 王芳 WANG Fang.pdf",
    ])
    assert archive.read(f"{issued[0].registry_number} 李伟 LI Wei.pdf") == issued[0].pdf

    merged = client.get(f"/certificates/manage/intakes/{intake.id}/certificates.pdf")
    assert merged.status_code == 200
    reader = PdfReader(io.BytesIO(merged.data))
    assert len(reader.pages) == 2
    assert "WANG Fang" in reader.pages[1].extract_text()


def test_registry_exports_list_every_certificate_with_formulas_neutralised(
        client, login_as, intake):
    coordinator = login_as("coordinator")
    partner = factories.make_partner(name_en="=HYPERLINK(\"http://evil\")")
    sly = _issue(make_completed(intake, partner=partner), coordinator)
    other = _issue(make_completed(intake), coordinator)
    services.revoke(other, coordinator, "@SUM(1+1) wrong")
    db.session.commit()

    response = client.get("/certificates/manage/registry.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["Registry number"] for r in rows] == [sly.registry_number, other.registry_number]
    assert [r["Status code"] for r in rows] == ["issued", "revoked"]
    assert rows[0]["Verification code"] == sly.verification_code
    assert rows[0]["PDF SHA-256"] == sly.pdf_sha256
    assert rows[0]["Partner university"].startswith("'=")
    assert rows[1]["Reason for revocation"].startswith("'@")

    workbook = load_workbook(io.BytesIO(client.get("/certificates/manage/registry.xlsx").data))
    sheet = workbook.active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][0] == sly.registry_number
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_bulk_issuing_runs_as_a_job_and_shows_its_progress(client, login_as, intake):
    login_as("coordinator")
    for _ in range(3):
        make_completed(intake)
    make_completed(intake, passed=False)
    db.session.commit()

    page = client.get(f"/certificates/manage/intakes/{intake.id}").get_data(as_text=True)
    assert "Issue all 3 eligible certificates" in page
    response = client.post(f"/certificates/manage/intakes/{intake.id}/issue-all")
    assert response.status_code == 302
    batch_page = client.get(response.headers["Location"])
    assert "Refresh" not in batch_page.headers  # no Redis: the job ran in place, finished

    batch = db.session.scalar(db.select(IssueBatch))
    assert (batch.status, batch.total, batch.processed, batch.issued) == (
        BatchStatus.DONE, 3, 3, 3)
    assert "<progress" in batch_page.get_data(as_text=True)
    assert len([c for c in certificates() if c.status == C.ISSUED]) == 3


def test_the_registry_page_and_the_index(client, login_as, intake):
    coordinator = login_as("coordinator")
    certificate = _issue(make_completed(intake), coordinator)
    assert certificate.registry_number in client.get(
        "/certificates/manage/registry").get_data(as_text=True)
    assert intake.title in client.get("/certificates/manage").get_data(as_text=True)


def test_issuing_needs_the_forms_csrf_token(make_app, intake):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    coordinator = factories.make_user(role="coordinator")
    application = make_completed(intake)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = coordinator.get_id()

    refused = client.post(f"/certificates/manage/applications/{application.id}/issue",
                          follow_redirects=True)
    assert "This form had expired" in refused.get_data(as_text=True)
    assert certificates() == []

    page = client.get(f"/certificates/manage/intakes/{intake.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/certificates/manage/applications/{application.id}/issue",
                data={"csrf_token": token})
    assert len(certificates()) == 1


def test_a_batch_that_cannot_be_queued_is_marked_failed(client, login_as, intake, monkeypatch):
    from course_portal.certificates import jobs

    login_as("coordinator")
    make_completed(intake)
    db.session.commit()

    def unreachable(batch):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(jobs, "enqueue_batch", unreachable)
    response = client.post(f"/certificates/manage/intakes/{intake.id}/issue-all",
                           follow_redirects=True)
    assert "could not be started" in response.get_data(as_text=True)
    assert "Refresh" not in response.headers
    assert db.session.scalar(db.select(IssueBatch.status)) == BatchStatus.FAILED
