"""Coordinators' operations around results: rules, the schedule, the history, closing an intake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake, Module, Program
from course_portal.core.audit import record
from course_portal.core.clock import portal_today
from course_portal.enrollment.errors import EnrollmentError
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.enrollment.services import transition
from course_portal.extensions import db
from course_portal.progress.errors import ProgressError
from course_portal.progress.models import AssessmentKind, ModuleSchedule, ProgramRules, ResultChange
from course_portal.progress.services import judge, load_intake_data, roster_applications

S = ApplicationStatus
#: the completion rules' columns, compared before and after a save for the audit log
RULE_FIELDS = ("min_attendance_percent", "final_kind", "max_score", "pass_mark")


def _check_actor(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.COORDINATOR):
        raise ProgressError(_l("Only a course coordinator can do this."))


# --- rules ----------------------------------------------------------------------------------


def save_rules(
    program: Program,
    actor: User | None,
    min_attendance_percent: int | None,
    final_kind: AssessmentKind | str,
    max_score: int | None = None,
    pass_mark: int | None = None,
) -> ProgramRules:
    """Set the program's completion rules; a scored final assessment needs a pass mark."""
    _check_actor(actor)
    try:
        final_kind = AssessmentKind(final_kind)
    except ValueError:
        raise ProgressError(_l("Choose how the final assessment is graded."),
                            field="final_kind") from None
    errors: dict[str | None, list] = {}
    if min_attendance_percent is None or not 0 <= min_attendance_percent <= 100:
        errors["min_attendance_percent"] = [_l("Enter a share from 0 to 100 percent.")]
    max_score = max_score or 100
    if final_kind == AssessmentKind.SCORE:
        if max_score <= 0:
            errors["max_score"] = [_l("The best score must be above 0.")]
        if pass_mark is None or not 0 <= pass_mark <= max_score:
            errors["pass_mark"] = [_l("Enter the pass mark, from 0 to the best score.")]
    else:
        pass_mark = None
    if errors:
        raise ProgressError(errors=errors)
    assert min_attendance_percent is not None  # an error otherwise
    rules = db.session.scalar(select(ProgramRules).where(ProgramRules.program_id == program.id))
    if rules is None:
        rules = ProgramRules(program_id=program.id)
        db.session.add(rules)
    before = {name: getattr(rules, name) for name in RULE_FIELDS}
    rules.min_attendance_percent = min_attendance_percent
    rules.final_kind = final_kind
    rules.max_score = max_score
    rules.pass_mark = pass_mark
    changed = {name: [_plain(before[name]), _plain(getattr(rules, name))]
               for name in RULE_FIELDS if before[name] != getattr(rules, name)}
    if changed:
        record("rules.changed", actor=actor, target=program, program=program.code,
               changed=changed)
    db.session.flush()
    return rules


def _plain(value):
    """A rule's value as JSON: an enum's value, a number or None."""
    return getattr(value, "value", value)


# --- schedule -------------------------------------------------------------------------------


def save_schedule(
    intake: Intake,
    dates: dict[int, tuple[date | None, date | None]],
    actor: User | None,
) -> dict[int, ModuleSchedule]:
    """Set each module's dates in the intake: both or neither, in order, inside the intake's."""
    _check_actor(actor)
    modules = {m.id: m for m in db.session.scalars(
        select(Module).where(Module.program_id == intake.program_id))}
    existing = {row.module_id: row for row in db.session.scalars(
        select(ModuleSchedule).where(ModuleSchedule.intake_id == intake.id))}
    errors: dict[str | None, list] = {}
    for module_id, (starts_on, ends_on) in dates.items():
        if module_id not in modules:
            continue
        name = f"modules.{module_id}"
        if (starts_on is None) != (ends_on is None):
            errors[name] = [_l("Give both dates, or neither.")]
        elif starts_on is None or ends_on is None:
            continue  # neither: the module has no dates
        elif ends_on < starts_on:
            errors[name] = [_l("The module cannot end before it starts.")]
        elif starts_on < intake.starts_on or ends_on > intake.ends_on:
            errors[name] = [_l("Keep the dates within the intake's, %(starts)s to %(ends)s.",
                               starts=intake.starts_on.isoformat(),
                               ends=intake.ends_on.isoformat())]
    if errors:
        raise ProgressError(errors=errors)
    for module_id, (starts_on, ends_on) in dates.items():
        if module_id not in modules:
            continue
        row = existing.get(module_id)
        if starts_on is None or ends_on is None:  # both or neither (checked above)
            if row is not None:
                db.session.delete(row)
                del existing[module_id]
            continue
        if row is None:
            row = existing[module_id] = ModuleSchedule(intake_id=intake.id, module_id=module_id,
                                                       starts_on=starts_on, ends_on=ends_on)
            db.session.add(row)
        row.starts_on, row.ends_on = starts_on, ends_on
    record("schedule.changed", actor=actor, target=intake, intake=intake.title,
           modules=len([m for m in dates if m in modules]))
    db.session.flush()
    return existing


# --- history --------------------------------------------------------------------------------


def result_history(application: Application) -> list[ResultChange]:
    """Every audited change of the application's results, newest first, with module and actor."""
    return list(db.session.scalars(
        select(ResultChange)
        .where(ResultChange.application_id == application.id)
        .options(selectinload(ResultChange.module), selectinload(ResultChange.actor))
        .order_by(ResultChange.created_at.desc(), ResultChange.id.desc())
    ))


# --- closing an intake ----------------------------------------------------------------------


@dataclass
class CloseOutcome:
    """What close_intake did."""

    completed: list[int] = field(default_factory=list)
    not_completed: list[int] = field(default_factory=list)
    #: application id -> why it was not moved (someone changed it meanwhile)
    failed: dict[int, object] = field(default_factory=dict)


def close_intake(intake: Intake, actor: User | None) -> CloseOutcome:
    """Move every enrolled application to completed or not_completed by the rules, with emails.

    From the intake's last day on. Each teacher not completing is told what was missing, in
    their language. Moves go through enrollment.services.transition(); the caller commits.
    """
    _check_actor(actor)
    if intake.ends_on > portal_today():
        raise ProgressError(_l("The intake ends on %(day)s; close it from that day on.",
                               day=intake.ends_on.isoformat()))
    applications = roster_applications(intake, [S.ENROLLED])
    data = load_intake_data(intake, [a.id for a in applications])
    languages = current_app.config["LANGUAGES"]
    outcome = CloseOutcome()
    for application in applications:
        ledger = data.ledger(application.id)
        locale = application.teacher.locale
        with force_locale(locale if locale in languages else
                          current_app.config["BABEL_DEFAULT_LOCALE"]):
            verdict = judge(ledger)
            reason = "" if verdict.eligible else "\n".join(verdict.reasons)
        target = S.COMPLETED if verdict.eligible else S.NOT_COMPLETED
        try:
            transition(application, target, actor, reason=reason)
        except EnrollmentError as exc:
            outcome.failed[application.id] = exc.message
            continue
        (outcome.completed if verdict.eligible else outcome.not_completed).append(application.id)
    record("intake.finalised", actor=actor, target=intake, intake=intake.title,
           completed=len(outcome.completed), not_completed=len(outcome.not_completed),
           failed=len(outcome.failed))
    return outcome


def intakes_to_close(today: date | None = None) -> list[Intake]:
    """Intakes that have ended and still have enrolled teachers, by end date."""
    today = today or portal_today()
    return list(db.session.scalars(
        select(Intake)
        .where(
            Intake.ends_on <= today,
            select(Application.id)
            .where(Application.intake_id == Intake.id, Application.status == S.ENROLLED)
            .exists(),
        )
        .order_by(Intake.ends_on, Intake.id)
    ))


def close_all_ended() -> str:
    """The timed step: close each intake CLOSE_ENDED_AFTER_DAYS after its last day; commits."""
    grace = int(current_app.config["CLOSE_ENDED_AFTER_DAYS"])
    closed = 0
    for intake in intakes_to_close(portal_today() - timedelta(days=grace)):
        close_intake(intake, actor=None)
        db.session.commit()
        closed += 1
    return f"closed {closed}"
