"""Helpers for the issuing tests: teachers who completed a program, certificates, the outbox."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from course_portal.certificates.models import Certificate, RegistryCounter
from course_portal.core.clock import portal_today
from course_portal.core.outbox import OutboxMessage
from course_portal.extensions import db
from course_portal.progress.models import FinalAssessment, ModuleResult, Outcome
from tests import factories


def make_finished_intake(code: str = "IE", **fields):
    """The Investment Ecosystem program (72 hours) and an intake that ended last month."""
    program = factories.make_program(
        code=code, hours=(8, 16, 24, 24), title_en="Investment Ecosystem",
        title_zh="投资生态系统", title_ru="Инвестиционная экосистема",
    )
    factories.make_signatories(program)
    today = portal_today()
    return factories.make_intake(
        program, title=fields.pop("title", "Spring 2026"), capacity=fields.pop("capacity", 60),
        applications_open_on=today - timedelta(days=200),
        applications_close_on=today - timedelta(days=160),
        starts_on=today - timedelta(days=150), ends_on=today - timedelta(days=30), **fields,
    )


def tianshui():
    """Tianshui Pedagogical University, created once per test database."""
    from course_portal.catalog.models import PartnerUniversity

    found = db.session.scalar(select(PartnerUniversity).where(
        PartnerUniversity.name_en == "Tianshui Pedagogical University"))
    return found or factories.make_partner(
        name_en="Tianshui Pedagogical University", name_zh="天水师范学院",
        name_ru="Тяньшуйский педагогический университет")


def make_completed(intake, teacher=None, passed: bool = True, **teacher_fields):
    """An enrolled teacher of the intake with every module and the final assessment recorded."""
    if teacher is None:
        if "partner" not in teacher_fields:
            teacher_fields["partner"] = tianshui()
        teacher = factories.make_teacher(**teacher_fields)
    application = factories.make_application(teacher=teacher, intake=intake, status="enrolled")
    for module in intake.program.modules:
        db.session.add(ModuleResult(
            application_id=application.id, module_id=module.id, attended_hours=module.hours,
            outcome=Outcome.PASSED if passed else Outcome.PENDING,
        ))
    if passed:
        db.session.add(FinalAssessment(application_id=application.id, outcome=Outcome.PASSED))
    db.session.flush()
    return application


def certificates() -> list[Certificate]:
    """Every certificate, by id."""
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def counter(program_id: int, year: int) -> int | None:
    """The counter's last number as stored, or None when it has no row."""
    return db.session.scalar(select(RegistryCounter.last_number).where(
        RegistryCounter.program_id == program_id, RegistryCounter.year == year))


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    """Queued emails, oldest first, optionally of one kind."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def text_of(error) -> str:
    """An error's messages as English text."""
    with force_locale("en"):
        return str(error)
