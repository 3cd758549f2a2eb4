"""The hours ledger and eligibility: the one place where credited hours and completion are decided.

A module credits its attended hours (never more than its own hours) once it is passed;
attendance is every attended hour, capped per module, against the program's hours. A teacher is
eligible when attendance reaches the program's minimum, every module is passed and the final
assessment is passed. Pages, exports, closing an intake and certificates all read these figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, defer, load_only

from course_portal.catalog.models import Intake, Module, Program
from course_portal.core.i18n import current_language
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from course_portal.progress.models import (
    DEFAULT_MIN_ATTENDANCE_PERCENT,
    AssessmentKind,
    FinalAssessment,
    ModuleResult,
    ModuleSchedule,
    Outcome,
    ProgramRules,
)

if TYPE_CHECKING:  # the types only: roster_applications() imports accounts late
    from course_portal.accounts.models import TeacherProfile, User

RESULT_PASSED = "passed"
RESULT_NOT_PASSED = "not passed"
RESULT_PENDING = "pending"


# --- the pure rules -------------------------------------------------------------------------


class LedgerLine(NamedTuple):
    """One module in a teacher's ledger (a tuple: a roster page makes 850 of them, and a frozen
    dataclass sets each field through object.__setattr__)."""

    module_id: int
    position: int
    title: str
    #: the module's academic hours
    hours: int
    #: attended hours as recorded, capped at the module's hours
    attended: int
    outcome: Outcome
    #: hours this module adds to the teacher's credited hours
    credited: int
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Ledger:
    """A teacher's hours, module by module, with the totals every page shows."""

    lines: list[LedgerLine]
    hours_total: int
    hours_attended: int
    hours_credited: int
    final_outcome: Outcome
    final_score: int | None
    min_attendance_percent: int

    @property
    def attendance_share(self) -> float:
        """Attended hours as a share of the program's hours; 0.0 for a program without hours."""
        return self.hours_attended / self.hours_total if self.hours_total else 0.0

    @property
    def attendance_percent(self) -> int:
        """The attendance share in whole percent, rounded down (79.9% is not 80%)."""
        return self.hours_attended * 100 // self.hours_total if self.hours_total else 0

    @property
    def attendance_met(self) -> bool:
        """True when attendance reaches the minimum, in exact integer arithmetic."""
        return self.hours_total > 0 and (
            self.hours_attended * 100 >= self.min_attendance_percent * self.hours_total
        )


@dataclass(frozen=True)
class Eligibility:
    """Whether a teacher may receive the certificate, why not, and the hours behind it."""

    eligible: bool
    #: why not, in the reader's language; empty when eligible
    reasons: list[str] = field(default_factory=list)
    hours_credited: int = 0
    hours_total: int = 0
    attendance_share: float = 0.0
    #: "passed", "not passed" or "pending"
    result: str = RESULT_PENDING


def credited_hours(module_hours: int, attended: int, outcome: Outcome | str) -> int:
    """The hours one module credits: its attended hours, capped, once passed; else nothing."""
    if outcome is not Outcome.PASSED and Outcome(outcome) != Outcome.PASSED:
        return 0
    return max(0, min(attended, module_hours))


def build_ledger(
    modules: Sequence[tuple[int, int, int, str]],
    results: dict[int, tuple[int, Outcome | str]],
    final_outcome: Outcome | str = Outcome.PENDING,
    final_score: int | None = None,
    min_attendance_percent: int = DEFAULT_MIN_ATTENDANCE_PERCENT,
    schedule: dict[int, tuple[date, date]] | None = None,
) -> Ledger:
    """The ledger from plain values: modules as (id, position, hours, title), results by id."""
    schedule = schedule or {}
    lines = []
    for module_id, position, hours, title in modules:
        attended, outcome = results.get(module_id, (0, Outcome.PENDING))
        attended = max(0, min(attended, hours))
        if not isinstance(outcome, Outcome):
            outcome = Outcome(outcome)
        starts_on, ends_on = schedule.get(module_id, (None, None))
        lines.append(LedgerLine(
            module_id=module_id, position=position, title=title, hours=hours,
            attended=attended, outcome=outcome,
            credited=credited_hours(hours, attended, outcome),
            starts_on=starts_on, ends_on=ends_on,
        ))
    return Ledger(
        lines=lines,
        hours_total=sum(line.hours for line in lines),
        hours_attended=sum(line.attended for line in lines),
        hours_credited=sum(line.credited for line in lines),
        final_outcome=Outcome(final_outcome),
        final_score=final_score,
        min_attendance_percent=min_attendance_percent,
    )


def judge(ledger: Ledger, with_reasons: bool = True) -> Eligibility:
    """Eligibility from a ledger: attendance reached, every module passed, final passed.

    with_reasons=False leaves Eligibility.reasons empty and translates nothing: a roster page
    judges 50 teachers and shows only the result and the hours.
    """
    no_hours = ledger.hours_total == 0
    short = not no_hours and not ledger.attendance_met
    failed_modules = [line.position for line in ledger.lines if line.outcome == Outcome.FAILED]
    pending_modules = [line.position for line in ledger.lines if line.outcome == Outcome.PENDING]
    final_failed = ledger.final_outcome == Outcome.FAILED
    final_pending = ledger.final_outcome == Outcome.PENDING
    failed = bool(failed_modules) or final_failed
    pending = bool(pending_modules) or final_pending
    eligible = not (no_hours or short or failed or pending)
    reasons: list[str] = []
    if with_reasons and not eligible:
        if no_hours:
            reasons.append(_("the program has no modules with hours"))
        elif short:
            reasons.append(_("attendance %(share)d%% of %(required)d%% required",
                             share=ledger.attendance_percent,
                             required=ledger.min_attendance_percent))
        for line in ledger.lines:
            if line.outcome == Outcome.FAILED:
                reasons.append(_("module %(position)d not passed", position=line.position))
            elif line.outcome == Outcome.PENDING:
                reasons.append(_("module %(position)d not assessed yet", position=line.position))
        if final_failed:
            reasons.append(_("final assessment not passed"))
        elif final_pending:
            reasons.append(_("final assessment not taken yet"))
    if eligible:
        result = RESULT_PASSED
    elif failed or not pending:
        result = RESULT_NOT_PASSED
    else:
        result = RESULT_PENDING
    return Eligibility(
        eligible=eligible,
        reasons=reasons,
        hours_credited=ledger.hours_credited,
        hours_total=ledger.hours_total,
        attendance_share=ledger.attendance_share,
        result=result,
    )


def final_outcome(rules: ProgramRules, assessment: FinalAssessment | None) -> Outcome:
    """The final assessment's outcome under the rules: a score is judged against the pass mark."""
    if assessment is None:
        return Outcome.PENDING
    if rules.final_kind == AssessmentKind.SCORE:
        if assessment.score is None or rules.pass_mark is None:
            return Outcome.PENDING
        return Outcome.PASSED if assessment.score >= rules.pass_mark else Outcome.FAILED
    return Outcome(assessment.outcome)


# --- loading --------------------------------------------------------------------------------


def default_rules(program: Program) -> ProgramRules:
    """The rules a program has until a coordinator sets them (not added to the session)."""
    return ProgramRules(
        program_id=program.id,
        min_attendance_percent=DEFAULT_MIN_ATTENDANCE_PERCENT,
        final_kind=AssessmentKind.PASS_FAIL,
        max_score=100,
        pass_mark=None,
    )


def rules_for(program: Program) -> ProgramRules:
    """The program's completion rules, or the defaults (80% attendance, pass/fail final)."""
    rules = db.session.scalar(select(ProgramRules).where(ProgramRules.program_id == program.id))
    return rules if rules is not None else default_rules(program)


def schedule_of(intake: Intake) -> dict[int, ModuleSchedule]:
    """The intake's module dates by module id."""
    rows = db.session.scalars(select(ModuleSchedule).where(ModuleSchedule.intake_id == intake.id))
    return {row.module_id: row for row in rows}


class ResultCell(NamedTuple):
    """What a ledger and the grid read of one module result row: read as plain columns, since
    a roster page holds 850 of them and an ORM object for each was a tenth of its time."""

    id: int
    attended_hours: int
    outcome: Outcome


@dataclass
class IntakeData:
    """Everything the ledgers of one intake's applications need, loaded in a fixed few queries."""

    intake: Intake
    modules: list[Module]
    rules: ProgramRules
    schedule: dict[int, ModuleSchedule]
    #: (application id, module id) -> result row
    results: dict[tuple[int, int], ResultCell]
    #: application id -> final assessment row
    finals: dict[int, FinalAssessment]
    #: language -> the modules as ledgers take them (filled by _module_rows)
    _titled: dict[str, list] = field(default_factory=dict, repr=False, compare=False)

    def _module_rows(self) -> list[tuple[int, int, int, str]]:
        """The modules as build_ledger takes them, titled once per language for every ledger
        built from this data (a page's 50, or emails each in its reader's language)."""
        language = current_language()
        rows = self._titled.get(language)
        if rows is None:
            rows = self._titled[language] = [
                (m.id, m.position, m.hours, m.t("title", language)) for m in self.modules]
        return rows

    @cached_property
    def _dates(self) -> dict[int, tuple[date, date]]:
        return {m: (s.starts_on, s.ends_on) for m, s in self.schedule.items()}

    def ledger(self, application_id: int) -> Ledger:
        """The ledger of one of the loaded applications."""
        final = self.finals.get(application_id)
        results: dict[int, tuple[int, Outcome | str]] = {}
        for module in self.modules:
            row = self.results.get((application_id, module.id))
            if row is not None:
                results[module.id] = (row.attended_hours, row.outcome)
        return build_ledger(
            self._module_rows(),
            results,
            final_outcome=final_outcome(self.rules, final),
            final_score=final.score if final is not None else None,
            min_attendance_percent=self.rules.min_attendance_percent,
            schedule=self._dates,
        )


def result_cells(application_ids: Sequence[int]) -> dict[tuple[int, int], ResultCell]:
    """The module results of these applications by (application id, module id)."""
    if not application_ids:
        return {}
    return {
        (application_id, module_id): ResultCell(row_id, hours, outcome)
        for application_id, module_id, row_id, hours, outcome in db.session.execute(
            select(ModuleResult.application_id, ModuleResult.module_id, ModuleResult.id,
                   ModuleResult.attended_hours, ModuleResult.outcome)
            .where(ModuleResult.application_id.in_(list(application_ids))))
    }


def load_intake_data(intake: Intake, application_ids: Iterable[int]) -> IntakeData:
    """Modules, rules, schedule, results and finals for these applications of the intake."""
    ids = list(application_ids)
    modules = list(db.session.scalars(
        select(Module).where(Module.program_id == intake.program_id).order_by(Module.position)
    ))
    results = result_cells(ids)
    finals: dict[int, FinalAssessment] = {}
    if ids:
        for assessment in db.session.scalars(
            select(FinalAssessment).where(FinalAssessment.application_id.in_(ids))
        ):
            finals[assessment.application_id] = assessment
    return IntakeData(
        intake=intake,
        modules=modules,
        rules=rules_for(intake.program),
        schedule=schedule_of(intake),
        results=results,
        finals=finals,
    )


def hours_ledger(application: Application) -> Ledger:
    """The application's ledger: per module hours, attendance, result, credit, and the totals."""
    return load_intake_data(application.intake, [application.id]).ledger(application.id)


def eligibility(application: Application) -> Eligibility:
    """Whether the teacher of the application may be certified, and if not, why."""
    return judge(hours_ledger(application))


def eligibilities(intake: Intake, applications: Sequence[Application]) -> dict[int, Eligibility]:
    """Eligibility of many applications of one intake, by application id, in a few queries."""
    data = load_intake_data(intake, [a.id for a in applications])
    return {a.id: judge(data.ledger(a.id)) for a in applications}


def roster_applications(intake: Intake, statuses: Iterable[str], limit: int | None = None,
                        offset: int = 0, names_only: bool = False) -> list[Application]:
    """The intake's applications in these statuses with teacher and profile, by Latin name;
    with limit, one page of them. names_only loads of each what the roster grid shows and
    saves (status, teacher, names): the rest of three tables' rows was a sixth of its time."""
    from course_portal.accounts.models import TeacherProfile, User

    stmt = (
        select(Application)
        .join(User, User.id == Application.teacher_id)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(Application.intake_id == intake.id, Application.status.in_(list(statuses)))
        # the teacher and profile from the join the order needs, the long texts left out
        .options(*(_names_only(User, TeacherProfile) if names_only else (
            contains_eager(Application.teacher).contains_eager(User.profile),
            defer(Application.motivation), defer(Application.reason))))
        .order_by(TeacherProfile.family_name_latin, TeacherProfile.given_name_latin,
                  Application.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def _names_only(user: type[User], profile: type[TeacherProfile]) -> tuple:
    return (
        load_only(Application.teacher_id, Application.intake_id, Application.status),
        contains_eager(Application.teacher)
        .load_only(user.email, user.display_name)
        .contains_eager(user.profile)
        .load_only(profile.user_id, profile.family_name_zh, profile.given_name_zh,
                   profile.family_name_latin, profile.given_name_latin, profile.name_ru),
    )


def count_roster_applications(intake: Intake, statuses: Iterable[str]) -> int:
    """How many applications of the intake are in these statuses."""
    return db.session.scalar(
        select(func.count(Application.id))
        .where(Application.intake_id == intake.id, Application.status.in_(list(statuses)))
    ) or 0


# --- where a teacher stands -----------------------------------------------------------------

MODULE_DONE = "done"
MODULE_CURRENT = "current"
MODULE_UPCOMING = "upcoming"
MODULE_UNSCHEDULED = "unscheduled"


def module_state(line: LedgerLine, today: date) -> str:
    """done (result given or dates over), current, upcoming, or unscheduled."""
    if line.outcome != Outcome.PENDING or (line.ends_on is not None and line.ends_on < today):
        return MODULE_DONE
    if line.starts_on is None:
        return MODULE_UNSCHEDULED
    return MODULE_CURRENT if line.starts_on <= today else MODULE_UPCOMING


@dataclass(frozen=True)
class Standing:
    """Whether the teacher is on track today, and which module comes next."""

    on_track: bool
    #: the module being taught today, or else the next one not done; None when all are done
    next_line: LedgerLine | None
    #: attendance of the modules done so far, in whole percent (None: nothing done yet)
    attendance_so_far: int | None


def standing(ledger: Ledger, today: date) -> Standing:
    """On track means nothing failed and attendance of the modules done so far reaches the rule."""
    states = [(line, module_state(line, today)) for line in ledger.lines]
    done = [line for line, state in states if state == MODULE_DONE]
    open_lines = [line for line, state in states if state != MODULE_DONE]
    current = [line for line, state in states if state == MODULE_CURRENT]
    next_line = current[0] if current else (open_lines[0] if open_lines else None)
    hours_done = sum(line.hours for line in done)
    attended_done = sum(line.attended for line in done)
    failed = any(line.outcome == Outcome.FAILED for line in ledger.lines) or (
        ledger.final_outcome == Outcome.FAILED)
    attendance_ok = attended_done * 100 >= ledger.min_attendance_percent * hours_done
    return Standing(
        on_track=not failed and attendance_ok,
        next_line=next_line,
        attendance_so_far=attended_done * 100 // hours_done if hours_done else None,
    )
