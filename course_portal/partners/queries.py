"""What a partner liaison sees: the university's teachers, applications, progress, certificates.

Every function takes the partner university's id and narrows every query to it; the views pass
the signed-in liaison's partner_university_id, never a value from the request. A page costs
the same few queries whatever the number of teachers: one count, one page of teachers with
their profiles, their applications with intake and program, then the ledgers' modules, rules,
module dates, results and final assessments and the certificates, each in one query for the
whole page (progress.services builds the ledgers and judges eligibility from them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import Intake, Module, Program
from course_portal.certificates.models import Certificate
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.enrollment.queue import REVIEWABLE, QueuePage, _term_matches, search_terms
from course_portal.extensions import db
from course_portal.progress import services as progress
from course_portal.progress.models import (
    FinalAssessment,
    ModuleSchedule,
    Outcome,
    ProgramRules,
)

S = ApplicationStatus
PER_PAGE = 25
#: the status filter's values besides a status: any status, and teachers who have not applied
ANY_STATUS = ""
NO_APPLICATION = "none"
#: statuses in which a coordinator records progress, so that hours and eligibility mean something
PROGRESS_STATUSES = frozenset({S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED})


@dataclass(frozen=True)
class PartnerFilters:
    """What the liaison asked to see."""

    intake_id: int | None = None
    #: ANY_STATUS, NO_APPLICATION or a reviewable status value
    status: str = ANY_STATUS
    search: str = ""

    def statuses(self) -> tuple[ApplicationStatus, ...]:
        """The application statuses shown; drafts are the teacher's own unfinished work."""
        if self.status in {s.value for s in REVIEWABLE}:
            return (S(self.status),)
        return REVIEWABLE

    @property
    def narrows_applications(self) -> bool:
        """True when only teachers with a matching application are listed."""
        return self.status != NO_APPLICATION and (
            self.status != ANY_STATUS or self.intake_id is not None)

    def query_args(self) -> dict[str, str | int]:
        """The filters that differ from the defaults, as URL query arguments."""
        args: dict[str, str | int] = {}
        if self.search:
            args["q"] = self.search
        if self.intake_id is not None:
            args["intake"] = self.intake_id
        if self.status != ANY_STATUS:
            args["status"] = self.status
        return args


@dataclass
class ApplicationRow:
    """One application with its ledger and eligibility (while progress counts) and certificates."""

    application: Application
    ledger: progress.Ledger | None = None
    eligibility: progress.Eligibility | None = None
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def modules_passed(self) -> int:
        """Modules passed so far."""
        if self.ledger is None:
            return 0
        return sum(1 for line in self.ledger.lines if line.outcome == Outcome.PASSED)

    @property
    def modules_total(self) -> int:
        """Modules of the program."""
        return len(self.ledger.lines) if self.ledger is not None else 0


@dataclass
class TeacherRow:
    """A teacher of the university and the applications the filters show."""

    teacher: User
    applications: list[ApplicationRow] = field(default_factory=list)


def _matching_application(filters: PartnerFilters):
    """EXISTS an application of the row's teacher that the filters show."""
    stmt = select(Application.id).where(
        Application.teacher_id == User.id, Application.status.in_(filters.statuses()))
    if filters.intake_id is not None:
        stmt = stmt.where(Application.intake_id == filters.intake_id)
    return exists(stmt)


def filtered_teachers(stmt: Select, partner_id: int, filters: PartnerFilters) -> Select:
    """The statement narrowed to the university's teachers and the filters."""
    stmt = (
        stmt.select_from(User)
        .join(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.role == Role.TEACHER, TeacherProfile.partner_university_id == partner_id)
    )
    for term in search_terms(filters.search):
        stmt = stmt.where(_term_matches(term))
    if filters.status == NO_APPLICATION:
        stmt = stmt.where(~_matching_application(PartnerFilters(intake_id=filters.intake_id)))
    elif filters.narrows_applications:
        stmt = stmt.where(_matching_application(filters))
    return stmt


def _teacher_order() -> tuple:
    return (func.lower(TeacherProfile.family_name_latin),
            func.lower(TeacherProfile.given_name_latin), User.id)


def _applications_of(teacher_ids: list[int], filters: PartnerFilters) -> list[Application]:
    """The teachers' applications the filters show, with intake and program, newest intake first."""
    if not teacher_ids or filters.status == NO_APPLICATION:
        return []
    stmt = (
        select(Application)
        .join(Intake, Intake.id == Application.intake_id)
        .join(Program, Program.id == Intake.program_id)
        .where(Application.teacher_id.in_(teacher_ids),
               Application.status.in_(filters.statuses()))
        .options(contains_eager(Application.intake).contains_eager(Intake.program))
        .order_by(Intake.starts_on.desc(), Application.id)
    )
    if filters.intake_id is not None:
        stmt = stmt.where(Application.intake_id == filters.intake_id)
    return list(db.session.scalars(stmt))


def ledgers(applications: list[Application]) -> dict[int, progress.Ledger]:
    """The ledgers of the applications in a progress status, by id, in five queries in all."""
    wanted = [a for a in applications if a.status in PROGRESS_STATUSES]
    if not wanted:
        return {}
    ids = [a.id for a in wanted]
    intakes = {a.intake_id: a.intake for a in wanted}
    program_ids = {intake.program_id for intake in intakes.values()}
    modules: dict[int, list[Module]] = {}
    for module in db.session.scalars(
        select(Module).where(Module.program_id.in_(program_ids))
        .order_by(Module.program_id, Module.position)
    ):
        modules.setdefault(module.program_id, []).append(module)
    rules = {row.program_id: row for row in db.session.scalars(
        select(ProgramRules).where(ProgramRules.program_id.in_(program_ids)))}
    schedules: dict[int, dict[int, ModuleSchedule]] = {}
    for row in db.session.scalars(
        select(ModuleSchedule).where(ModuleSchedule.intake_id.in_(list(intakes)))
    ):
        schedules.setdefault(row.intake_id, {})[row.module_id] = row
    results = progress.result_cells(ids)
    finals = {row.application_id: row for row in db.session.scalars(
        select(FinalAssessment).where(FinalAssessment.application_id.in_(ids)))}
    data = {
        intake_id: progress.IntakeData(
            intake=intake,
            modules=modules.get(intake.program_id, []),
            rules=rules.get(intake.program_id) or progress.default_rules(intake.program),
            schedule=schedules.get(intake_id, {}),
            results=results,
            finals=finals,
        )
        for intake_id, intake in intakes.items()
    }
    return {a.id: data[a.intake_id].ledger(a.id) for a in wanted}


def certificates_of(application_ids: list[int]) -> dict[int, list[Certificate]]:
    """Every certificate of the applications (valid, revoked, replaced), oldest first."""
    found: dict[int, list[Certificate]] = {}
    if not application_ids:
        return found
    for certificate in db.session.scalars(
        select(Certificate).where(Certificate.application_id.in_(application_ids))
        .order_by(Certificate.id)
    ):
        found.setdefault(certificate.application_id, []).append(certificate)
    return found


def application_rows(applications: list[Application]) -> list[ApplicationRow]:
    """The applications with their ledgers, eligibility and certificates, in a fixed few queries."""
    by_id = ledgers(applications)
    certificates = certificates_of([a.id for a in applications])
    rows = []
    for application in applications:
        ledger = by_id.get(application.id)
        rows.append(ApplicationRow(
            application=application,
            ledger=ledger,
            eligibility=progress.judge(ledger) if ledger is not None else None,
            certificates=certificates.get(application.id, []),
        ))
    return rows


def _teacher_rows(teachers: list[User], filters: PartnerFilters) -> list[TeacherRow]:
    rows = {teacher.id: TeacherRow(teacher) for teacher in teachers}
    applications = _applications_of(list(rows), filters)
    for row in application_rows(applications):
        rows[row.application.teacher_id].applications.append(row)
    return list(rows.values())


def _teachers_stmt(partner_id: int, filters: PartnerFilters) -> Select:
    return (
        filtered_teachers(select(User), partner_id, filters)
        .options(contains_eager(User.profile))
        .order_by(*_teacher_order())
    )


def teachers_page(partner_id: int, filters: PartnerFilters, page: int = 1,
                  per_page: int = PER_PAGE) -> QueuePage[TeacherRow]:
    """One page of the university's teachers; a page past the end shows the last one."""
    total = db.session.scalar(
        filtered_teachers(select(func.count(User.id)), partner_id, filters)) or 0
    page = min(max(page, 1), max(ceil(total / per_page), 1))
    teachers = list(db.session.scalars(
        _teachers_stmt(partner_id, filters).limit(per_page).offset((page - 1) * per_page)
    ))
    return QueuePage(rows=_teacher_rows(teachers, filters), total=total, page=page,
                     per_page=per_page)


def all_teachers(partner_id: int, filters: PartnerFilters) -> list[TeacherRow]:
    """Every teacher the filters show, for the exports."""
    return _teacher_rows(list(db.session.scalars(_teachers_stmt(partner_id, filters))), filters)


def intake_choices(partner_id: int) -> list[Intake]:
    """The intakes the university's teachers applied to, newest first, with their program."""
    applied = (
        select(Application.intake_id)
        .join(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
        .where(TeacherProfile.partner_university_id == partner_id,
               Application.status.in_(list(REVIEWABLE)))
    )
    return list(db.session.scalars(
        select(Intake).where(Intake.id.in_(applied)).options(joinedload(Intake.program))
        .order_by(Intake.starts_on.desc(), Intake.id.desc())
    ))


@dataclass
class TeacherDetail:
    """One teacher's page: the applications with their history, ledgers and certificates."""

    teacher: User
    applications: list[ApplicationRow]


def teacher_detail(teacher: User) -> TeacherDetail:
    """The teacher's applications (no drafts), newest intake first, with everything they show."""
    applications = list(db.session.scalars(
        select(Application)
        .join(Intake, Intake.id == Application.intake_id)
        .join(Program, Program.id == Intake.program_id)
        .where(Application.teacher_id == teacher.id, Application.status.in_(list(REVIEWABLE)))
        .options(contains_eager(Application.intake).contains_eager(Intake.program),
                 selectinload(Application.events))
        .order_by(Intake.starts_on.desc(), Application.id)
    ))
    return TeacherDetail(teacher=teacher, applications=application_rows(applications))
