"""The application-status and partner reports, as pages and as CSV, XLSX and PDF."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from course_portal.dashboard import reports
from tests import factories
from tests.dashboard.helpers import make_data_set


def test_status_report_counts_by_intake_and_status(app, db):
    data = make_data_set()
    report = reports.status_report()
    header = report.headers
    rows = {row[1]: dict(zip(header, row, strict=True)) for row in report.rows}
    assert rows[data.finished.title]["Completed"] == 2
    assert rows[data.finished.title]["Not completed"] == 1
    assert rows[data.upcoming.title]["Submitted"] == 2
    assert rows[data.upcoming.title]["Total"] == 4
    assert report.totals[-1] == 7


def test_partner_report_has_hours_and_certificate_numbers(app, db):
    from course_portal.certificates.models import Certificate

    data = make_data_set()
    completed = [a for a in data_apps(data.finished) if a.status == "completed"][0]
    db.session.add(Certificate(
        registry_number="IE-2026-0001", program_id=data.finished.program_id, year=2026,
        sequence=1, verification_code="x" * 32, application_id=completed.id,
        snapshot={}, pdf=b"%PDF", pdf_sha256="0" * 64, pdf_size=4))
    db.session.commit()
    report = reports.partner_report(data.tianshui)
    assert len(report.rows) == 4
    row = next(r for r in report.rows if r[-1] == "IE-2026-0001")
    assert row[6:8] == [72, 72]
    assert "Datong" not in str(report.rows)


def data_apps(intake):
    from tests.dashboard.helpers import finished_apps

    return finished_apps(intake)


def _formula_teacher(db):
    partner = factories.make_partner(name_en="Harbin Cambridge University")
    intake = factories.make_intake(factories.make_program(code="FX"), title="=HYPERLINK(1)")
    teacher = factories.make_teacher(partner=partner, family_name_latin="+Evil",
                                     given_name_latin="-Name", email="at@example.com")
    factories.make_application(teacher=teacher, intake=intake, status="submitted")
    db.session.commit()
    return partner


def test_csv_and_xlsx_neutralise_formulas(client, login_as, db):
    partner = _formula_teacher(db)
    login_as("coordinator")
    response = client.get(f"/dashboard/reports/partners/{partner.id}.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][1] == "'+EVIL -Name"
    assert rows[1][4] == "'=HYPERLINK(1)"
    response = client.get("/dashboard/reports/status.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(1)" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    response = client.get(f"/dashboard/reports/partners/{partner.id}.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.cell(row=2, column=2).value == "'+EVIL -Name"


def test_pdf_opens_and_holds_the_chinese_name(client, login_as, db):
    from pypdf import PdfReader

    data = make_data_set()
    login_as("coordinator")
    response = client.get(f"/dashboard/reports/partners/{data.tianshui.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "欧阳娜娜" in text
    assert "OUYANG Nana" in text
    status = client.get("/dashboard/reports/status.pdf")
    assert "Spring 2026" in PdfReader(io.BytesIO(status.data)).pages[0].extract_text()


def test_report_pages(client, login_as, db):
    data = make_data_set()
    login_as("coordinator")
    html = client.get("/dashboard/reports").get_data(as_text=True)
    assert "Application-status report" in html
    assert f"/dashboard/reports/partners/{data.datong.id}" in html
    html = client.get(f"/dashboard/reports/partners/{data.tianshui.id}").get_data(as_text=True)
    assert "欧阳娜娜" in html
    assert client.get("/dashboard/reports/partners/999999").status_code == 404
