"""The one set of rules for the CSV and XLSX files the portal writes, and what reading one shares.

A spreadsheet is hostile ground in both directions. Text that starts like a formula is run by
Excel and LibreOffice when the file is opened (OWASP "CSV injection"), so every text cell of
every export goes through cell_value(): characters XLSX cannot hold become U+FFFD, then a text
that a spreadsheet would run is quoted with "'". Both happen in CSV and XLSX alike, so that the
two files of one export say the same thing. Numbers and dates stay typed: -2 is a number.

Every CSV is UTF-8 with a byte-order mark (without it Excel opens 王小明 as mojibake), in the
csv module's "excel" dialect: "," between cells, CRLF after each row. Every XLSX is a
write-only workbook (rows stream out, memory stays flat) whose header row is bold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

from course_portal.core.timezones import local_naive

#: the first character of a CSV file, so that Excel reads it as UTF-8
BOM = "\ufeff"
#: what replaces a character XLSX cannot hold (control characters, NUL among them)
REPLACEMENT = "\ufffd"
#: what a spreadsheet reads as the start of a formula, also after leading whitespace
FORMULA_TRIGGERS = ("=", "+", "-", "@")
#: what starts a formula at the very start of a cell (OWASP): a spreadsheet may drop it
LEADING_TRIGGERS = ("\t", "\r")
#: how an XLSX cell shows a moment (in the reader's zone: the column's header names it)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: how much CSV text a streamed export gathers before it sends a chunk
CHUNK_SIZE = 64 * 1024

_BOLD = Font(bold=True)


# --- the rules --------------------------------------------------------------------------------


def clean(text: str) -> str:
    """The text with each character XLSX cannot hold (openpyxl's list, NUL too) as U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, text)


def is_formula(text: str) -> bool:
    """True when a spreadsheet would run the text: = + - @ first after any whitespace, or a
    tab or CR first of all."""
    # str.lstrip() takes every Unicode whitespace: spaces, tabs, CR, LF, U+3000, U+00A0, ...
    return text.startswith(LEADING_TRIGGERS) or text.lstrip().startswith(FORMULA_TRIGGERS)


def neutralise(value):
    """Text that a spreadsheet would run, quoted with "'" so that it shows as text; other
    values (numbers, dates, None) as they are."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def cell_value(value):
    """A value as every export writes it: text cleaned of what XLSX cannot hold, then
    neutralised; other values as they are. Applying it twice changes nothing."""
    if isinstance(value, str):
        return neutralise(clean(value))
    return value


def unquote(text: str) -> str:
    """The text a cell held before cell_value() quoted it: what an import reads back."""
    if text.startswith("'") and is_formula(text[1:]):
        return text[1:]
    return text


def _local(moment: datetime) -> datetime:
    """The moment in the reader's zone without the zone; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = local_naive(moment)
    assert local is not None  # only None for None
    return local


def _typed(value):
    """None, a number, a date or a moment as it is; anything else as safe text."""
    if value is None or isinstance(value, (int, float, Decimal, date)):
        return value  # bool is an int; datetime is a date
    return cell_value(value if isinstance(value, str) else str(value))


# --- CSV --------------------------------------------------------------------------------------


def csv_value(value) -> str | int | float | Decimal:
    """A value as a CSV cell: text safe, moments in the reader's zone, None as nothing."""
    value = _typed(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class CsvWriter:
    """CSV text written row by row, BOM first, taken in chunks by a streamed response."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._buffer.write(BOM)
        self._writer = csv.writer(self._buffer)

    def writerow(self, values: Iterable) -> None:
        """One row, each value through csv_value()."""
        self._writer.writerow([csv_value(value) for value in values])

    @property
    def size(self) -> int:
        """How many characters are written and not taken yet."""
        return self._buffer.tell()

    def take(self) -> str:
        """The text written since the last take(), the BOM with the first."""
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def csv_text(rows: Iterable[Iterable]) -> str:
    """The rows as one CSV text with a BOM."""
    writer = CsvWriter()
    for row in rows:
        writer.writerow(row)
    return writer.take()


def csv_chunks(rows: Iterable[Iterable], chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The rows as CSV text with a BOM, in chunks of about chunk_size characters."""
    writer = CsvWriter()
    for row in rows:
        writer.writerow(row)
        if writer.size > chunk_size:
            yield writer.take()
    yield writer.take()


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_cell(sheet, value, *, bold: bool = False, date_format: str | None = None,
              datetime_format: str = DATETIME_FORMAT) -> Cell:
    """A cell of a write-only sheet: text typed "s" so that it never becomes a formula,
    numbers and dates typed, None or "" an empty cell."""
    value = _typed(value)
    if value is None or value == "":
        cell = WriteOnlyCell(sheet, value=None)
    elif isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_local(value))
        cell.number_format = datetime_format
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]  # it takes a date
        if date_format is not None:
            cell.number_format = date_format
    elif isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would write "=..." as a formula
    else:
        cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = _BOLD
    return cell


def xlsx_row(sheet, values: Iterable, **options) -> list[Cell]:
    """One row of cells, each through xlsx_cell() with the same options."""
    return [xlsx_cell(sheet, value, **options) for value in values]


def xlsx_bytes(title: str, rows: Iterable[Iterable], *, date_format: str | None = None) -> bytes:
    """The rows as a workbook of one sheet, built in memory; the first row is the bold header."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    for index, row in enumerate(rows):
        sheet.append(xlsx_row(sheet, row, bold=index == 0, date_format=date_format))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
