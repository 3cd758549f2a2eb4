"""Exports of the filtered queue: CSV and XLSX rows, Chinese text, and no formula survives."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from course_portal.core.clock import portal_today
from course_portal.core.spreadsheets import FORMULA_TRIGGERS
from course_portal.enrollment.models import FundingSource
from tests import factories
from tests.queries import statements_sent

HOSTILE = {
    "family_name_zh": '=HYPERLINK("http://evil.example")',
    "given_name_latin": "+1+1",
    "name_ru": "-2",
    "department": "  =1+1",
    "position": "\t=cmd",
    "wechat_id": "@SUM(A1)",
}
HOSTILE_MOTIVATION = "@SUM(A1)"


@pytest.fixture
def staff(login_as):
    """A coordinator signed in on the test client."""
    return login_as("coordinator")


@pytest.fixture
def rows(db, intake):
    """欧阳娜娜 (submitted), a hostile teacher (waitlisted), and an approved one."""
    partner = factories.make_partner("Datong University")
    nana = factories.make_application(
        teacher=factories.make_teacher(
            partner, email="nana@dtu.edu.cn", family_name_zh="欧阳", given_name_zh="娜娜",
            family_name_latin="Ouyang", given_name_latin="Nana", name_ru="Оуян Нана",
            phone="+86 138 0013 8000", academic_title="professor",
        ),
        intake=intake, status="submitted", funding_source=FundingSource.MOE_CHINA,
        motivation="我想学习投资生态系统。\nSecond line, with a comma.",
    )
    hostile = factories.make_application(
        teacher=factories.make_teacher(partner, **HOSTILE), intake=intake, status="waitlisted",
        motivation=HOSTILE_MOTIVATION, funding_source=FundingSource.OTHER,
        funding_other="-10 yuan",
    )
    approved = factories.make_application(intake=intake, status="approved")
    db.session.commit()
    return {"nana": nana, "hostile": hostile, "approved": approved}


def _csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_of_the_filtered_queue(client, staff, rows):
    response = client.get("/review/export.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="applications-{portal_today().isoformat()}.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    table = _csv(response)
    header, body = table[0], table[1:]
    assert header[:4] == ["Application", "Status", "Submitted at (Europe/Moscow)",
                          "Name in Chinese characters"]
    assert header[-1] == "Motivation" and len(header) == 19
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in body}
    # needs a decision by default: the approved one is not there
    assert set(by_id) == {rows["nana"].id, rows["hostile"].id}
    nana = by_id[rows["nana"].id]
    assert nana["Name in Chinese characters"] == "欧阳娜娜"
    assert nana["Name in Russian"] == "Оуян Нана"
    assert nana["Partner university"] == "Datong University"
    assert nana["Academic title"] == "Professor"
    assert nana["Funding source"] == "Ministry of Education of China program"
    assert nana["Motivation"] == "我想学习投资生态系统。\nSecond line, with a comma."
    assert nana["Phone"] == "'+86 138 0013 8000"  # a leading + is a formula trigger too
    assert nana["Status"] == "Submitted"
    assert nana["Submitted at (Europe/Moscow)"][:4].isdigit()


def test_csv_export_neutralises_formulas(client, staff, rows):
    table = _csv(client.get("/review/export.csv"))
    header = table[0]
    hostile = next(dict(zip(header, row, strict=True)) for row in table[1:]
                   if int(row[0]) == rows["hostile"].id)
    assert hostile["Name in Chinese characters"].startswith("'=HYPERLINK(")
    assert hostile["Given name (Latin)"] == "'+1+1"
    assert hostile["Name in Russian"] == "'-2"
    assert hostile["Department"] == "'  =1+1"
    assert hostile["Position"] == "'\t=cmd"
    assert hostile["WeChat ID"] == "'@SUM(A1)"
    assert hostile["Motivation"] == "'@SUM(A1)"
    assert hostile["Funding: other"] == "'-10 yuan"
    for row in table:
        for cell in row:
            assert not cell.lstrip().startswith(FORMULA_TRIGGERS), cell


def test_exports_keep_the_filters_and_every_page(client, staff, db, program):
    intake = factories.make_intake(program, capacity=100)
    ids = {factories.make_application(intake=intake, status="submitted").id for _ in range(55)}
    factories.make_application(status="submitted")  # another program
    db.session.commit()

    table = _csv(client.get(f"/review/export.csv?program={program.id}"))
    assert {int(row[0]) for row in table[1:]} == ids

    workbook = load_workbook(io.BytesIO(
        client.get(f"/review/export.xlsx?program={program.id}").get_data()))
    sheet = workbook.active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == ids


def test_xlsx_export_has_the_rows_and_no_formula(client, staff, rows):
    response = client.get("/review/export.xlsx?status=all&sort=name")

    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="applications-{portal_today().isoformat()}.xlsx"'
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert cells, "the workbook is empty"
    assert [c for c in cells if c.data_type == "f"] == []

    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in values[1:]}
    assert set(by_id) == {rows["nana"].id, rows["hostile"].id, rows["approved"].id}
    assert by_id[rows["nana"].id]["Name in Chinese characters"] == "欧阳娜娜"
    assert by_id[rows["approved"].id]["Status"] == "Approved"
    assert by_id[rows["nana"].id]["Submitted at (Europe/Moscow)"].year >= 2024
    hostile = by_id[rows["hostile"].id]
    assert hostile["Name in Chinese characters"] == "'" + HOSTILE["family_name_zh"] + "小明"
    for name in ("Given name (Latin)", "Name in Russian", "Department", "Position", "WeChat ID",
                 "Motivation", "Funding: other"):
        assert hostile[name].startswith("'"), name
    assert hostile["Motivation"] == "'@SUM(A1)"


def test_exports_are_for_staff_only(client, login_as, rows):
    login_as("teacher")
    assert client.get("/review/export.csv").status_code == 403
    assert client.get("/review/export.xlsx").status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_costs_the_same_queries_for_3_and_40_applications(client, staff, db, intake,
                                                                   fmt):
    """Each row's motivation comes with the rows, not one query per row."""
    def apply(count: int) -> None:
        for n in range(count):
            factories.make_application(intake=intake, status="submitted",
                                       motivation=f"动机 {n} " * 50)
        db.session.commit()

    def queries() -> int:
        with statements_sent() as statements:
            assert client.get(f"/review/export.{fmt}").status_code == 200
        return len(statements)

    apply(3)
    few = queries()
    apply(37)
    many = queries()

    assert many == few
    rows = _csv(client.get("/review/export.csv"))[1:]
    assert len(rows) == 40 and all(row[-1].startswith("动机") for row in rows)
