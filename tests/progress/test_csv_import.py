"""CSV import: the template, a preview with a report per row, and hostile files."""

from __future__ import annotations

import io

import pytest

from course_portal.progress import csv_import
from course_portal.progress.errors import ProgressError
from course_portal.progress.grid import load_roster
from course_portal.progress.models import ModuleResult, ResultChange
from course_portal.progress.services import eligibility
from tests import factories

HEADER = "application,family_name,given_name,name_zh,m1_hours,m1_result,m2_hours,m2_result," \
         "m3_hours,m3_result,final_result"


def _line(application, hours=(8, 12, 20), result="passed", final="passed", name="Chen"):
    cells = [str(application.id), name, "Li", "陈丽"]
    for h in hours:
        cells += [str(h), result]
    return ",".join([*cells, final])


def _check(intake, text, actor=None):
    return csv_import.check(load_roster(intake), text, actor)


def test_the_template_has_a_row_per_enrolled_teacher(db, intake, enrolled):
    text = csv_import.template_csv(load_roster(intake))

    assert text.startswith("\ufeff" + HEADER + "\r\n")
    assert len(text.strip().splitlines()) == 4
    assert f"\r\n{enrolled[0].id},Chen,Li,王小明,0,pending," in text
    assert ",pending," in text


def test_a_formula_in_a_name_is_exported_as_text(db, intake):
    teacher = factories.make_teacher(family_name_latin="=HYPERLINK(\"http://x\")")
    factories.make_application(teacher=teacher, intake=intake, status="enrolled")

    text = csv_import.template_csv(load_roster(intake))

    assert "'=HYPERLINK" in text


def test_a_name_is_written_by_the_one_spreadsheet_rule(db, intake):
    """Leading whitespace does not hide a formula; a control character becomes U+FFFD."""
    teacher = factories.make_teacher(family_name_latin="  =HYPERLINK(1)",
                                     given_name_latin="Li\x07")
    application = factories.make_application(teacher=teacher, intake=intake, status="enrolled")

    text = csv_import.template_csv(load_roster(intake))

    assert f"\r\n{application.id},'  =HYPERLINK(1),Li\ufffd," in text


def test_a_good_file_previews_then_imports(db, intake, enrolled, coordinator):
    text = "\n".join([HEADER, _line(enrolled[0]), _line(enrolled[1], hours=(8, 0, 0))])

    preview = _check(intake, text, coordinator)

    assert preview.ok
    assert [row.changes for row in preview.rows] == [7, 5]
    assert db.session.query(ModuleResult).count() == 0

    outcome = csv_import.import_csv(load_roster(intake), text, coordinator, stamp=None)

    assert outcome.changed == 12
    assert eligibility(enrolled[0]).eligible
    assert {c.source for c in db.session.query(ResultChange)} == {"csv"}


def test_every_bad_row_is_reported_and_nothing_is_written(db, intake, enrolled, coordinator):
    text = "\n".join([
        HEADER,
        _line(enrolled[0], hours=(9, 12, 20)),
        _line(enrolled[1], result="excellent"),
        _line(enrolled[0]),
        "424242,X,Y,Z,1,passed,1,passed,1,passed,passed",
        "abc,too,few",
        _line(enrolled[2], hours=("=1+1", "-3", "12")),
    ])

    preview = _check(intake, text, coordinator)

    assert not preview.ok
    errors = {row.line: [str(e) for e in row.errors] for row in preview.rows}
    assert errors[2] == ["m1_hours: At most 8 hours: the module has 8."]
    assert errors[3][0] == "m1_result: Choose passed, failed or not yet."
    assert errors[4] == ["This teacher is already on line 2."]
    assert errors[5] == ["No enrolled teacher of this intake has the application number "
                         "“424242”."]
    assert errors[6] == ["This row has 3 cells; the first row names 11."]
    assert errors[7] == ["m1_hours: Enter a whole number of hours.",
                         "m2_hours: Hours cannot be negative."]
    with pytest.raises(ProgressError):
        csv_import.import_csv(load_roster(intake), text, coordinator, stamp=None)
    assert db.session.query(ModuleResult).count() == 0


def test_cell_errors_name_the_column(db, intake, enrolled, coordinator):
    text = "\n".join([HEADER, _line(enrolled[0], hours=(9, 12, 20)),
                      _line(enrolled[1], result="excellent"),
                      _line(enrolled[2], hours=("=1+1", "-3", "12"))])

    preview = _check(intake, text, coordinator)

    errors = {row.line: [str(e) for e in row.errors] for row in preview.rows}
    assert errors[2] == ["m1_hours: At most 8 hours: the module has 8."]
    assert len(errors[3]) == 3 and errors[3][0] == "m1_result: Choose passed, failed or not yet."
    assert errors[4] == ["m1_hours: Enter a whole number of hours.",
                         "m2_hours: Hours cannot be negative."]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_spreadsheet_encodings_are_read(db, intake, enrolled, encoding):
    text = "\n".join([HEADER, _line(enrolled[0], name="陈")])

    decoded = csv_import.decode(text.encode(encoding))

    assert decoded == text
    assert _check(intake, decoded).ok


def test_semicolons_from_a_russian_excel_are_read(db, intake, enrolled):
    text = "\n".join([HEADER.replace(",", ";"), _line(enrolled[0]).replace(",", ";")])

    assert _check(intake, text).ok


def test_nul_bytes_are_refused(db):
    with pytest.raises(ProgressError, match="NUL"):
        csv_import.decode(b"application\x00,m1_hours\n1,2\n")


def test_a_file_in_no_known_encoding_is_refused(db):
    with pytest.raises(ProgressError, match="CSV UTF-8"):
        csv_import.decode(b"\x81\x30\x81")


def test_ten_thousand_character_cells_are_refused_and_shown_short(db, intake, enrolled):
    essay = "A" * 10_000
    text = "\n".join([HEADER, _line(enrolled[0], name=essay).replace(",8,", f",{'9' * 10_000},")])

    preview = _check(intake, text)

    [row] = preview.rows
    assert [str(e) for e in row.errors] == ["m1_hours: Enter a whole number of hours."]
    assert len(row.name) < 100


def test_a_file_without_the_header_is_refused(db, intake, enrolled):
    preview = _check(intake, _line(enrolled[0]))

    assert not preview.ok
    assert "must name the columns" in str(preview.problems[0])


def test_a_column_for_a_module_the_program_lacks_is_refused(db, intake, enrolled):
    preview = _check(intake, "application,m9_hours\n" + f"{enrolled[0].id},3")

    assert "names a module the program does not have" in str(preview.problems[0])


def test_the_pages_preview_then_import(client, db, login_as, intake, enrolled):
    login_as("coordinator")
    text = "\ufeff" + "\n".join([HEADER, _line(enrolled[0])])

    page = client.get(f"/progress/manage/intakes/{intake.id}/roster.csv")
    assert page.mimetype == "text/csv" and "attachment" in page.headers["Content-Disposition"]
    response = client.post(f"/progress/manage/intakes/{intake.id}/roster/import", data={
        "file": (io.BytesIO(text.encode("utf-8")), "roster.csv")},
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "The file is right: 7 changes will be saved." in html
    assert db.session.query(ModuleResult).count() == 0

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster/import/confirm",
                           data={"content": text.lstrip("\ufeff"), "stamp": "0"},
                           follow_redirects=True)

    assert "The file is imported: 7 changes." in response.get_data(as_text=True)
    assert eligibility(enrolled[0]).eligible


def test_the_page_shows_hostile_names_escaped(client, db, login_as, intake, enrolled):
    login_as("coordinator")
    text = "\n".join([HEADER, _line(enrolled[0], name="<script>alert(1)</script>")])

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster/import", data={
        "file": (io.BytesIO(text.encode("utf-8")), "roster.csv")},
        content_type="multipart/form-data")

    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_a_file_too_large_is_refused_before_reading(client, db, login_as, intake):
    login_as("coordinator")
    big = ("application\n" + "1\n" * 150_000).encode()

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster/import", data={
        "file": (io.BytesIO(big), "roster.csv")}, content_type="multipart/form-data")

    assert "The file is larger than 200 kB" in response.get_data(as_text=True)
