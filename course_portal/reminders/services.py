"""Who is reminded of what, and when: the reminders' one timed step.

Every reminder is an outbox email in the reader's language, sent only inside the reader's
waking hours (REMINDER_HOURS, in their own zone) and never twice: a row in sent_reminders,
inserted with ON CONFLICT DO NOTHING in the same transaction as the email, says it left. A run
late by a day still sends what is due (the windows below are ranges of days, not single days),
and two runners at once send each reminder once.

- draft_3_days / draft_1_day: a draft, 3 days and 1 day before the application window closes;
- start_in_a_week: an approved teacher, a week before the intake starts;
- module_tomorrow: an enrolled teacher, the day before each module that has a date;
- behind: an enrolled teacher once, when they fall behind the attendance rule;
- review_digest: each coordinator, once a day, applications waiting longer than
  REVIEW_DIGEST_DAYS and teachers behind; nothing when there is nothing.

Teachers can turn the optional ones (all but the coordinators' digest) off in their profile
(User.wants_reminders); every sender here honours it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake
from course_portal.core import clock
from course_portal.core.names import greeting_name
from course_portal.core.outbox import queue_email
from course_portal.core.timezones import user_zone_name
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.reminders.models import SentReminder

log = logging.getLogger(__name__)

S = ApplicationStatus


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _locale(user: User) -> str:
    config = current_app.config
    return user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def awake(user: User, now: datetime) -> bool:
    """True inside the reader's waking hours, in their own zone (REMINDER_HOURS, e.g. 9–20)."""
    first, last = current_app.config["REMINDER_HOURS"]
    hour = now.astimezone(ZoneInfo(user_zone_name(user))).hour
    return first <= hour < last


def _claim(kind: str, user: User, key: str) -> bool:
    """Record that the reminder leaves now; False when it left before (or leaves elsewhere)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg reports no row count for a skipped ON CONFLICT
    inserted = db.session.scalar(
        insert(SentReminder).values(kind=kind, recipient_id=user.id, key=key, sent_at=clock.now())
        .on_conflict_do_nothing(index_elements=["kind", "recipient_id", "key"])
        .returning(SentReminder.id))
    return inserted is not None


def _remind(kind: str, user: User, key: str, template: str, **context: Any) -> bool:
    """Queue the reminder's email unless it left before; True when it was queued now."""
    if not _claim(kind, user, key):
        return False
    locale = _locale(user)
    queue_email(user.email, template, locale=locale, kind=f"reminder.{kind}",
                name=greeting_name(user, locale), zone=user_zone_name(user), **context)
    return True


def _wanted(user: User, now: datetime) -> bool:
    return user.is_enabled and user.wants_reminders and awake(user, now)


def _title(intake: Intake, user: User) -> str:
    return intake.program.t("title", _locale(user))


# --- the teachers' reminders --------------------------------------------------------------


def draft_reminders(today: date, now: datetime) -> int:
    """Drafts whose window closes in 3 (then 1) days, with the link to finish them."""
    sent = 0
    drafts = db.session.scalars(
        select(Application).join(Intake, Intake.id == Application.intake_id)
        .where(Application.status == S.DRAFT, Intake.is_open.is_(True),
               Intake.applications_close_on >= today,
               Intake.applications_close_on <= today + timedelta(days=3))
        .options(selectinload(Application.teacher).selectinload(User.profile),
                 selectinload(Application.intake).selectinload(Intake.program)))
    for application in drafts:
        teacher = application.teacher
        if not _wanted(teacher, now):
            continue
        days_left = (application.intake.applications_close_on - today).days
        kind = "draft_1_day" if days_left <= 1 else "draft_3_days"
        sent += _remind(kind, teacher, f"application:{application.id}", "reminder_draft",
                        program_title=_title(application.intake, teacher),
                        intake=application.intake, days_left=days_left,
                        link=f"{_base_url()}/intakes/{application.intake_id}/apply")
    return sent


def start_reminders(today: date, now: datetime) -> int:
    """Approved teachers, a week before their intake starts, with what to prepare."""
    from course_portal.progress.models import ModuleSchedule

    sent = 0
    approved = db.session.scalars(
        select(Application).join(Intake, Intake.id == Application.intake_id)
        .where(Application.status == S.APPROVED, Intake.starts_on > today,
               Intake.starts_on <= today + timedelta(days=7))
        .options(selectinload(Application.teacher).selectinload(User.profile),
                 selectinload(Application.intake).selectinload(Intake.program)))
    for application in approved:
        teacher = application.teacher
        if not _wanted(teacher, now):
            continue
        intake = application.intake
        first = db.session.scalar(
            select(ModuleSchedule).where(ModuleSchedule.intake_id == intake.id)
            .order_by(ModuleSchedule.starts_on).limit(1))
        sent += _remind("start_in_a_week", teacher, f"application:{application.id}",
                        "reminder_start", program_title=_title(intake, teacher), intake=intake,
                        first_module=first.module.t("title", _locale(teacher)) if first else "",
                        first_module_on=first.starts_on if first else None,
                        link=f"{_base_url()}/applications/{application.id}")
    return sent


def module_reminders(today: date, now: datetime) -> int:
    """Enrolled teachers, the day before each module that has a date."""
    from course_portal.progress.models import ModuleSchedule

    sent = 0
    tomorrow = today + timedelta(days=1)
    schedules = list(db.session.scalars(
        select(ModuleSchedule).where(ModuleSchedule.starts_on == tomorrow)
        .options(selectinload(ModuleSchedule.module),
                 selectinload(ModuleSchedule.intake).selectinload(Intake.program))))
    if not schedules:
        return 0
    by_intake: dict[int, list[ModuleSchedule]] = {s.intake_id: [] for s in schedules}
    for schedule in schedules:
        by_intake[schedule.intake_id].append(schedule)
    enrolled = db.session.scalars(
        select(Application).where(Application.intake_id.in_(by_intake),
                                  Application.status == S.ENROLLED)
        .options(selectinload(Application.teacher).selectinload(User.profile)))
    for application in enrolled:
        teacher = application.teacher
        if not _wanted(teacher, now):
            continue
        for schedule in by_intake[application.intake_id]:
            sent += _remind("module_tomorrow", teacher,
                            f"schedule:{schedule.id}:application:{application.id}",
                            "reminder_module", program_title=_title(schedule.intake, teacher),
                            module_title=schedule.module.t("title", _locale(teacher)),
                            schedule=schedule,
                            link=f"{_base_url()}/progress/{application.id}")
    return sent


def _running_intakes(today: date) -> list[Intake]:
    return list(db.session.scalars(
        select(Intake).where(Intake.starts_on <= today, Intake.ends_on >= today)
        .options(selectinload(Intake.program))))


def behind_reminders(today: date, now: datetime) -> int:
    """Enrolled teachers who fell behind the attendance rule: one email each, once."""
    from course_portal.dashboard.services import intake_overview

    sent = 0
    for intake in _running_intakes(today):
        for row in intake_overview(intake, today).at_risk:
            application = row.application
            teacher = application.teacher
            if application.status != S.ENROLLED or not _wanted(teacher, now):
                continue
            sent += _remind("behind", teacher, f"application:{application.id}",
                            "reminder_behind", program_title=_title(intake, teacher),
                            hours_credited=row.ledger.hours_credited,
                            hours_total=row.ledger.hours_total,
                            link=f"{_base_url()}/progress/{application.id}")
    return sent


# --- the coordinators' digest -------------------------------------------------------------


def review_digests(today: date, now: datetime) -> int:
    """Each coordinator, once a day: applications waiting too long, teachers behind."""
    from course_portal.dashboard.services import intake_overview

    waiting_since = clock.day_starts_at(today) - timedelta(
        days=int(current_app.config["REVIEW_DIGEST_DAYS"]))
    waiting = list(db.session.scalars(
        select(Application).where(Application.status == S.SUBMITTED,
                                  Application.submitted_at < waiting_since)
        .options(selectinload(Application.teacher).selectinload(User.profile),
                 selectinload(Application.intake).selectinload(Intake.program))
        .order_by(Application.submitted_at)))
    behind = [row for intake in _running_intakes(today)
              for row in intake_overview(intake, today).at_risk
              if row.application.status == S.ENROLLED]
    if not waiting and not behind:
        return 0
    sent = 0
    coordinators = db.session.scalars(
        select(User).where(User.role == Role.COORDINATOR, User.is_enabled.is_(True)))
    for coordinator in coordinators:
        if not awake(coordinator, now):
            continue
        sent += _remind("review_digest", coordinator, f"day:{today.isoformat()}",
                        "reminder_digest", waiting=waiting, behind=behind,
                        days=int(current_app.config["REVIEW_DIGEST_DAYS"]),
                        queue_link=f"{_base_url()}/review", dashboard_link=f"{_base_url()}/dashboard")
    return sent


def confirm_reminders(today: date, now: datetime) -> int:
    """Approved teachers whose seat is still to confirm and whose last day is tomorrow or
    today (enrollment.confirmation). Sent whatever the profile's reminder setting: without
    it the seat is lost, as the approval email warned; once per seat and deadline, so a
    deadline a coordinator moves brings one more."""
    sent = 0
    waiting = db.session.scalars(
        select(Application)
        .where(Application.status == S.APPROVED, Application.confirmed_at.is_(None),
               Application.confirm_by.is_not(None), Application.confirm_by >= today,
               Application.confirm_by <= today + timedelta(days=1))
        .options(selectinload(Application.teacher).selectinload(User.profile),
                 selectinload(Application.intake).selectinload(Intake.program)))
    for application in waiting:
        teacher = application.teacher
        if not (teacher.is_enabled and awake(teacher, now)):
            continue
        assert application.confirm_by is not None  # the query asks for one
        sent += _remind("confirm_seat", teacher,
                        f"application:{application.id}:{application.confirm_by.isoformat()}",
                        "reminder_confirm", program_title=_title(application.intake, teacher),
                        intake=application.intake, application=application,
                        link=f"{_base_url()}/applications/{application.id}/confirm")
    return sent


SENDERS = (draft_reminders, confirm_reminders, start_reminders, module_reminders,
           behind_reminders, review_digests)


def send_due() -> str:
    """The timed step: every reminder that is due and not sent; commits after each sender."""
    today, now = clock.portal_today(), clock.now()
    counts = []
    for sender in SENDERS:
        counts.append(sender(today, now))
        db.session.commit()
    return f"reminded {sum(counts)}"
