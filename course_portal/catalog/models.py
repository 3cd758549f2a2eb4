"""Partner universities, institutes, programs, modules and intakes."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    and_,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from course_portal.core.i18n import TranslatedMixin
from course_portal.db import Base, TimestampMixin, str_enum


class PartnerUniversity(TranslatedMixin, TimestampMixin, Base):
    """A university in China whose teachers take SPbPU's programs."""

    __tablename__ = "partner_universities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(100), default="")


class Institute(TranslatedMixin, TimestampMixin, Base):
    """An SPbPU institute that runs programs."""

    __tablename__ = "institutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    name_ru: Mapped[str] = mapped_column(String(200), default="")

    programs: Mapped[list[Program]] = relationship(back_populates="institute")


class StudyMode(enum.StrEnum):
    """How a program is taught."""

    ONLINE = "online"
    BLENDED = "blended"
    ON_SITE = "on_site"


class StudyForm(enum.StrEnum):
    """The form of study as Russian law names it (форма обучения), chosen per intake."""

    #: очная
    FULL_TIME = "full_time"
    #: очно-заочная
    PART_TIME = "part_time"
    #: заочная
    EXTRAMURAL = "extramural"


class Program(TranslatedMixin, TimestampMixin, Base):
    """A program of additional professional education (APE)."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code, the prefix of registry numbers (IE-2026-0001)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    institute_id: Mapped[int] = mapped_column(ForeignKey("institutes.id"), index=True)
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_ru: Mapped[str] = mapped_column(String(300), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[StudyMode] = mapped_column(
        str_enum(StudyMode, "mode"),
        default=StudyMode.ONLINE,
    )
    #: planned length in months
    duration_months: Mapped[int] = mapped_column(default=3)
    #: shown in the public catalog
    is_published: Mapped[bool] = mapped_column(default=False, index=True)

    institute: Mapped[Institute] = relationship(back_populates="programs")
    modules: Mapped[list[Module]] = relationship(
        back_populates="program", order_by="Module.position", cascade="all, delete-orphan"
    )
    intakes: Mapped[list[Intake]] = relationship(
        back_populates="program", order_by="Intake.starts_on", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("duration_months > 0", name="duration_positive"),)

    @property
    def total_hours(self) -> int:
        """Academic hours of the whole program: the sum of its modules."""
        return sum(m.hours for m in self.modules)


class Module(TranslatedMixin, Base):
    """A part of a program with its academic hours."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    #: 1, 2, 3, ... within the program
    position: Mapped[int]
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_ru: Mapped[str] = mapped_column(String(300), default="")
    #: academic hours (45 minutes each)
    hours: Mapped[int]

    program: Mapped[Program] = relationship(back_populates="modules")

    __table_args__ = (
        UniqueConstraint("program_id", "position"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )


class Intake(TranslatedMixin, TimestampMixin, Base):
    """One run of a program, with dates, an application window and seats.

    Its title is given in English (`title`, unique within the program: the CLI, the audit log
    and the logs name the intake by it) and may be given in Chinese and Russian; pages and
    emails read `.t("title")`, the reader's language falling back to English.
    """

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="", server_default="")
    title_ru: Mapped[str] = mapped_column(String(200), default="", server_default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    applications_open_on: Mapped[date]
    #: last day on which applications are accepted, in the portal's time zone
    applications_close_on: Mapped[date]
    capacity: Mapped[int]
    #: approved and enrolled teachers; changed only by an atomic UPDATE
    seats_taken: Mapped[int] = mapped_column(default=0)
    #: the coordinator's switch: False stops applications even inside the window
    is_open: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: days an approved teacher has to confirm taking part; None: no confirmation asked
    confirm_within_days: Mapped[int | None]
    #: форма обучения, printed on the certificates and sent to the federal register
    study_form: Mapped[StudyForm] = mapped_column(
        str_enum(StudyForm, "study_form"), default=StudyForm.FULL_TIME,
        server_default=StudyForm.FULL_TIME.value,
    )
    #: how this intake is taught; online or blended is «с применением дистанционных
    #: образовательных технологий» on the certificate
    delivery: Mapped[StudyMode] = mapped_column(
        str_enum(StudyMode, "delivery"), default=StudyMode.ONLINE,
        server_default=StudyMode.ONLINE.value,
    )

    program: Mapped[Program] = relationship(back_populates="intakes")
    #: the English title under the name TranslatedMixin reads
    title_en = synonym("title")

    __table_args__ = (
        UniqueConstraint("program_id", "title"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(
            "applications_close_on >= applications_open_on", name="window_in_order"
        ),
        CheckConstraint("confirm_within_days IS NULL OR confirm_within_days > 0",
                        name="confirm_within_days_positive"),
    )

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    def is_accepting_on(self, day: date) -> bool:
        """True when the coordinator accepts applications and the window includes the day."""
        return self.is_open and self.applications_open_on <= day <= self.applications_close_on

    @classmethod
    def accepting_on(cls, day: date) -> ColumnElement[bool]:
        """The same rule as is_accepting_on, as a WHERE clause."""
        return and_(cls.is_open.is_(True), cls.applications_open_on <= day,
                    cls.applications_close_on >= day)
