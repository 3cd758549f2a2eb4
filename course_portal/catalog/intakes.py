"""Managing intakes: dates, the application window, capacity, partner quotas, opening.

Split from services.py (programs and modules stay there). As there, each function takes plain
values and the acting user, changes rows, writes the audit row and flushes; it never commits.
When a rule says no it raises CatalogError, and the caller rolls back.
"""

from __future__ import annotations

import logging
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from course_portal.accounts.models import User
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import Intake, PartnerUniversity, Program
from course_portal.catalog.services import (
    CAPACITY_MAX,
    CONFIRM_WITHIN_DAYS_MAX,
    INTAKE_FIELDS,
    INTAKE_TITLE_MAX,
    _text_problems,
)
from course_portal.core.audit import record
from course_portal.enrollment import seats as seat_rules
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.errors import SeatsTaken
from course_portal.extensions import db

log = logging.getLogger(__name__)


def save_intake(
    program: Program, intake: Intake | None, *, actor: User, quotas: dict, **values
) -> Intake:
    """Create an intake of the program (intake None) or change one, with its partner quotas.

    values are INTAKE_FIELDS. quotas maps a partner university id to its seats, or to None
    for no quota; partner universities left out keep what they have. The seats themselves
    are enrollment's (seats.resize, services.change_quotas): conditional UPDATEs, so an
    approval at the same moment cannot push the seats taken above them, and seats that a
    larger capacity or quota frees go to the waiting list at once.
    """
    missing = set(INTAKE_FIELDS) - set(values)
    unknown = set(values) - set(INTAKE_FIELDS)
    if missing or unknown:
        raise TypeError(f"save_intake: missing {sorted(missing)}, unknown {sorted(unknown)}")
    for name in ("title_zh", "title_ru"):  # optional: a form that leaves them out gives None
        values[name] = values[name] or ""
    errors = _intake_problems(program, intake, values)
    errors.update(_quota_problems(intake, quotas))
    if errors:
        raise CatalogError(errors=errors)

    created = intake is None
    before = {} if created else {name: getattr(intake, name) for name in INTAKE_FIELDS}
    capacity = values["capacity"]
    seats_before = None if intake is None else seat_rules.seats_now(intake)
    if intake is None:
        intake = Intake(program_id=program.id, capacity=capacity, seats_taken=0)
        db.session.add(intake)
    else:
        try:
            seat_rules.resize(intake, capacity)  # the first write: the intake's row lock
        except SeatsTaken as refused:
            raise CatalogError(errors=refused.errors) from None
    for name in INTAKE_FIELDS:
        if name != "capacity":
            setattr(intake, name, values[name])
    intake.is_open = bool(values["is_open"])
    try:
        db.session.flush()
    except IntegrityError as error:
        # the same title saved by someone else a moment ago
        raise CatalogError(_title_taken(), field="title") from error
    try:
        # and the seats a larger capacity or quota freed go to the waiting list, mailed
        enrollment.change_quotas(intake, quotas, actor, seats_before)
    except SeatsTaken as refused:
        raise CatalogError(errors=refused.errors) from None
    log.info("intake %s of program %s %s by user %s", intake.id, program.code,
             "created" if created else "updated", actor.id)
    changed = {name: [_plain(before[name]), _plain(values[name])] for name in before
               if before[name] != values[name]}
    if created or changed:
        record("intake.created" if created else "intake.updated", actor=actor, target=intake,
               program=program.code, intake=intake.title, changed=changed)
    return intake


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
    for name in ("title_zh", "title_ru"):
        _text_problems(errors, name, values[name], INTAKE_TITLE_MAX, required=False)
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
        errors["capacity"] = [seat_rules.capacity_message(intake.seats_taken)]
    # None: approved teachers are not asked to confirm (deadlines already set stay as they are)
    days = values["confirm_within_days"]
    if days is not None and (not isinstance(days, int) or not 1 <= days <= CONFIRM_WITHIN_DAYS_MAX):
        errors["confirm_within_days"] = [
            _l("From 1 to %(num)d days, or leave it empty.", num=CONFIRM_WITHIN_DAYS_MAX)]
    return errors


def _quota_problems(intake: Intake | None, quotas: dict) -> dict:
    """The rules of the quotas: known partner universities, seats not below those taken."""
    errors: dict[str | None, list] = {}
    known = set(db.session.scalars(
        select(PartnerUniversity.id).where(PartnerUniversity.id.in_(list(quotas)))))
    if set(quotas) - known:
        errors[None] = [_l("A partner university of this list no longer exists. "
                           "Open the page again and redo your changes.")]
    current = seat_rules.quotas_of(intake) if intake is not None else {}
    for partner_id, seats in quotas.items():
        if seats is None:
            continue
        if not isinstance(seats, int) or not 0 <= seats <= CAPACITY_MAX:
            errors[f"quotas.{partner_id}"] = [_l("From 0 to %(num)d seats, or leave it empty.",
                                                 num=CAPACITY_MAX)]
        elif partner_id in current and seats < current[partner_id].seats_taken:
            errors[f"quotas.{partner_id}"] = [
                seat_rules.quota_message(current[partner_id].seats_taken)]
    return errors


def _plain(value):
    """A value as JSON for the audit log: dates as ISO text."""
    return value.isoformat() if isinstance(value, date) else value


def set_intake_open(intake: Intake, is_open: bool, actor: User) -> None:
    """Open or close an intake for applications (its dates still apply when open)."""
    intake.is_open = bool(is_open)
    db.session.flush()
    log.info("intake %s of program %s %s for applications by user %s", intake.id,
             intake.program.code, "opened" if is_open else "closed", actor.id)
    record("intake.opened" if is_open else "intake.closed", actor=actor, target=intake,
           program=intake.program.code, intake=intake.title)
