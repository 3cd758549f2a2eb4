"""Progress through a course: program rules, the intake's schedule, results and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.accounts.models import User
from course_portal.catalog.models import Intake, Module, Program
from course_portal.db import Base, TimestampMixin, str_enum, utcnow
from course_portal.enrollment.models import Application

#: the minimum attendance when a program has no rules of its own, in percent of its hours
DEFAULT_MIN_ATTENDANCE_PERCENT = 80


class AssessmentKind(enum.StrEnum):
    """How a program's final assessment is graded."""

    PASS_FAIL = "pass_fail"  # noqa: S105 (not a password)
    SCORE = "score"


class Outcome(enum.StrEnum):
    """The result of a module or of the final assessment."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class ProgramRules(TimestampMixin, Base):
    """A program's completion rules: minimum attendance, every module passed, a final assessment."""

    __tablename__ = "program_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), unique=True
    )
    #: attended hours needed, in percent of the program's hours (whole percent: exact arithmetic)
    min_attendance_percent: Mapped[int] = mapped_column(default=DEFAULT_MIN_ATTENDANCE_PERCENT)
    final_kind: Mapped[AssessmentKind] = mapped_column(
        str_enum(AssessmentKind, "final_kind"), default=AssessmentKind.PASS_FAIL
    )
    #: for a scored final assessment: the best score possible and the lowest that passes
    max_score: Mapped[int] = mapped_column(default=100)
    pass_mark: Mapped[int | None]

    program: Mapped[Program] = relationship()

    __table_args__ = (
        CheckConstraint(
            "min_attendance_percent >= 0 AND min_attendance_percent <= 100",
            name="attendance_percent_range",
        ),
        CheckConstraint("max_score > 0", name="max_score_positive"),
        CheckConstraint(
            "pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= max_score)",
            name="pass_mark_range",
        ),
    )

    @property
    def min_attendance_share(self) -> float:
        """The minimum attendance as a share of the program's hours (0.8 for 80%)."""
        return self.min_attendance_percent / 100


class ModuleSchedule(Base):
    """When one module of a program is taught in one intake."""

    __tablename__ = "module_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    intake: Mapped[Intake] = relationship()
    module: Mapped[Module] = relationship()

    __table_args__ = (
        UniqueConstraint("intake_id", "module_id"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )


class ModuleResult(Base):
    """An enrolled teacher's attended hours and result in one module; no row: nothing yet."""

    __tablename__ = "module_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE")
    )
    module_id: Mapped[int] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), index=True
    )
    #: academic hours attended, at most the module's hours (a service rule)
    attended_hours: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "outcome"), default=Outcome.PENDING)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application: Mapped[Application] = relationship()
    module: Mapped[Module] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "module_id"),
        CheckConstraint("attended_hours >= 0", name="attended_not_negative"),
    )


class FinalAssessment(Base):
    """An enrolled teacher's final assessment: passed or failed, or a score against the mark."""

    __tablename__ = "final_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    #: for pass/fail programs the coordinator's verdict; for scored ones derived from the score
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "outcome"), default=Outcome.PENDING)
    #: None until scored, and always None for pass/fail programs
    score: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application: Mapped[Application] = relationship()

    __table_args__ = (
        CheckConstraint("score IS NULL OR score >= 0", name="score_not_negative"),
    )


class ResultChange(Base):
    """One audited change of a result: who changed what, when, from which value to which."""

    __tablename__ = "result_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE")
    )
    #: None for the final assessment
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="SET NULL"))
    #: attended_hours, outcome or score
    field: Mapped[str] = mapped_column(String(20))
    #: the values as text; "" for no score
    old_value: Mapped[str] = mapped_column(String(20), default="")
    new_value: Mapped[str] = mapped_column(String(20), default="")
    #: None when the portal acted on its own
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: how the change came in: grid or csv
    source: Mapped[str] = mapped_column(String(10), default="grid")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module | None] = relationship()
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_result_changes_application_id_created_at", "application_id", "created_at"),
    )
