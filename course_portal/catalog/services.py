"""Catalog rules: what is published, which intakes accept applications."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.catalog.models import Intake, Program
from course_portal.extensions import db


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
