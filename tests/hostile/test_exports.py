"""Spreadsheet formulas in every text a CSV or XLSX export carries reach the file neutralised.

The rows are written directly, as an older version, the command line or an import might have
left them: an export must be safe whatever the database holds, not only what today's forms let
through. A cell that starts with = + - @ (or a tab or CR before them) is a formula to Excel
and LibreOffice; every such cell must start with a quote instead.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from course_portal.core import audit
from course_portal.core.clock import portal_today
from course_portal.enrollment.models import FundingSource
from course_portal.extensions import db
from tests import factories
from tests.hostile.conftest import sign_in
from tests.hostile.payloads import FORMULA_TRIGGERS, FORMULAS

#: a plain number may start with "-" without being a formula
NUMBER = re.compile(r"^-?[0-9]+([.,][0-9]+)?$")
#: the text every data set below carries somewhere, to prove the rows reached the file
MARKER = "HYPERLINK"


@dataclass
class Data:
    coordinator: object
    liaison: object
    partner: object
    intake: object
    finished: object


@pytest.fixture(scope="module")
def data(hostile_app) -> Data:
    """Every text column that an export carries holds a formula, in each of its forms."""
    from course_portal.certificates import services as certificates
    from tests.certificates.helpers import make_completed, make_finished_intake

    coordinator = factories.make_user(role="coordinator", display_name=FORMULAS[0])
    partner = factories.make_partner(name_en=FORMULAS[0], name_zh=FORMULAS[1],
                                     name_ru=FORMULAS[2])
    program = factories.make_program(code="FX", title_en=FORMULAS[0], title_zh=FORMULAS[1],
                                     title_ru=FORMULAS[2])
    intake = factories.make_intake(program, title=FORMULAS[3])
    for formula in FORMULAS:
        teacher = factories.make_teacher(
            partner=partner, family_name_latin=formula, given_name_latin=formula,
            family_name_zh=formula, given_name_zh=formula, department=formula,
            position=formula, phone=formula[:40], wechat_id=formula[:40],
        )
        factories.make_application(
            teacher=teacher, intake=intake, status="rejected", motivation=formula,
            funding_source=FundingSource.OTHER, funding_other=formula, reason=formula)
    finished = make_finished_intake(code="FY", title=FORMULAS[0])
    # a certificate needs a name a font prints: one teacher with printable formulas
    completed = make_completed(finished, partner=partner, family_name_latin=FORMULAS[0],
                               given_name_latin=FORMULAS[2], family_name_zh="王",
                               given_name_zh="小明", name_ru=FORMULAS[0])
    certificate = certificates.issue_certificate(completed, coordinator)
    certificates.revoke(certificate, coordinator, FORMULAS[0])
    enrolled = factories.make_application(
        teacher=factories.make_teacher(partner=partner, family_name_latin=FORMULAS[3],
                                       given_name_latin=FORMULAS[4], family_name_zh=FORMULAS[5],
                                       given_name_zh=FORMULAS[1]),
        intake=finished, status="enrolled")
    for formula in FORMULAS:
        audit.record("email.bulk_sent", actor=coordinator, teacher=enrolled.teacher_id,
                     subject=formula, count=1, audience=formula)
    liaison = factories.make_user(role="partner_liaison", partner_university_id=partner.id)
    db.session.commit()
    return Data(coordinator, liaison, partner, intake, finished)


def _exports(data: Data) -> dict[str, list[str]]:
    """Every spreadsheet export by endpoint, with the addresses that download it."""
    return {
        "enrollment.review_export_csv": ["/review/export.csv?status=all"],
        "enrollment.review_export_xlsx": ["/review/export.xlsx?status=all"],
        "dashboard.status_report_file": ["/dashboard/reports/status.csv",
                                         "/dashboard/reports/status.xlsx"],
        "dashboard.partner_report_file": [f"/dashboard/reports/partners/{data.partner.id}.csv",
                                          f"/dashboard/reports/partners/{data.partner.id}.xlsx"],
        "certificates.registry_csv": ["/certificates/manage/registry.csv"],
        "certificates.registry_xlsx": ["/certificates/manage/registry.xlsx"],
        "certificates.frdo_xlsx": ["/certificates/manage/registry/frdo.xlsx?start=2000-01-01"
                                   f"&end={portal_today().isoformat()}"],
        "dashboard.audit_csv": ["/dashboard/audit.csv"],
        "progress.roster_template": [f"/progress/manage/intakes/{data.finished.id}/roster.csv"],
        "partners.export": ["/partner/teachers.csv", "/partner/teachers.xlsx"],
    }


#: every endpoint that answers with a spreadsheet; a new one must join _exports()
EXPORT_ENDPOINTS = (
    "enrollment.review_export_csv", "enrollment.review_export_xlsx",
    "dashboard.status_report_file", "dashboard.partner_report_file",
    "certificates.registry_csv", "certificates.registry_xlsx", "certificates.frdo_xlsx",
    "dashboard.audit_csv",
    "progress.roster_template", "partners.export",
)
#: exports for a partner university's liaison; the others are the coordinators'
LIAISON_EXPORTS = ("partners.export",)


def _cells(path: str, body: bytes) -> list[str]:
    """Every text cell of a CSV or XLSX file; a formula cell of an XLSX comes back as '=…'."""
    if ".xlsx" in path:
        workbook = load_workbook(io.BytesIO(body))
        cells = []
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cells.append("=" + str(cell.value).lstrip("="))
                    elif isinstance(cell.value, str):
                        cells.append(cell.value)
        return cells
    text = body.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _formulas(cells: list[str]) -> list[str]:
    return [cell for cell in cells
            if cell.lstrip().startswith(FORMULA_TRIGGERS) and not NUMBER.match(cell.strip())
            or cell.startswith(("\t", "\r"))]


@pytest.mark.parametrize("endpoint", EXPORT_ENDPOINTS)
def test_export_neutralises_formulas(hostile_app, data, endpoint):
    """Each file holds the formulas typed in, each one quoted so that it stays text."""
    web = hostile_app.test_client()
    sign_in(web, data.liaison if endpoint in LIAISON_EXPORTS else data.coordinator)
    for path in _exports(data)[endpoint]:
        response = web.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:500])
        cells = _cells(path, response.get_data())
        assert any(MARKER in cell for cell in cells), f"{path}: the data did not reach the file"
        live = _formulas(cells)
        assert not live, f"{path}: cells a spreadsheet would run: {live[:5]}"


def test_every_export_is_checked(hostile_app):
    """A new CSV or XLSX download fails here until it joins the export test."""
    spreadsheet = re.compile(r"\.(csv|xlsx)\b|csv, xlsx")
    found = {rule.endpoint for rule in hostile_app.url_map.iter_rules()
             if spreadsheet.search(rule.rule)}
    missing = sorted(found - set(EXPORT_ENDPOINTS))
    assert not missing, f"exports without a formula test: {missing}"
