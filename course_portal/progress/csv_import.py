"""The roster grid as a CSV file: a template to fill in, and an import checked row by row first.

A spreadsheet is hostile ground: Excel saves Chinese as GB18030 and Russian with ";" between
cells, adds a byte-order mark, and a cell may hold a formula, a NUL byte or a whole essay.
Nothing here evaluates or keeps such text: every value cell must read as a number or a result,
the name columns are only shown back (escaped, shortened), and nothing is written until every
row is right. The template is written by course_portal.core.spreadsheets like every export:
cells that a spreadsheet would run as a formula are quoted with "'", and read back unquoted.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from course_portal.accounts.models import User
from course_portal.core import spreadsheets
from course_portal.core.audit import record
from course_portal.progress.errors import ProgressError
from course_portal.progress.grid import (
    EDITABLE,
    GridOutcome,
    Roster,
    final_key,
    hours_key,
    outcome_key,
    save_grid,
    score_key,
)
from course_portal.progress.models import AssessmentKind

#: the most rows an import takes: more teachers than any intake has
MAX_ROWS = 2000
#: a name cell is shown back shortened to this many characters
SHOWN_MAX = 80
ID_COLUMN = "application"
NAME_COLUMNS = ("family_name", "given_name", "name_zh")
FINAL_COLUMN = "final_result"
SCORE_COLUMN = "final_score"
MODULE_COLUMN = re.compile(r"^m(\d{1,3})_(hours|result)$")


def header(roster: Roster) -> list[str]:
    """The columns of the roster's CSV: id, names, two per module, the final assessment."""
    columns = [ID_COLUMN, *NAME_COLUMNS]
    for module in roster.modules:
        columns += [f"m{module.position}_hours", f"m{module.position}_result"]
    is_score = roster.rules.final_kind == AssessmentKind.SCORE
    columns.append(SCORE_COLUMN if is_score else FINAL_COLUMN)
    return columns


def _template_rows(roster: Roster):
    """The header, then a row per enrolled teacher with what is recorded so far."""
    yield header(roster)
    values = roster.values()
    is_score = roster.rules.final_kind == AssessmentKind.SCORE
    for application in roster.applications:
        if application.status not in EDITABLE:
            continue
        profile = application.teacher.profile
        row = [str(application.id)]
        row += [profile.family_name_latin if profile else "",
                profile.given_name_latin if profile else "",
                profile.name_zh if profile else ""]
        for module in roster.modules:
            row += [values[hours_key(application.id, module.id)],
                    values[outcome_key(application.id, module.id)]]
        row.append(values[score_key(application.id)] if is_score
                   else values[final_key(application.id)])
        yield row


def template_csv(roster: Roster) -> str:
    """The roster as CSV with what is recorded so far, to fill in and import (with a BOM)."""
    # the BOM tells Excel the file is UTF-8, so 王小明 does not open as mojibake
    return spreadsheets.csv_text(_template_rows(roster))


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030; else refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ProgressError(_l("The file could not be read as text.")) from None
    else:
        if b"\x00" in data:
            raise ProgressError(_l("The file contains NUL bytes: it is not a CSV text file. "
                                   "Save it from the spreadsheet as “CSV UTF-8”."))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                # what Excel on a Chinese Windows saves as "CSV"
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ProgressError(_l("The file is not in a text encoding the portal reads. "
                                       "Save it from the spreadsheet as “CSV UTF-8”.")) from None
    if "\x00" in text:
        raise ProgressError(_l("The file contains NUL bytes: it is not a CSV text file. "
                               "Save it from the spreadsheet as “CSV UTF-8”."))
    return text.lstrip(spreadsheets.BOM)


@dataclass
class RowReport:
    """One line of the file in the preview: who, what changes, and what is wrong."""

    line: int
    application_id: int | None
    name: str
    errors: list[str] = field(default_factory=list)
    changes: int = 0


@dataclass
class ImportPreview:
    """The import checked: a report per row, problems of the file, and the cells it gives."""

    rows: list[RowReport] = field(default_factory=list)
    problems: list = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    changes: int = 0
    #: cell name -> (the row's report, the column's name), to put grid messages on rows
    origin: dict[str, tuple[RowReport, str]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the file and every row are right: the import may be written."""
        return not self.problems and not any(row.errors for row in self.rows)


def _shown(value: str) -> str:
    """A name cell as shown back: control characters out, shortened."""
    value = "".join(ch for ch in value if ch.isprintable())
    return value[:SHOWN_MAX] + ("…" if len(value) > SHOWN_MAX else "")


def _reader(text: str):
    """A CSV reader with the file's delimiter: ";" when the header has no ",", else ","."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def parse(roster: Roster, text: str) -> ImportPreview:
    """Map the file's rows to grid cells, with a report per row; writes nothing."""
    preview = ImportPreview()
    try:
        rows = list(_reader(text))
    except csv.Error:
        preview.problems.append(_l("The file is not a CSV table the portal can read (a cell "
                                   "may be far too long, or a quote is not closed)."))
        return preview
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        preview.problems.append(_l("The file is empty."))
        return preview
    if len(rows) - 1 > MAX_ROWS:
        preview.problems.append(_l("The file has more than %(num)d rows.", num=MAX_ROWS))
        return preview
    columns = [cell.strip().lower() for cell in rows[0]]
    if ID_COLUMN not in columns:
        preview.problems.append(_l("The first row must name the columns, starting with "
                                   "“application”: download the template and fill it in."))
        return preview
    by_position = {module.position: module for module in roster.modules}
    is_score = roster.rules.final_kind == AssessmentKind.SCORE
    for column in columns:
        match = MODULE_COLUMN.match(column)
        if match and int(match.group(1)) not in by_position:
            preview.problems.append(_l("The column “%(column)s” names a module the program does "
                                       "not have.", column=_shown(column)))
        if column == (FINAL_COLUMN if is_score else SCORE_COLUMN):
            preview.problems.append(_l("The column “%(column)s” does not fit how this program's "
                                       "final assessment is graded: download the template again.",
                                       column=column))
    editable = {a.id: a for a in roster.applications if a.status in EDITABLE}
    seen: dict[int, int] = {}
    origin = preview.origin
    for line, row in enumerate(rows[1:], start=2):
        values = dict(zip(columns, row, strict=False))
        name = " ".join(_shown(values.get(c, "")) for c in NAME_COLUMNS if values.get(c))
        report = RowReport(line=line, application_id=None, name=name)
        preview.rows.append(report)
        if len(row) != len(columns):
            report.errors.append(_l("This row has %(got)d cells; the first row names %(want)d.",
                                    got=len(row), want=len(columns)))
            continue
        raw_id = values[ID_COLUMN].strip().lstrip("'")
        if not raw_id.isdigit() or len(raw_id) > 12 or int(raw_id) not in editable:
            report.errors.append(_l("No enrolled teacher of this intake has the application "
                                    "number “%(id)s”.", id=_shown(raw_id)))
            continue
        application_id = report.application_id = int(raw_id)
        if application_id in seen:
            report.errors.append(_l("This teacher is already on line %(line)d.",
                                    line=seen[application_id]))
            continue
        seen[application_id] = line
        for column, value in values.items():
            match = MODULE_COLUMN.match(column)
            if match and int(match.group(1)) in by_position:
                module = by_position[int(match.group(1))]
                key = (hours_key if match.group(2) == "hours" else outcome_key)(
                    application_id, module.id)
            elif column == FINAL_COLUMN and not is_score:
                key = final_key(application_id)
            elif column == SCORE_COLUMN and is_score:
                key = score_key(application_id)
            else:
                continue
            # what the template quoted against formulas is read as it was written
            preview.cells[key] = spreadsheets.unquote(value)
            origin[key] = (report, column)
    return preview


def check(roster: Roster, text: str, actor: User | None) -> ImportPreview:
    """Parse, then check every cell as the grid would, counting changes: the preview."""
    preview = parse(roster, text)
    if preview.problems:
        return preview
    # the rows that parsed are checked cell by cell even when others did not: one report
    origin = preview.origin
    try:
        outcome = save_grid(roster, preview.cells, actor, source="csv", dry_run=True)
    except ProgressError as error:
        for key, messages in error.errors.items():
            found = origin.get(key) if key else None
            report, column = found if found is not None else (None, "")
            for message in messages:
                if report is None:
                    preview.problems.append(message)
                else:
                    report.errors.append(_l("%(column)s: %(message)s", column=column,
                                            message=message))
        return preview
    _count_changes(preview, outcome)
    return preview


def _count_changes(preview: ImportPreview, outcome: GridOutcome) -> None:
    by_id = {row.application_id: row for row in preview.rows}
    for change in outcome.changes:
        row = by_id.get(change["application_id"])
        if row is not None:
            row.changes += 1
    preview.changes = len(outcome.changes)


def import_csv(roster: Roster, text: str, actor: User | None, stamp: str | None) -> GridOutcome:
    """Write the file's results through the grid, all or nothing; ProgressError when not right."""
    preview = check(roster, text, actor)
    if not preview.ok:
        raise ProgressError(_l("The file has problems; nothing was imported. Check the preview."))
    outcome = save_grid(roster, preview.cells, actor, source="csv", stamp=stamp)
    intake = roster.intake
    record("results.imported", actor=actor, target=intake, intake=intake.title,
           rows=len(preview.rows), changes=outcome.changed)
    return outcome
