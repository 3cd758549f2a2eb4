"""Catalog rules: what is published, which intakes accept applications, managing programs.

Intakes and their quotas are managed in intakes.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import User
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import (
    Institute,
    Intake,
    Module,
    PartnerUniversity,
    Program,
    StudyMode,
)
from course_portal.core.audit import record
from course_portal.extensions import db

log = logging.getLogger(__name__)


def published_programs() -> list[Program]:
    """Published programs with their institute, by code."""
    return list(
        db.session.scalars(
            select(Program)
            .where(Program.is_published.is_(True))
            .options(selectinload(Program.institute))
            .order_by(Program.code)
        )
    )


@dataclass(frozen=True)
class CatalogEntry:
    """A program as the catalog lists it: its figures, and the intake open for applications."""

    program: Program
    modules: int
    total_hours: int
    #: the accepting intake whose window closes first, if any
    open_intake: Intake | None


def catalog(today: date) -> list[CatalogEntry]:
    """Published programs with their module count, hours and open intake, in four queries.

    Only the figures and the accepting intakes are read: loading every module and every intake
    of every program, as the list once did, was most of the page's time.
    """
    programs = published_programs()
    ids = [program.id for program in programs]
    figures = {
        program_id: (count, hours or 0)
        for program_id, count, hours in db.session.execute(
            select(Module.program_id, func.count(Module.id), func.sum(Module.hours))
            .where(Module.program_id.in_(ids)).group_by(Module.program_id))
    } if ids else {}
    accepting: dict[int, Intake] = {}
    if ids:
        for intake in db.session.scalars(
            select(Intake)
            .where(Intake.program_id.in_(ids), Intake.accepting_on(today))
            .order_by(Intake.applications_close_on, Intake.id)
        ):
            accepting.setdefault(intake.program_id, intake)
    return [
        CatalogEntry(program, *figures.get(program.id, (0, 0)), accepting.get(program.id))
        for program in programs
    ]


def get_published_program(code: str) -> Program | None:
    """A published program by its code, case-insensitively."""
    if len(code) > CODE_MAX or "\x00" in code:
        return None  # not a code: PostgreSQL would refuse the NUL with an error, not a miss
    return db.session.scalar(
        select(Program)
        .where(Program.code == code.upper(), Program.is_published.is_(True))
        .options(selectinload(Program.institute), selectinload(Program.modules))
    )


def upcoming_intakes(program: Program, today: date) -> list[Intake]:
    """Intakes that have not ended, soonest first."""
    return list(
        db.session.scalars(
            select(Intake)
            .where(Intake.program_id == program.id, Intake.ends_on >= today)
            .order_by(Intake.starts_on)
        )
    )


# --- management: programs and modules (intakes and quotas: intakes.py) -------------------
#
# Each function takes plain values and the acting user, applies the rules, changes rows and
# flushes; it never commits. When a rule says no it raises CatalogError, and the caller rolls
# back: some rows may have been written before the refusal.

#: the program code: the prefix of registry numbers and the last part of the program's address
CODE_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,8}[A-Z0-9])?\Z")
CODE_MAX = 10
TITLE_MAX = 300
DESCRIPTION_MAX = 5000
INTAKE_TITLE_MAX = 200
DURATION_MONTHS = (1, 12)
MODULE_HOURS = (1, 200)
CAPACITY_MAX = 10000
#: the most days an intake may give an approved teacher to confirm the seat
CONFIRM_WITHIN_DAYS_MAX = 60
LANGUAGES = ("en", "zh", "ru")

#: what save_program takes besides the program and the actor
PROGRAM_FIELDS = (
    "code", "institute_id", "title_en", "title_zh", "title_ru", "description_en",
    "description_zh", "description_ru", "mode", "duration_months", "is_published",
)
#: what save_intake takes besides the program, the intake, the quotas and the actor
INTAKE_FIELDS = (
    "title", "title_zh", "title_ru", "starts_on", "ends_on", "applications_open_on",
    "applications_close_on", "capacity", "is_open", "study_form", "delivery", "confirm_within_days",
)


def all_programs() -> list[Program]:
    """Every program, drafts too, with institute, modules and intakes, in four queries."""
    return list(
        db.session.scalars(
            select(Program)
            .options(
                selectinload(Program.institute),
                selectinload(Program.modules),
                selectinload(Program.intakes),
            )
            .order_by(Program.code)
        )
    )


def get_program(program_id: int) -> Program | None:
    """A program by id, published or not."""
    return db.session.get(Program, program_id)


def get_intake(program: Program, intake_id: int) -> Intake | None:
    """An intake of that program by id; None for an intake of another program."""
    intake = db.session.get(Intake, intake_id)
    return intake if intake is not None and intake.program_id == program.id else None


def institutes() -> list[Institute]:
    """Every institute, by English name."""
    return list(db.session.scalars(select(Institute).order_by(Institute.name_en)))


def partner_universities() -> list[PartnerUniversity]:
    """Every partner university, by English name."""
    return list(db.session.scalars(select(PartnerUniversity).order_by(PartnerUniversity.name_en)))


def _text_problems(errors: dict, field: str, value: object, limit: int,
                   required: bool) -> None:
    """Required and length rules of a text value (the form says it first; the CLI may not)."""
    if not isinstance(value, str) or not value.strip():
        if required:
            errors.setdefault(field, []).append(_l("This field is required."))
        return
    if len(value) > limit:
        errors.setdefault(field, []).append(
            _l("At most %(num)d characters, please.", num=limit)
        )
    if "\x00" in value:
        errors.setdefault(field, []).append(_l("Remove the NUL character."))


def save_program(program: Program | None, *, actor: User, **values: Any) -> Program:
    """Create a program (program None) or change one; values are PROGRAM_FIELDS."""
    missing = set(PROGRAM_FIELDS) - set(values)
    unknown = set(values) - set(PROGRAM_FIELDS)
    if missing or unknown:
        raise TypeError(f"save_program: missing {sorted(missing)}, unknown {sorted(unknown)}")
    errors: dict[str | None, list] = {}
    code = (values["code"] or "").strip().upper()
    if not CODE_PATTERN.match(code):
        errors["code"] = [_l("Up to 10 Latin letters, digits and hyphens, e.g. IE or AI-2.")]
    elif _code_taken(code, program):
        errors["code"] = [_l("Another program already has the code %(code)s.", code=code)]
    institute = db.session.get(Institute, values["institute_id"] or 0)
    if institute is None:
        errors["institute_id"] = [_l("Choose the institute that runs the program.")]
    for language in LANGUAGES:
        _text_problems(errors, f"title_{language}", values[f"title_{language}"], TITLE_MAX,
                       required=language == "en")
        _text_problems(errors, f"description_{language}", values[f"description_{language}"],
                       DESCRIPTION_MAX, required=False)
    try:
        mode = StudyMode(values["mode"])
    except ValueError:
        errors["mode"] = [_l("Choose how the program is taught.")]
    duration = values["duration_months"]
    low, high = DURATION_MONTHS
    if not isinstance(duration, int) or not low <= duration <= high:
        errors["duration_months"] = [
            _l("From %(low)d to %(high)d months.", low=low, high=high)
        ]
    if errors:
        raise CatalogError(errors=errors)
    assert institute is not None  # an error otherwise

    created = program is None
    before = {} if created else {name: getattr(program, name) for name in PROGRAM_FIELDS}
    if program is None:
        program = Program()
        db.session.add(program)
    program.code = code
    program.institute = institute
    for language in LANGUAGES:
        setattr(program, f"title_{language}", values[f"title_{language}"] or "")
        setattr(program, f"description_{language}", values[f"description_{language}"] or "")
    program.mode = mode
    program.duration_months = duration
    program.is_published = bool(values["is_published"])
    try:
        db.session.flush()
    except IntegrityError as error:
        # the same code saved by someone else a moment ago: the only unique column here
        raise CatalogError(
            _l("Another program already has the code %(code)s.", code=code), field="code"
        ) from error
    log.info("program %s %s by user %s", program.code, "created" if created else "updated",
             actor.id)
    changed = [name for name in PROGRAM_FIELDS if before.get(name) != getattr(program, name)]
    if created or changed:
        record("program.created" if created else "program.updated", actor=actor, target=program,
               program=program.code, changed=[] if created else changed)
    return program


def _code_taken(code: str, program: Program | None) -> bool:
    query = select(Program.id).where(Program.code == code)
    if program is not None and program.id is not None:
        query = query.where(Program.id != program.id)
    return db.session.scalar(query) is not None


def save_modules(program: Program, rows: list[dict], actor: User) -> dict[str, int]:
    """Make the program's modules exactly these rows, keeping each module's id.

    rows: dicts of id (None for a new module), position, title_en, title_zh, title_ru, hours.
    A module whose id is not among the rows is deleted. Positions must differ; the modules are
    then numbered 1, 2, 3 ... in their order. Returns the counts added, changed and removed.
    """
    errors: dict[str | None, list] = {}
    existing = {module.id: module for module in program.modules}
    seen_positions: dict[int, int] = {}
    seen_ids: set[int] = set()
    low, high = MODULE_HOURS
    for index, row in enumerate(rows):
        key = f"modules.{index}"
        module_id = row.get("id")
        if module_id is not None:
            if module_id not in existing or module_id in seen_ids:
                errors.setdefault(None, []).append(_l(
                    "A module of this list was changed or removed meanwhile. "
                    "Open the page again and redo your changes."))
            seen_ids.add(module_id)
        position = row.get("position")
        if not isinstance(position, int) or position < 1:
            errors[f"{key}.position"] = [_l("A number from 1 up.")]
        elif position in seen_positions:
            errors[f"{key}.position"] = [_l(
                "Another module already has the number %(num)d: give each module its own.",
                num=position)]
        else:
            seen_positions[position] = index
        hours = row.get("hours")
        if not isinstance(hours, int) or not low <= hours <= high:
            errors[f"{key}.hours"] = [
                _l("From %(low)d to %(high)d academic hours.", low=low, high=high)
            ]
        for language in LANGUAGES:
            _text_problems(errors, f"{key}.title_{language}", row.get(f"title_{language}"),
                           TITLE_MAX, required=language == "en")
    if errors:
        raise CatalogError(errors=errors)

    removed = [module for module_id, module in existing.items() if module_id not in seen_ids]
    for module in removed:
        db.session.delete(module)
    db.session.flush()
    # positions are unique per program and checked row by row: park the kept modules on
    # numbers no row uses (their negative ids) so that a swap never collides mid-flush
    kept = [existing[module_id] for module_id in seen_ids]
    before = {module.id: module.position for module in kept}
    for module in kept:
        module.position = -module.id
    db.session.flush()

    ordered = sorted(rows, key=lambda r: r["position"])
    changed = added = 0
    for number, row in enumerate(ordered, start=1):
        values = {"position": number, "hours": row["hours"]}
        values.update({f"title_{lang}": row.get(f"title_{lang}") or "" for lang in LANGUAGES})
        if row.get("id") is None:
            db.session.add(Module(program_id=program.id, **values))
            added += 1
            continue
        module = existing[row["id"]]
        values_before = {name: getattr(module, name) for name in values}
        values_before["position"] = before[module.id]
        if values_before != values:
            changed += 1
        for name, value in values.items():
            setattr(module, name, value)
    db.session.flush()
    db.session.expire(program, ["modules"])
    log.info("modules of program %s saved by user %s: %s added, %s changed, %s removed",
             program.code, actor.id, added, changed, len(removed))
    record("modules.saved", actor=actor, target=program, program=program.code, added=added,
           changed=changed, removed=len(removed))
    return {"added": added, "changed": changed, "removed": len(removed)}
