"""The roster grid: every enrolled teacher's hours and results of an intake, saved at once.

The grid and the CSV import both come here. Every cell is checked before anything is written;
one bad cell refuses the whole grid. Writes are bulk statements (one per table and kind), so
the number of queries does not grow with the number of teachers, and every change of a value
leaves a ResultChange row in the same transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from math import ceil

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm.util import identity_key

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake
from course_portal.core.audit import record_many
from course_portal.db import utcnow
from course_portal.enrollment import seats
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.enrollment.queue import QueuePage
from course_portal.extensions import db
from course_portal.progress.errors import ProgressError
from course_portal.progress.models import (
    AssessmentKind,
    FinalAssessment,
    ModuleResult,
    Outcome,
    ResultChange,
)
from course_portal.progress.services import (
    IntakeData,
    count_roster_applications,
    load_intake_data,
    roster_applications,
)

#: the longest cell value looked at; anything longer is refused without being parsed
CELL_MAX_LENGTH = 20
#: words accepted for a result besides its code (the CSV may carry them), lower-case
OUTCOME_WORDS = {
    "": Outcome.PENDING,
    "pending": Outcome.PENDING,
    "not yet": Outcome.PENDING,
    "passed": Outcome.PASSED,
    "pass": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "fail": Outcome.FAILED,
}
#: statuses whose results a coordinator records in the grid
EDITABLE = (ApplicationStatus.ENROLLED,)
#: statuses shown in the roster: enrolled ones, and after closing, the finished ones
SHOWN = (ApplicationStatus.ENROLLED, ApplicationStatus.COMPLETED, ApplicationStatus.NOT_COMPLETED)
#: teachers on one page of the roster grid: 50 teachers of an 18-module program are 1,900 cells,
#: about as many as a person checks before saving, and a page that renders in a few milliseconds
ROSTER_PER_PAGE = 50


def hours_key(application_id: int, module_id: int) -> str:
    """The grid cell of a teacher's attended hours in a module."""
    return f"h-{application_id}-{module_id}"


def outcome_key(application_id: int, module_id: int) -> str:
    """The grid cell of a teacher's result in a module."""
    return f"r-{application_id}-{module_id}"


def final_key(application_id: int) -> str:
    """The grid cell of a teacher's final assessment result (pass/fail programs)."""
    return f"f-{application_id}"


def score_key(application_id: int) -> str:
    """The grid cell of a teacher's final assessment score (scored programs)."""
    return f"s-{application_id}"


@dataclass
class Roster:
    """An intake's roster: its applications, and the data their ledgers and cells come from."""

    intake: Intake
    applications: list[Application]
    data: IntakeData
    #: the newest history row of the intake when loaded: a save from an older page is noticed
    stamp: str = "0"
    #: where these applications sit among all of the intake's, when the roster is one page
    paging: QueuePage[Application] | None = None

    @property
    def modules(self):
        """The program's modules in order."""
        return self.data.modules

    @property
    def rules(self):
        """The program's completion rules."""
        return self.data.rules

    @cached_property
    def cell_modules(self) -> list[tuple[int, int, int]]:
        """(id, position, hours) of each module, read once for a page's 900 cells."""
        return [(module.id, module.position, module.hours) for module in self.modules]

    def values(self) -> dict[str, str]:
        """Every cell's stored value as text, as the grid's inputs show it."""
        cells: dict[str, str] = {}
        results = self.data.results
        pending = Outcome.PENDING.value
        module_ids = [module_id for module_id, _position, _hours in self.cell_modules]
        for application in self.applications:
            application_id = application.id
            for module_id in module_ids:
                row = results.get((application_id, module_id))
                cells[hours_key(application_id, module_id)] = (
                    str(row.attended_hours) if row else "0")
                cells[outcome_key(application_id, module_id)] = (
                    row.outcome.value if row else pending)
            final = self.data.finals.get(application.id)
            cells[final_key(application.id)] = (
                final.outcome.value if final else Outcome.PENDING.value)
            score = final.score if final is not None else None
            cells[score_key(application.id)] = "" if score is None else str(score)
        return cells


def load_roster(intake: Intake, page: int | None = None,
                per_page: int = ROSTER_PER_PAGE) -> Roster:
    """The intake's roster in a fixed number of queries, whatever its size.

    With page, only that page of teachers (by Latin name; a page past the end shows the last):
    saving it changes only its cells, the others keep their values.
    """
    paging = None
    if page is None:
        applications = roster_applications(intake, SHOWN, names_only=True)
    else:
        total = count_roster_applications(intake, SHOWN)
        page = min(max(page, 1), max(ceil(total / per_page), 1))
        applications = roster_applications(intake, SHOWN, limit=per_page,
                                           offset=(page - 1) * per_page, names_only=True)
        paging = QueuePage(rows=applications, total=total, page=page, per_page=per_page)
    return Roster(intake, applications, load_intake_data(intake, [a.id for a in applications]),
                  stamp=roster_stamp(intake), paging=paging)


def roster_stamp(intake: Intake) -> str:
    """The id of the intake's newest result change, as text ("0" before the first)."""
    newest = db.session.scalar(
        select(func.max(ResultChange.id))
        .join(Application, Application.id == ResultChange.application_id)
        .where(Application.intake_id == intake.id)
    )
    return str(newest or 0)


@dataclass
class GridOutcome:
    """What save_grid changed."""

    #: cells whose value changed
    changed: int = 0
    #: application ids with at least one change
    applications: set[int] = field(default_factory=set)
    #: the history rows written (or, for a dry run, that would be), as dicts
    changes: list[dict] = field(default_factory=list)


def _text(raw) -> str:
    """A cell's value folded to plain text: full-width digits become ASCII, spaces trimmed."""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def parse_hours(raw, module_hours: int):
    """Attended hours from a cell, or a message saying what is wrong with it."""
    text = _text(raw)
    if len(text) > CELL_MAX_LENGTH:
        return None, _l("Enter a whole number of hours.")
    if text == "":
        return 0, None
    try:
        value = int(text)
    except ValueError:
        return None, _l("Enter a whole number of hours.")
    if value < 0:
        return None, _l("Hours cannot be negative.")
    if value > module_hours:
        return None, _l("At most %(hours)d hours: the module has %(hours)d.", hours=module_hours)
    return value, None


def parse_outcome(raw):
    """A result from a cell (passed, failed, pending), or a message saying it is unknown."""
    text = _text(raw).lower()
    if len(text) <= CELL_MAX_LENGTH and text in OUTCOME_WORDS:
        return OUTCOME_WORDS[text], None
    return None, _l("Choose passed, failed or not yet.")


def parse_score(raw, max_score: int):
    """A final score from a cell (blank: not scored yet), or a message."""
    text = _text(raw)
    if text == "":
        return None, None
    if len(text) > CELL_MAX_LENGTH:
        return None, _l("Enter a whole number from 0 to %(max)d.", max=max_score)
    try:
        value = int(text)
    except ValueError:
        return None, _l("Enter a whole number from 0 to %(max)d.", max=max_score)
    if not 0 <= value <= max_score:
        return None, _l("Enter a whole number from 0 to %(max)d.", max=max_score)
    return value, None


def _check_actor(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.COORDINATOR):
        raise ProgressError(_l("Only a course coordinator can record results."))


def save_grid(
    roster: Roster,
    cells: Mapping[str, str],
    actor: User | None,
    source: str = "grid",
    stamp: str | None = None,
    dry_run: bool = False,
) -> GridOutcome:
    """Check every cell, then write the changed ones with their history; or raise, writing nothing.

    cells maps grid cell names (hours_key, outcome_key, final_key, score_key) to what was typed;
    a cell that is missing keeps its stored value. Raises ProgressError with a message per bad
    cell (hours above the module's, negative, not a number, unknown result, score out of range),
    or for the whole grid when stamp is given and results were saved since it was loaded.
    dry_run: check and count the changes, write nothing (the CSV preview).
    """
    _check_actor(actor)
    current_stamp = roster.stamp
    if not dry_run:
        # one grid save per intake at a time (PostgreSQL; SQLite serialises writers anyway),
        # then the history tells whether anyone saved since the page, or this roster, was loaded
        seats.lock_intake(roster.intake.id)
        current_stamp = roster_stamp(roster.intake)
    if current_stamp != roster.stamp or (stamp is not None and stamp != current_stamp):
        raise ProgressError(_l(
            "Someone else saved results of this intake after you opened the page. Your entries "
            "are kept below; the grid now compares against the newer results: check them and "
            "save again."), field="stamp")
    data = roster.data
    rules = data.rules
    errors: dict[str | None, list] = {}
    result_values: dict[tuple[int, int], tuple[int, Outcome]] = {}
    final_values: dict[int, tuple[Outcome, int | None]] = {}
    editable = {a.id for a in roster.applications if a.status in EDITABLE}
    known_ids = {a.id for a in roster.applications}

    for name in cells:
        parsed = _parse_key(name)
        if parsed is not None and parsed[0] in known_ids and parsed[0] not in editable:
            errors.setdefault(name, []).append(
                _l("This teacher's intake is closed: results can no longer change."))

    for application_id in sorted(editable):
        for module in data.modules:
            row = data.results.get((application_id, module.id))
            hours = row.attended_hours if row else 0
            outcome = row.outcome if row else Outcome.PENDING
            key = hours_key(application_id, module.id)
            if key in cells:
                hours, message = parse_hours(cells[key], module.hours)
                if message:
                    errors.setdefault(key, []).append(message)
            key = outcome_key(application_id, module.id)
            if key in cells:
                outcome, message = parse_outcome(cells[key])
                if message:
                    errors.setdefault(key, []).append(message)
            result_values[(application_id, module.id)] = (hours, outcome)
        final = data.finals.get(application_id)
        final_outcome = final.outcome if final else Outcome.PENDING
        score = final.score if final else None
        if rules.final_kind == AssessmentKind.SCORE:
            key = score_key(application_id)
            if key in cells:
                score, message = parse_score(cells[key], rules.max_score)
                if message:
                    errors.setdefault(key, []).append(message)
            if score is None or rules.pass_mark is None:
                final_outcome = Outcome.PENDING
            else:
                final_outcome = Outcome.PASSED if score >= rules.pass_mark else Outcome.FAILED
        else:
            key = final_key(application_id)
            if key in cells:
                final_outcome, message = parse_outcome(cells[key])
                if message:
                    errors.setdefault(key, []).append(message)
            score = None
        final_values[application_id] = (final_outcome, score)
    if errors:
        raise ProgressError(errors=errors)
    teachers = {a.id: a.teacher_id for a in roster.applications}
    return _write(data, result_values, final_values, actor, source, dry_run, teachers)


def _parse_key(name: str) -> tuple[int, ...] | None:
    """The application id (and module id) a cell name points at, or None for other names."""
    parts = name.split("-")
    if parts[0] not in {"h", "r", "f", "s"} or not all(p.isdigit() for p in parts[1:]):
        return None
    return tuple(int(p) for p in parts[1:]) or None


def _write(data: IntakeData, result_values, final_values, actor, source,
           dry_run: bool, teachers: dict[int, int]) -> GridOutcome:
    """Bulk-insert new rows, bulk-update changed ones, and write one history row per change.

    Each change is also one row of the audit log (result.changed, final_assessment.changed).
    """
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    outcome = GridOutcome()
    inserts, updates, changes = [], [], []
    touched: list[FinalAssessment] = []

    def audit(application_id, module_id, name, old, new):
        changes.append({
            "application_id": application_id, "module_id": module_id, "field": name,
            "old_value": old, "new_value": new, "actor_id": actor_id, "source": source,
            "created_at": now,
        })
        outcome.changed += 1
        outcome.applications.add(application_id)

    for (application_id, module_id), (hours, result) in result_values.items():
        row = data.results.get((application_id, module_id))
        # no row reads as nothing attended and no result yet: only real changes are audited
        old_hours = str(row.attended_hours) if row else "0"
        old_result = row.outcome.value if row else Outcome.PENDING.value
        if row is None and hours == 0 and result == Outcome.PENDING:
            continue
        if row is not None and row.attended_hours == hours and row.outcome == result:
            continue
        if old_hours != str(hours):
            audit(application_id, module_id, "attended_hours", old_hours, str(hours))
        if old_result != result.value:
            audit(application_id, module_id, "outcome", old_result, result.value)
        values = {"attended_hours": hours, "outcome": result, "updated_at": now,
                  "updated_by_id": actor_id}
        if row is None:
            inserts.append({"application_id": application_id, "module_id": module_id, **values})
        else:
            updates.append({"id": row.id, **values})

    final_inserts, final_updates = [], []
    for application_id, (result, score) in final_values.items():
        final = data.finals.get(application_id)
        if final is None and result == Outcome.PENDING and score is None:
            continue
        if final is not None and final.outcome == result and final.score == score:
            continue
        old_result = final.outcome.value if final else Outcome.PENDING.value
        old_score = "" if final is None or final.score is None else str(final.score)
        new_score = "" if score is None else str(score)
        if old_score != new_score:
            audit(application_id, None, "score", old_score, new_score)
        if old_result != result.value:
            audit(application_id, None, "outcome", old_result, result.value)
        values = {"outcome": result, "score": score, "updated_at": now,
                  "updated_by_id": actor_id}
        if final is None:
            final_inserts.append({"application_id": application_id, **values})
        else:
            final_updates.append({"id": final.id, **values})
            touched.append(final)

    outcome.changes = changes
    if dry_run:
        return outcome
    if inserts:
        db.session.execute(insert(ModuleResult), inserts)
    if updates:
        db.session.execute(update(ModuleResult), updates)
    if final_inserts:
        db.session.execute(insert(FinalAssessment), final_inserts)
    if final_updates:
        db.session.execute(update(FinalAssessment), final_updates)
    if changes:
        db.session.execute(insert(ResultChange), changes)
        record_many([_audit_event(change, actor, teachers, data) for change in changes])
    # bulk statements bypass the identity map: reload these rows when they are next read (the
    # grid read results as plain columns, but a caller may hold them as objects)
    for update_row in updates:
        held = db.session.identity_map.get(identity_key(ModuleResult, update_row["id"]))
        if held is not None:
            db.session.expire(held)
    for touched_row in touched:
        db.session.expire(touched_row)
    db.session.flush()
    return outcome


def _audit_event(change: dict, actor: User | None, teachers: dict[int, int],
                 data: IntakeData) -> dict:
    """A ResultChange row as an audit event: the module's number and title, field, old, new."""
    module_id = change["module_id"]
    details = {"field": change["field"], "old": change["old_value"], "new": change["new_value"],
               "source": change["source"], "intake": data.intake.title}
    if module_id is not None:
        module = next((m for m in data.modules if m.id == module_id), None)
        details["module"] = f"{module.position}. {module.title_en}" if module else module_id
    return {
        "action": "result.changed" if module_id is not None else "final_assessment.changed",
        "actor": actor,
        "teacher": teachers.get(change["application_id"]),
        "object_type": "applications",
        "object_id": change["application_id"],
        "details": details,
    }

