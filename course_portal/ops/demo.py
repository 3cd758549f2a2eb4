"""Demo data: partner universities, institutes, programs with intakes, staff, teachers, applications."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from course_portal.accounts import consent
from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import (
    Institute,
    Intake,
    Module,
    PartnerUniversity,
    Program,
)
from course_portal.core.clock import portal_today
from course_portal.db import utcnow
from course_portal.extensions import db
from course_portal.ops.demo_applications import load_demo_applications
from course_portal.ops.demo_data import INSTITUTES, LIAISONS, PARTNERS, PROGRAMS, STAFF, TEACHERS
from course_portal.ops.demo_issuer import load_signatories, register_fields
from course_portal.ops.demo_progress import load_finished_intake, load_open_schedule

#: every demo account's password; printed by `flask demo-data`, so never for a real site
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published on purpose: demo logins)
#: the authenticator secret of every demo staff account, published like the password: add it to
#: an app, or run `flask users two-factor-code EMAIL` in development (see demo_two_factor_help)
DEMO_TOTP_SECRET = "SPBPUDEMOSPBPUDEMOSPBPUDEMOSPBPU"  # noqa: S105

#: intake dates relative to the portal's today, set when the intake is first created
OPENED_DAYS_AGO = 7
CLOSES_IN_DAYS = 30
STARTS_IN_DAYS = 45


@dataclass
class DemoSummary:
    """What a load created, brought back to the demo values, and found as it should be."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    #: what was left out and why, for the operator
    notes: list[str] = field(default_factory=list)
    #: what the new rows amount to, one line each (the finished intake, its certificates)
    lines: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        """True when the load created or changed at least one row."""
        return bool(sum(self.created.values()) or sum(self.updated.values()))


def add_months(day: date, months: int) -> date:
    """The same day of the month, months later (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: the seasons' names, by language, and how each language writes "<season> <year>"
SEASONS = {
    "en": ({"winter": "Winter", "spring": "Spring", "summer": "Summer", "autumn": "Autumn"},
           "{season} {year}"),
    "zh": ({"winter": "冬季", "spring": "春季", "summer": "夏季", "autumn": "秋季"},
           "{year}年{season}"),
    "ru": ({"winter": "Зима", "spring": "Весна", "summer": "Лето", "autumn": "Осень"},
           "{season} {year}"),
}


def season_titles(day: date) -> dict[str, str]:
    """An intake's titles from its start date: {"title": "Spring 2027", "title_zh": ...}."""
    season = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
              6: "summer", 7: "summer", 8: "summer"}.get(day.month, "autumn")
    titles = {}
    for language, (names, pattern) in SEASONS.items():
        key = "title" if language == "en" else f"title_{language}"
        titles[key] = pattern.format(season=names[season], year=day.year)
    return titles


def season_title(day: date) -> str:
    """An intake's English title from its start date: "Spring 2027"."""
    return season_titles(day)["title"]


def _upsert(model, key: dict, values: dict, kind: str, summary: DemoSummary):
    """Find the row by its natural key; create it, or set the fields that differ."""
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        summary.created[kind] += 1
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    (summary.updated if changed else summary.present)[kind] += 1
    return row


def _load_program(spec: dict, institutes: dict[str, Institute], today: date,
                  summary: DemoSummary) -> None:
    """A program, its modules by position, and one intake created only if it has none."""
    values = {k: spec[k] for k in ("title_en", "title_zh", "title_ru", "description_en",
                                   "description_zh", "description_ru", "mode",
                                   "duration_months")}
    values.update(institute_id=institutes[spec["institute"]].id, is_published=True)
    program = _upsert(Program, {"code": spec["code"]}, values, "programs", summary)
    db.session.flush()
    for position, (hours, title_en, title_zh, title_ru) in enumerate(spec["modules"], start=1):
        _upsert(Module, {"program_id": program.id, "position": position},
                {"hours": hours, "title_en": title_en, "title_zh": title_zh,
                 "title_ru": title_ru}, "modules", summary)

    starts_on = today + timedelta(days=STARTS_IN_DAYS)
    titles = season_titles(starts_on)
    has_intake = db.session.scalar(
        select(Intake.id).where(Intake.program_id == program.id).limit(1)
    )
    # an existing intake keeps its dates and seats: tomorrow's run must not move them, and a
    # different season tomorrow must not add a second demo intake
    if has_intake is not None:
        summary.present["intakes"] += 1
        return
    db.session.add(Intake(
        program_id=program.id,
        **titles,
        applications_open_on=today - timedelta(days=OPENED_DAYS_AGO),
        applications_close_on=today + timedelta(days=CLOSES_IN_DAYS),
        starts_on=starts_on,
        ends_on=add_months(starts_on, spec["duration_months"]) - timedelta(days=1),
        capacity=spec["capacity"],
    ))
    summary.created["intakes"] += 1


def _new_user(email: str, role: Role, locale: str, display_name: str = "") -> User:
    """A confirmed, enabled account with the demo password (staff: and the demo authenticator)."""
    user = User(
        email=email,
        password_hash=generate_password_hash(
            DEMO_PASSWORD, method=current_app.config["PASSWORD_HASH_METHOD"]
        ),
        role=role,
        is_enabled=True,
        email_confirmed_at=utcnow(),
        locale=locale,
        display_name=display_name,
    )
    if user.needs_two_factor:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = utcnow()
    return user


def demo_two_factor_help() -> list[str]:
    """How a person trying the demo gets the sign-in code of a staff account, without a phone."""
    return [
        "Staff accounts also ask for a two-step sign-in code. Without a phone, print the current",
        "code of any staff account above (only with COURSE_PORTAL_ENV=development, as make run):",
        "  COURSE_PORTAL_ENV=development .venv/bin/flask --app course_portal "
        "users two-factor-code coordinator@example.com",
        f"or add the setup key {DEMO_TOTP_SECRET} (time-based, 6 digits) to an authenticator app.",
    ]


def _load_users(partners: dict[str, PartnerUniversity], summary: DemoSummary) -> None:
    """Create the demo accounts that do not exist yet.

    An existing account is left exactly as it is: its person may have changed the password,
    the profile or the language, and demo-data must never undo that.
    """
    existing = set(db.session.scalars(
        select(User.email).where(User.email.in_([email for email, _ in demo_logins()]))
    ))
    for spec in STAFF:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        db.session.add(_new_user(spec["email"], spec["role"], spec["locale"],
                                 spec["display_name"]))
        summary.created["users"] += 1
    for spec in TEACHERS:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        user = _new_user(spec["email"], Role.TEACHER, spec["locale"])
        user.profile = TeacherProfile(partner_university=partners[spec["partner"]],
                                      **spec["profile"], **register_fields(spec["email"]))
        db.session.add(user)
        db.session.flush()
        # as registration records them: both consents, in the teacher's language
        consent.give(user, list(consent.ConsentKind), spec["locale"])
        summary.created["users"] += 1
    for spec in LIAISONS:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        user = _new_user(spec["email"], Role.PARTNER_LIAISON, spec["locale"],
                         spec["display_name"])
        user.partner_university = partners[spec["partner"]]
        db.session.add(user)
        summary.created["users"] += 1


def load_demo_data() -> DemoSummary:
    """Upsert the demo rows by their natural keys and flush; the caller commits."""
    summary = DemoSummary()
    partners = {
        spec["name_en"]: _upsert(
            PartnerUniversity, {"name_en": spec["name_en"]},
            {k: v for k, v in spec.items() if k != "name_en"}, "partner universities", summary,
        )
        for spec in PARTNERS
    }
    institutes = {
        spec["name_en"]: _upsert(
            Institute, {"name_en": spec["name_en"]},
            {k: v for k, v in spec.items() if k != "name_en"}, "institutes", summary,
        )
        for spec in INSTITUTES
    }
    db.session.flush()
    today = portal_today()
    for spec in PROGRAMS:
        _load_program(spec, institutes, today, summary)
    _load_users(partners, summary)
    db.session.flush()
    load_demo_applications(summary)
    load_signatories(summary)
    load_finished_intake(summary)
    load_open_schedule(summary)
    return summary


def demo_logins(existing_only: bool = False) -> list[tuple[str, str]]:
    """The demo accounts as (email, role); with existing_only, those in the database."""
    logins = [(spec["email"], str(spec["role"])) for spec in STAFF]
    logins += [(spec["email"], str(Role.TEACHER)) for spec in TEACHERS]
    logins += [(spec["email"], str(Role.PARTNER_LIAISON)) for spec in LIAISONS]
    if not existing_only:
        return logins
    present = set(db.session.scalars(
        select(User.email).where(User.email.in_([email for email, _ in logins]))
    ))
    return [(email, role) for email, role in logins if email in present]


def demo_password_works(email: str) -> bool:
    """True when the account exists and still has the demo password."""
    user = db.session.scalar(select(User).where(User.email == email))
    return user is not None and check_password_hash(user.password_hash, DEMO_PASSWORD)


def database_has_users() -> bool:
    """True when any account exists, demo or not."""
    return db.session.scalar(select(User.id).limit(1)) is not None
