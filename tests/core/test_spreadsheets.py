"""The spreadsheet rules: formulas quoted, characters XLSX cannot hold replaced, CSV = XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from course_portal.core import spreadsheets
from course_portal.core.spreadsheets import (
    BOM,
    CsvWriter,
    cell_value,
    clean,
    csv_chunks,
    csv_text,
    neutralise,
    unquote,
    xlsx_bytes,
)

FORMULAS = ['=HYPERLINK("http://evil.example")', "+1+1", "-2", "@SUM(A1)", "=1", "+", "-", "@"]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("before", [
    "", " ", "   ", "\t", "\r", "\n", "\r\n", " \t ", "\u3000", "\u00a0", "\u2003", "\u2028",
])
def test_a_formula_after_any_leading_whitespace_is_quoted(formula, before):
    value = before + formula
    assert neutralise(value) == "'" + value
    assert cell_value(value) == "'" + value


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@"])
def test_each_trigger_is_a_formula(trigger):
    assert neutralise(trigger + "A1") == "'" + trigger + "A1"


@pytest.mark.parametrize("value", ["\tplain", "\rplain", "\t", "\r"])
def test_a_tab_or_cr_at_the_very_start_is_quoted(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [
    "欧阳娜娜", "王小明", "Оуян Нана", "Иванов-Петров", "a=b", "1+1", "mail@example.edu.cn",
    "'=already quoted", "", " ", "plain\ttab inside", "line\nbreak inside", "＝全角",
])
def test_other_text_is_untouched(value):
    assert neutralise(value) == value
    assert cell_value(value) == value


@pytest.mark.parametrize("value", [
    -2, 0, 12, -2.5, 3.75, Decimal("-1.5"), True, None, date(2026, 3, 30),
    datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
])
def test_numbers_and_dates_pass_as_they_are(value):
    assert neutralise(value) is value
    assert cell_value(value) is value


@pytest.mark.parametrize("char", [chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32)]])
def test_control_characters_and_nul_become_the_replacement_character(char):
    assert clean(f"Ivan{char}Petrov") == "Ivan\ufffdPetrov"
    assert cell_value(f"Ivan{char}Petrov") == "Ivan\ufffdPetrov"


def test_tab_cr_and_lf_are_not_control_characters_to_xlsx():
    assert clean("a\tb\rc\nd") == "a\tb\rc\nd"


def test_a_control_character_is_replaced_before_the_formula_check():
    # U+001F is whitespace to Python; replaced first, it no longer hides the "="
    assert cell_value("\x1f=1") == "\ufffd=1"
    assert cell_value("\x00=1") == "\ufffd=1"
    assert cell_value(" \x00 =1") == " \ufffd =1"


@pytest.mark.parametrize("value", [*FORMULAS, " =1", "\t=1", "\x00=1", "\x1f=1", "王", "", "'x"])
def test_the_rule_applied_twice_changes_nothing(value):
    assert cell_value(cell_value(value)) == cell_value(value)


@pytest.mark.parametrize("value", [*FORMULAS, " =1", "\t=1", "\rx", "王", "", "'x", "'", "''=1"])
def test_unquote_reads_back_what_was_quoted(value):
    assert unquote(neutralise(value)) == value


def test_unquote_keeps_a_quote_that_the_rule_did_not_add():
    assert unquote("'123") == "'123"
    assert unquote("'Chen") == "'Chen"


# --- CSV and XLSX say the same -------------------------------------------------------------

HEADER = ["Text", "Number", "Negative", "Decimal", "Blank", "None"]
TEXTS = [
    '=HYPERLINK("http://evil.example")', "+86 138 0013 8000", "-10 yuan", "@SUM(A1)",
    "  =1+1", "\t=cmd", "\r=1", "\n=1", "\u3000=1", "欧阳娜娜", "Оуян Нана", "Ivan\x00Petrov",
    "bell\x07", "esc\x1b[0m", "\x1f=1", "line\nbreak, with a comma", 'a "quoted" word', "plain",
]


def _rows():
    yield HEADER
    for index, text in enumerate(TEXTS):
        yield [text, index, -index - 1, Decimal("-1.5"), "", None]


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM):], newline="")))


def _xlsx_sheet(body: bytes, title: str = "Sheet"):
    return load_workbook(io.BytesIO(body))[title]


def test_the_same_value_gives_the_same_text_in_csv_and_xlsx():
    from_csv = _csv_rows(csv_text(_rows()))
    sheet = _xlsx_sheet(xlsx_bytes("Sheet", _rows()))
    from_xlsx = [list(row) for row in sheet.iter_rows()]

    assert len(from_csv) == len(from_xlsx) == 1 + len(TEXTS)
    assert from_csv[0] == [cell.value for cell in from_xlsx[0]] == HEADER
    for csv_row, xlsx_row, text in zip(from_csv[1:], from_xlsx[1:], TEXTS, strict=True):
        text_cell = xlsx_row[0]
        assert text_cell.data_type == "s", text  # never "f": text is never a formula
        assert csv_row[0] == text_cell.value == cell_value(text)
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", csv_row[0])


def test_formulas_are_quoted_and_characters_replaced_in_both_files():
    expected = {
        '=HYPERLINK("http://evil.example")': '\'=HYPERLINK("http://evil.example")',
        "  =1+1": "'  =1+1",
        "\t=cmd": "'\t=cmd",
        "\u3000=1": "'\u3000=1",
        "欧阳娜娜": "欧阳娜娜",
        "Оуян Нана": "Оуян Нана",
        "Ivan\x00Petrov": "Ivan\ufffdPetrov",
        "bell\x07": "bell\ufffd",
    }
    from_csv = {text: row[0] for text, row in zip(TEXTS, _csv_rows(csv_text(_rows()))[1:],
                                                   strict=True)}
    sheet = _xlsx_sheet(xlsx_bytes("Sheet", _rows()))
    from_xlsx = {text: row[0].value for text, row in zip(TEXTS, list(sheet.iter_rows())[1:],
                                                         strict=True)}
    for text, safe in expected.items():
        assert from_csv[text] == safe, text
        assert from_xlsx[text] == safe, text


def test_numbers_stay_numbers_a_negative_one_too():
    from_csv = _csv_rows(csv_text(_rows()))
    sheet = _xlsx_sheet(xlsx_bytes("Sheet", _rows()))
    row = list(sheet.iter_rows(min_row=2, max_row=2))[0]

    assert from_csv[1][1:4] == ["0", "-1", "-1.5"]
    assert [cell.value for cell in row[1:4]] == [0, -1, -1.5]
    assert [cell.data_type for cell in row[1:4]] == ["n", "n", "n"]


def test_blank_and_none_are_empty_cells():
    from_csv = _csv_rows(csv_text(_rows()))
    sheet = _xlsx_sheet(xlsx_bytes("Sheet", _rows()))
    row = list(sheet.iter_rows(min_row=2, max_row=2))[0]

    assert from_csv[1][4:] == ["", ""]
    assert [cell.value for cell in row[4:]] == [None, None]


def test_the_xlsx_header_is_bold_and_the_rows_are_not():
    sheet = _xlsx_sheet(xlsx_bytes("Sheet", _rows()))
    rows = list(sheet.iter_rows())
    assert all(cell.font.b for cell in rows[0])
    assert not any(cell.font.b for cell in rows[1])


def test_csv_is_utf8_with_a_bom_and_crlf():
    text = csv_text([["a", "王"], ["1", "b"]])
    assert text == "\ufeffa,王\r\n1,b\r\n"


def test_dates_and_moments(app):
    """A date stays a date; a moment is written in the reader's zone (Moscow in the tests)."""
    moment = datetime(2026, 3, 30, 9, 0, 7, 500, tzinfo=UTC)
    naive = datetime(2026, 3, 30, 9, 0)
    rows = [["On", "At", "Naive"], [date(2026, 3, 30), moment, naive]]

    assert _csv_rows(csv_text(rows))[1] == ["2026-03-30", "2026-03-30 12:00:07",
                                            "2026-03-30 12:00:00"]
    cells = list(_xlsx_sheet(xlsx_bytes("Sheet", rows, date_format="DD.MM.YYYY")).iter_rows())[1]
    assert cells[0].value == datetime(2026, 3, 30)
    assert cells[0].number_format == "DD.MM.YYYY"
    assert cells[1].value == datetime(2026, 3, 30, 12, 0, 7)
    assert cells[1].number_format == spreadsheets.DATETIME_FORMAT
    assert cells[2].value == datetime(2026, 3, 30, 12, 0)


def test_chunks_make_the_same_text():
    rows = [[f"row {n}", "=1", n] for n in range(500)]
    chunks = list(csv_chunks(rows, chunk_size=1000))

    assert len(chunks) > 5
    assert chunks[0].startswith(BOM)
    assert not any(chunk.startswith(BOM) for chunk in chunks[1:])
    assert "".join(chunks) == csv_text(rows)


def test_the_writer_gives_the_bom_once():
    writer = CsvWriter()
    writer.writerow(["header"])
    first = writer.take()
    writer.writerow(["-1 yuan", -1])
    assert first == "\ufeffheader\r\n"
    assert writer.take() == "'-1 yuan,-1\r\n"
    assert writer.take() == ""


def test_every_spreadsheet_is_written_here():
    """The rules live in one module: no feature builds CSV rows or XLSX cells of its own."""
    root = Path(spreadsheets.__file__).resolve().parents[1]
    writers = re.compile(r"csv\.writer\(|csv\.DictWriter\(|Workbook\(|WriteOnlyCell\("
                         r"|ILLEGAL_CHARACTERS_RE|\bneutralise\(|_csv_value|_xlsx_cell")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py")) if path.name != "spreadsheets.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if writers.search(line)
    ]
    assert not found, f"spreadsheet code outside core/spreadsheets.py: {found}"
