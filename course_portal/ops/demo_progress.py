"""Demo of a finished course: a past IE intake, results, closing, certificates and their states.

The intake's application window is in the past, so its applications are made as rows, as if
submitted then. Everything after that goes through the services a coordinator's pages call:
approval and enrollment through transition(), the schedule, results (with their history) and
closing through progress, and the certificates through certificates.services, which number,
render and store real PDFs. One certificate is then revoked and one re-issued, so the registry
and the public verification page show every state.

Created once: a later run finds the finished intake by its program and dates (its title comes
from a season that moves on) and only issues a certificate to a completed demo teacher who
holds none at all.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake, Module, Program
from course_portal.certificates.models import Certificate
from course_portal.certificates.services import issue_certificate, reissue, revoke
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.core.outbox import OutboxMessage
from course_portal.db import utcnow
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.documents import store_document
from course_portal.enrollment.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    DocumentKind,
)
from course_portal.extensions import db
from course_portal.ops.demo_applications import (
    COORDINATOR_EMAIL,
    PROGRAM_CODE,
    can_apply,
    demo_documents,
)
from course_portal.progress.grid import final_key, hours_key, load_roster, outcome_key, save_grid
from course_portal.progress.models import ModuleResult, ModuleSchedule, ResultChange
from course_portal.progress.records import close_intake, save_schedule

if TYPE_CHECKING:
    from course_portal.ops.demo import DemoSummary

S = ApplicationStatus

#: the program whose open intake gets module dates (IE's open intake is left to coordinators)
SCHEDULED_PROGRAM_CODE = "IS"

#: the finished intake, relative to the portal's today when first created
STARTED_MONTHS_AGO = 8
WINDOW_OPENS_DAYS_BEFORE_START = 75
WINDOW_CLOSES_DAYS_BEFORE_START = 30
CAPACITY = 30

REVOKE_REASON = "Issued by mistake: the teacher asked to withdraw."
REISSUE_REASON = "The Latin spelling of the name was corrected."


@dataclass(frozen=True)
class PastTeacher:
    """One demo teacher of the finished intake: hours missed per module position, the final."""

    email: str
    motivation: str
    funding_source: str
    #: module position -> academic hours missed (every module passed)
    missed: dict
    #: what happens to the certificate after issuing: "", "revoke" or "reissue"
    certificate: str = ""


#: in the order they applied; the first four complete, the last attends too little
TEACHERS = [
    PastTeacher("wang.fang@example.com",
                "我讲授公司金融，希望系统学习投资项目评估方法。", "moe_china", {}),
    PastTeacher("zhang.jing@example.com",
                "Хочу вести курс делового русского для экономистов на материале инвестиций.",
                "home_university", {2: 2, 5: 2}, certificate="revoke"),
    PastTeacher("ouyang.nana@example.com",
                "系里正在修订金融学培养方案，需要了解风险投资课程的设计。", "home_university",
                {3: 2}),
    PastTeacher("chen.hao@example.com",
                "I teach investment analysis and want venture financing cases for my course.",
                "self_funded", {1: 2, 6: 4}, certificate="reissue"),
    # 20 of 72 hours missed: 72% attended, below the 80% the rules ask for
    PastTeacher("liu.yang@example.com",
                "I assist in the digital economy course and want to learn investment basics.",
                "home_university", {2: 4, 3: 6, 4: 4, 6: 6}),
]


def _at(day: date, hour: int = 10) -> datetime:
    """A moment of a past day, in UTC like utcnow()."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def finished_intake(program: Program, today: date) -> Intake | None:
    """The demo's finished intake: the program's first one that ended before today."""
    return db.session.scalar(
        select(Intake).where(Intake.program_id == program.id, Intake.ends_on < today)
        .order_by(Intake.id).limit(1)
    )


def _new_intake(program: Program, today: date) -> Intake:
    from course_portal.ops.demo import add_months, season_titles

    starts_on = add_months(today, -STARTED_MONTHS_AGO)
    intake = Intake(
        program_id=program.id,
        **season_titles(starts_on),
        applications_open_on=starts_on - timedelta(days=WINDOW_OPENS_DAYS_BEFORE_START),
        applications_close_on=starts_on - timedelta(days=WINDOW_CLOSES_DAYS_BEFORE_START),
        starts_on=starts_on,
        ends_on=add_months(starts_on, program.duration_months) - timedelta(days=1),
        capacity=CAPACITY,
    )
    db.session.add(intake)
    db.session.flush()
    return intake


def _submitted_at(intake: Intake) -> datetime:
    return _at(intake.applications_open_on + timedelta(days=10))


def _submitted_application(spec: PastTeacher, teacher: User, intake: Intake) -> Application:
    """A submitted application as the teacher made it in the (past) window, with documents.

    Made as a draft row (save_draft and submit refuse a closed window), its documents stored
    through store_document, then marked submitted with the history row submit() would write.
    """
    submitted_at = _submitted_at(intake)
    application = Application(
        teacher_id=teacher.id, intake_id=intake.id, status=S.DRAFT,
        motivation=spec.motivation, funding_source=spec.funding_source,
        consent_at=submitted_at,
    )
    db.session.add(application)
    db.session.add(ApplicationEvent(application=application, actor_id=teacher.id,
                                    from_status=None, to_status=S.DRAFT,
                                    created_at=submitted_at - timedelta(hours=1)))
    db.session.flush()
    for kind, filename, data in demo_documents(teacher):
        store_document(application, kind, filename, io.BytesIO(data), actor=teacher)
    application.status = S.SUBMITTED
    application.submitted_at = submitted_at
    db.session.add(ApplicationEvent(application=application, actor_id=teacher.id,
                                    from_status=S.DRAFT, to_status=S.SUBMITTED,
                                    created_at=submitted_at))
    db.session.flush()
    return application


def _schedule(intake: Intake, modules: list[Module]) -> dict:
    """Consecutive module dates across the intake, in proportion to the modules' hours."""
    days = (intake.ends_on - intake.starts_on).days + 1
    total = sum(m.hours for m in modules)
    dates, start, used = {}, intake.starts_on, 0
    for index, module in enumerate(modules):
        used += module.hours
        end = (intake.ends_on if index == len(modules) - 1
               else intake.starts_on + timedelta(days=days * used // total - 1))
        dates[module.id] = (start, end)
        start = end + timedelta(days=1)
    return dates


def _record_results(intake: Intake, applications: dict[str, Application], modules,
                    coordinator: User) -> None:
    """Every teacher's hours and results through the grid, then one correction (the history)."""
    cells = {}
    for spec in TEACHERS:
        application = applications[spec.email]
        for module in modules:
            cells[hours_key(application.id, module.id)] = str(
                module.hours - spec.missed.get(module.position, 0))
            cells[outcome_key(application.id, module.id)] = "passed"
        cells[final_key(application.id)] = "passed"
    # first entered with one module's hours mistyped, then corrected: the record shows both
    ouyang, third = applications["ouyang.nana@example.com"], modules[2]
    typo = hours_key(ouyang.id, third.id)
    corrected = cells[typo]
    cells[typo] = str(int(corrected) - 4)
    save_grid(load_roster(intake), cells, coordinator)
    save_grid(load_roster(intake), {typo: corrected}, coordinator)


def _backdate(intake: Intake, ids: list[int]) -> None:
    """Date the decisions, enrollment and results when they happened, not today.

    Only timestamps change; every status and value above came from the services.
    """
    decided = _at(intake.applications_close_on + timedelta(days=5))
    events = {S.APPROVED: decided, S.ENROLLED: _at(intake.starts_on, 9),
              S.COMPLETED: _at(intake.ends_on, 18), S.NOT_COMPLETED: _at(intake.ends_on, 18)}
    for status, moment in events.items():
        db.session.execute(
            update(ApplicationEvent)
            .where(ApplicationEvent.application_id.in_(ids), ApplicationEvent.to_status == status)
            .values(created_at=moment).execution_options(synchronize_session=False))
    db.session.execute(
        update(Application).where(Application.id.in_(ids))
        .values(decided_at=decided, created_at=_submitted_at(intake) - timedelta(hours=1),
                updated_at=_at(intake.ends_on, 18))
        .execution_options(synchronize_session=False))
    recorded = _at(intake.ends_on - timedelta(days=3), 15)
    db.session.execute(
        update(ResultChange).where(ResultChange.application_id.in_(ids))
        .values(created_at=recorded).execution_options(synchronize_session=False))
    db.session.execute(
        update(ModuleResult).where(ModuleResult.application_id.in_(ids))
        .values(updated_at=recorded).execution_options(synchronize_session=False))
    # the audit log tells the same story at the same moments
    moments = {"document.uploaded": _submitted_at(intake) - timedelta(minutes=30),
               "result.changed": recorded, "final_assessment.changed": recorded,
               **{f"application.{status.value}": moment for status, moment in events.items()}}
    for action, moment in moments.items():
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.object_type == "applications", AuditEvent.object_id.in_(ids),
                   AuditEvent.action == action)
            .values(occurred_at=moment).execution_options(synchronize_session=False))
    for action, moment in (("schedule.changed", _at(intake.starts_on - timedelta(days=7))),
                           ("intake.finalised", _at(intake.ends_on, 18))):
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.object_type == "intakes", AuditEvent.object_id == intake.id,
                   AuditEvent.action == action)
            .values(occurred_at=moment).execution_options(synchronize_session=False))


def _issue_certificates(intake: Intake, coordinator: User, summary: DemoSummary) -> list[str]:
    """A certificate for each completed demo teacher holding none; then revoke one, re-issue one.

    Returns the registry numbers issued.
    """
    teachers = {spec.email: spec for spec in TEACHERS}
    rows = db.session.execute(
        select(Application, User.email).join(User, User.id == Application.teacher_id)
        .where(Application.intake_id == intake.id, Application.status == S.COMPLETED,
               User.email.in_(list(teachers)))
        .order_by(Application.id)
    ).all()
    held = list(db.session.scalars(
        select(Certificate.application_id)
        .where(Certificate.application_id.in_([a.id for a, _ in rows]))))
    summary.present["certificates"] += len(held)
    issued = []
    for application, email in rows:
        if application.id in held:
            continue
        certificate = issue_certificate(application, coordinator)
        issued.append(certificate.registry_number)
        summary.created["certificates"] += 1
        action = teachers[email].certificate
        if action == "revoke":
            revoke(certificate, coordinator, REVOKE_REASON)
        elif action == "reissue":
            issued.append(reissue(certificate, coordinator, REISSUE_REASON).registry_number)
            summary.created["certificates"] += 1
    return issued


def load_open_schedule(summary: DemoSummary) -> None:
    """Module dates for the IS program's open intake, when it has none at all."""
    program = db.session.scalar(select(Program).where(Program.code == SCHEDULED_PROGRAM_CODE))
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    if program is None or coordinator is None or not coordinator.has_role(Role.COORDINATOR):
        return
    intake = db.session.scalar(
        select(Intake).where(Intake.program_id == program.id, Intake.ends_on >= portal_today())
        .order_by(Intake.id).limit(1))
    if intake is None:
        return
    if db.session.scalar(select(ModuleSchedule.id).where(ModuleSchedule.intake_id == intake.id)
                         .limit(1)) is not None:
        summary.present["schedules"] += 1
        return
    modules = list(db.session.scalars(
        select(Module).where(Module.program_id == program.id).order_by(Module.position)))
    if modules:
        save_schedule(intake, _schedule(intake, modules), coordinator)
        summary.created["schedules"] += 1


def load_finished_intake(summary: DemoSummary) -> None:
    """Create the finished intake with its results, closing and certificates when missing."""
    today = portal_today()
    program = db.session.scalar(select(Program).where(Program.code == PROGRAM_CODE))
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    if program is None or coordinator is None or not coordinator.has_role(Role.COORDINATOR):
        summary.notes.append("finished demo intake not created: the program or the demo "
                             "coordinator is missing")
        return
    last_message_id = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    emails = [spec.email for spec in TEACHERS]
    intake = finished_intake(program, today)
    if intake is not None:
        summary.present["finished intakes"] += 1
        issued = _issue_certificates(intake, coordinator, summary)
    else:
        teachers = {user.email: user for user in db.session.scalars(
            select(User).where(User.email.in_(emails)))}
        unusable = [email for email in emails if not can_apply(teachers.get(email))]
        if unusable:
            summary.notes.append("finished demo intake not created: these demo accounts are "
                                 "missing, disabled or their profile incomplete: "
                                 + ", ".join(unusable))
            return
        intake = _new_intake(program, today)
        applications = {spec.email: _submitted_application(spec, teachers[spec.email], intake)
                        for spec in TEACHERS}
        for application in applications.values():
            enrollment.approve(application, coordinator)
        for application in applications.values():
            enrollment.transition(application, S.ENROLLED, coordinator)
        modules = list(db.session.scalars(
            select(Module).where(Module.program_id == program.id).order_by(Module.position)))
        save_schedule(intake, _schedule(intake, modules), coordinator)
        _record_results(intake, applications, modules, coordinator)
        closed = close_intake(intake, coordinator)
        _backdate(intake, [a.id for a in applications.values()])
        summary.created["finished intakes"] += 1
        summary.created["finished-intake applications"] += len(applications)
        summary.created["documents"] += len(applications) * len(DocumentKind)
        issued = _issue_certificates(intake, coordinator, summary)
        summary.lines.append(
            f"finished intake “{intake.title}” of {program.code}: {len(closed.completed)} "
            f"completed, {len(closed.not_completed)} not completed")
    if issued:
        summary.lines.append(f"certificates issued: {', '.join(issued)}")
    # The services queued the emails a real teacher would get. Marked sent, never sent: the
    # addresses are example.com, and a site that configures SMTP later must not mail a burst
    # of demo notices. attempts stays 0, which tells them from messages really sent.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > last_message_id, OutboxMessage.sent_at.is_(None),
               OutboxMessage.to_address.in_(emails))
        .values(sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()

