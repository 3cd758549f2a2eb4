"""Catalog rules: what is published, which intakes accept applications, and managing them."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import (
    Institute,
    Intake,
    Module,
    PartnerUniversity,
    Program,
    StudyMode,
)
from course_portal.enrollment.models import SEAT_HOLDING, Application, IntakeQuota
from course_portal.extensions import db

log = logging.getLogger(__name__)


def portal_today() -> date:
    """Today's date where deadlines are read (the portal's time zone)."""
    return datetime.now(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()


def published_programs() -> list[Program]:
    """Published programs, each with its institute, modules and intakes, in three queries."""
    return list(
        db.session.scalars(
            select(Program)
            .where(Program.is_published.is_(True))
            .options(
                selectinload(Program.institute),
                selectinload(Program.modules),
                selectinload(Program.intakes),
            )
            .order_by(Program.code)
        )
    )


def get_published_program(code: str) -> Program | None:
    """A published program by its code, case-insensitively."""
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


def open_intakes(program: Program, today: date) -> list[Intake]:
    """Intakes whose application window includes today."""
    return [i for i in program.intakes if i.is_accepting_on(today)]


# --- management: programs, modules, intakes and quotas ----------------------------------
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
LANGUAGES = ("en", "zh", "ru")

#: what save_program takes besides the program and the actor
PROGRAM_FIELDS = (
    "code", "institute_id", "title_en", "title_zh", "title_ru", "description_en",
    "description_zh", "description_ru", "mode", "duration_months", "is_published",
)
#: what save_intake takes besides the program, the intake, the quotas and the actor
INTAKE_FIELDS = (
    "title", "starts_on", "ends_on", "applications_open_on", "applications_close_on",
    "capacity", "is_open",
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


def quotas_of(intake: Intake) -> dict[int, IntakeQuota]:
    """The intake's quotas by partner university id."""
    rows = db.session.scalars(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    return {quota.partner_university_id: quota for quota in rows}


def quotas_by_intake(intakes: list[Intake]) -> dict[int, list[IntakeQuota]]:
    """The quotas of several intakes in one query, with their partner universities."""
    found: dict[int, list[IntakeQuota]] = {intake.id: [] for intake in intakes}
    if not found:
        return found
    rows = db.session.scalars(
        select(IntakeQuota)
        .where(IntakeQuota.intake_id.in_(found))
        .options(selectinload(IntakeQuota.partner_university))
    )
    for quota in rows:
        found[quota.intake_id].append(quota)
    for quotas in found.values():
        quotas.sort(key=lambda q: q.partner_university.name_en)
    return found


def _text_problems(errors: dict, field: str, value, limit: int, required: bool) -> None:
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


def save_program(program: Program | None, *, actor: User, **values) -> Program:
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

    created = program is None
    if created:
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
    return {"added": added, "changed": changed, "removed": len(removed)}


def save_intake(
    program: Program, intake: Intake | None, *, actor: User, quotas: dict, **values
) -> Intake:
    """Create an intake of the program (intake None) or change one, with its partner quotas.

    values are INTAKE_FIELDS. quotas maps a partner university id to its seats, or to None
    for no quota; partner universities left out keep what they have. Capacity and quota
    seats are changed by conditional UPDATEs, so an approval at the same moment cannot push
    the seats taken above them. Seats that a larger capacity or quota frees go to the
    waiting list at once, as a withdrawal's seat does.
    """
    missing = set(INTAKE_FIELDS) - set(values)
    unknown = set(values) - set(INTAKE_FIELDS)
    if missing or unknown:
        raise TypeError(f"save_intake: missing {sorted(missing)}, unknown {sorted(unknown)}")
    errors = _intake_problems(program, intake, values)
    errors.update(_quota_problems(intake, quotas))
    if errors:
        raise CatalogError(errors=errors)

    created = intake is None
    capacity = values["capacity"]
    seats_before = None if created else (intake.capacity, {
        partner_id: quota.seats for partner_id, quota in quotas_of(intake).items()})
    if created:
        intake = Intake(program_id=program.id, capacity=capacity, seats_taken=0)
        db.session.add(intake)
    else:
        # the first write: it takes the intake's row lock, as every approval does first
        changed = db.session.execute(
            update(Intake)
            .where(Intake.id == intake.id, Intake.seats_taken <= capacity)
            .values(capacity=capacity)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(intake, ["capacity", "seats_taken"])
        if changed.rowcount != 1:
            raise CatalogError(_capacity_message(intake.seats_taken), field="capacity")
    for name in INTAKE_FIELDS:
        if name != "capacity":
            setattr(intake, name, values[name])
    intake.is_open = bool(values["is_open"])
    try:
        db.session.flush()
    except IntegrityError as error:
        # the same title saved by someone else a moment ago
        raise CatalogError(_title_taken(), field="title") from error
    _apply_quotas(intake, quotas)
    log.info("intake %s of program %s %s by user %s", intake.id, program.code,
             "created" if created else "updated", actor.id)
    if seats_before is not None and _seats_grew(seats_before, capacity, quotas):
        # imported here: enrollment.services imports this module (portal_today)
        from course_portal.enrollment.services import fill_free_seats

        promoted = fill_free_seats(intake)
        if promoted:
            log.info("intake %s: %s promoted from the waiting list into the new seats",
                     intake.id, len(promoted))
    return intake


def _seats_grew(before: tuple[int, dict[int, int]], capacity: int, quotas: dict) -> bool:
    """True when the capacity rose, or a quota rose or was removed (its ceiling lifted)."""
    capacity_before, quotas_before = before
    return capacity > capacity_before or any(
        partner_id in quotas_before and (seats is None or seats > quotas_before[partner_id])
        for partner_id, seats in quotas.items()
    )


def _capacity_message(seats_taken: int):
    return _l(
        "%(num)d seats are already taken: the capacity cannot be lower. Withdraw or reject "
        "approved applications first.", num=seats_taken)


def _title_taken():
    return _l("This program already has an intake with this title.")


def _intake_problems(program: Program, intake: Intake | None, values: dict) -> dict:
    """The rules of an intake's title, dates and capacity; field name to messages."""
    errors: dict[str | None, list] = {}
    title = values["title"]
    _text_problems(errors, "title", title, INTAKE_TITLE_MAX, required=True)
    if "title" not in errors:
        query = select(Intake.id).where(Intake.program_id == program.id, Intake.title == title)
        if intake is not None:
            query = query.where(Intake.id != intake.id)
        if db.session.scalar(query) is not None:
            errors["title"] = [_title_taken()]
    dates = ("starts_on", "ends_on", "applications_open_on", "applications_close_on")
    for name in dates:
        if not isinstance(values[name], date):
            errors[name] = [_l("Give a date.")]
    if not any(name in errors for name in dates):
        starts, ends = values["starts_on"], values["ends_on"]
        opens, closes = values["applications_open_on"], values["applications_close_on"]
        if ends <= starts:
            errors["ends_on"] = [_l("The intake must end after it starts.")]
        if closes < opens:
            errors.setdefault("applications_close_on", []).append(
                _l("Applications cannot close before they open."))
        if closes > starts:
            errors.setdefault("applications_close_on", []).append(
                _l("Applications must close on or before the first day of the intake."))
    capacity = values["capacity"]
    if not isinstance(capacity, int) or not 0 <= capacity <= CAPACITY_MAX:
        errors["capacity"] = [_l("From 0 to %(num)d seats.", num=CAPACITY_MAX)]
    elif intake is not None and capacity < intake.seats_taken:
        errors["capacity"] = [_capacity_message(intake.seats_taken)]
    return errors


def _quota_problems(intake: Intake | None, quotas: dict) -> dict:
    """The rules of the quotas: known partner universities, seats not below those taken."""
    errors: dict[str | None, list] = {}
    known = set(db.session.scalars(
        select(PartnerUniversity.id).where(PartnerUniversity.id.in_(list(quotas)))))
    if set(quotas) - known:
        errors[None] = [_l("A partner university of this list no longer exists. "
                           "Open the page again and redo your changes.")]
    current = quotas_of(intake) if intake is not None else {}
    for partner_id, seats in quotas.items():
        if seats is None:
            continue
        if not isinstance(seats, int) or not 0 <= seats <= CAPACITY_MAX:
            errors[f"quotas.{partner_id}"] = [_l("From 0 to %(num)d seats, or leave it empty.",
                                                 num=CAPACITY_MAX)]
        elif partner_id in current and seats < current[partner_id].seats_taken:
            errors[f"quotas.{partner_id}"] = [_quota_message(current[partner_id].seats_taken)]
    return errors


def _quota_message(seats_taken: int):
    return _l("%(num)d of these seats are already taken: the quota cannot be lower.",
              num=seats_taken)


def _seat_holders_by_partner(intake: Intake) -> dict[int, int]:
    """How many approved or enrolled teachers of each partner university the intake has."""
    rows = db.session.execute(
        select(TeacherProfile.partner_university_id, func.count(Application.id))
        .join(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
        .where(Application.intake_id == intake.id, Application.status.in_(SEAT_HOLDING))
        .group_by(TeacherProfile.partner_university_id)
    )
    return {partner_id: count for partner_id, count in rows if partner_id is not None}


def _apply_quotas(intake: Intake, quotas: dict) -> None:
    """Insert, change or delete the intake's quota rows; called with the intake row locked."""
    current = quotas_of(intake)
    holders: dict[int, int] | None = None
    for partner_id, seats in sorted(quotas.items()):
        quota = current.get(partner_id)
        if seats is None:
            if quota is not None:
                db.session.delete(quota)
        elif quota is None:
            # a new quota counts the partner's teachers who already hold a seat
            if holders is None:
                holders = _seat_holders_by_partner(intake)
            taken = holders.get(partner_id, 0)
            if seats < taken:
                raise CatalogError(_quota_message(taken), field=f"quotas.{partner_id}")
            db.session.add(IntakeQuota(intake_id=intake.id, partner_university_id=partner_id,
                                       seats=seats, seats_taken=taken))
        elif seats != quota.seats:
            changed = db.session.execute(
                update(IntakeQuota)
                .where(IntakeQuota.id == quota.id, IntakeQuota.seats_taken <= seats)
                .values(seats=seats)
                .execution_options(synchronize_session=False)
            )
            db.session.expire(quota, ["seats", "seats_taken"])
            if changed.rowcount != 1:
                raise CatalogError(_quota_message(quota.seats_taken), field=f"quotas.{partner_id}")
    db.session.flush()


def set_intake_open(intake: Intake, is_open: bool, actor: User) -> None:
    """Open or close an intake for applications (its dates still apply when open)."""
    intake.is_open = bool(is_open)
    db.session.flush()
    log.info("intake %s of program %s %s for applications by user %s", intake.id,
             intake.program.code, "opened" if is_open else "closed", actor.id)
