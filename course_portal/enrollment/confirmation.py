"""Confirming a seat: an approved teacher says they take part by a deadline, or the seat goes.

An intake may ask for it (Intake.confirm_within_days). transition() sets the deadline,
Application.confirm_by (a portal day, the last one to confirm), whenever an application of
such an intake becomes approved, by a coordinator or by promotion from the waiting list. The
teacher confirms with one button (confirm); a coordinator can move one teacher's deadline with
a reason (extend); the timed step enrollment.release_unconfirmed withdraws, through
transition(), every approval whose deadline has ended in Moscow (release_expired), which frees
the seat and promotes the first teacher waiting, who gets a deadline of their own.

Each service changes rows with a compare-and-set UPDATE, writes the audit row, queues the
email and flushes; the caller commits (release_expired commits each release on its own).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import attributes

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake
from course_portal.core import audit
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.core.names import greeting_name
from course_portal.core.outbox import queue_email
from course_portal.core.timezones import user_zone_name
from course_portal.db import execute_dml, utcnow
from course_portal.enrollment import labels, seats, services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication, TransitionRefused
from course_portal.enrollment.mail import application_url, confirm_url
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db

log = logging.getLogger(__name__)

S = ApplicationStatus

#: the history row's reason when a seat is released. It is stored, and read by the teacher
#: and by coordinators in their own languages, so it is written in all three at once (as
#: certificates.jobs.CREDITED_HOURS_REASON is); the day is ISO, which every reader reads
RELEASE_REASON = (
    "Участие не подтверждено до {day} включительно: место освобождено · "
    "The seat was not confirmed by {day}, so it was released · "
    "截至{day}未确认参加，名额已释放"
)
#: what seat_state() says, for the teacher's pages
TO_CONFIRM, CONFIRMED, TOO_LATE = "to_confirm", "confirmed", "too_late"


# --- the deadline -------------------------------------------------------------------------


def deadline_for(intake: Intake, today: date | None = None) -> date | None:
    """The last day to confirm for a teacher approved today; None when the intake asks nothing.

    confirm_within_days after today, but never after the day before the intake starts; when
    that day has passed already (approved on the first day or later), today.
    """
    days = intake.confirm_within_days
    if not days:
        return None
    today = today or portal_today()
    latest = intake.starts_on - timedelta(days=1)
    return max(min(today + timedelta(days=days), latest), today)


def seat_state(application: Application, today: date | None = None) -> str:
    """"" (nothing to confirm), TO_CONFIRM, CONFIRMED or TOO_LATE (released at the next run)."""
    if not application.holds_seat:
        return ""
    if application.confirmed_at is not None:
        return CONFIRMED
    if application.status != S.APPROVED or application.confirm_by is None:
        return ""
    today = today or portal_today()
    return TO_CONFIRM if application.confirm_by >= today else TOO_LATE


def was_released(application: Application) -> bool:
    """True when the portal withdrew the application because its seat was not confirmed."""
    return (application.status == S.WITHDRAWN and application.confirm_by is not None
            and application.confirmed_at is None and bool(application.events)
            and application.events[-1].actor_id is None)


def confirm_problem(application: Application, today: date | None = None):
    """Why the seat cannot be confirmed now, in words; None when it can."""
    today = today or portal_today()
    if was_released(application):
        assert application.confirm_by is not None  # was_released() checks it
        return _l("The seat was released because it was not confirmed by %(day)s.",
                  day=application.confirm_by.isoformat())
    if application.confirmed_at is not None and application.holds_seat:
        return _l("You have already confirmed this seat.")
    if application.status != S.APPROVED:
        return _l("There is no seat to confirm: this application is %(status)s.",
                  status=labels.status_label(application.status))
    if application.confirm_by is None:
        return _l("This intake does not ask teachers to confirm their seat.")
    if application.confirm_by < today:
        return _l("The last day to confirm this seat was %(day)s. The seat goes to the next "
                  "teacher on the waiting list.", day=application.confirm_by.isoformat())
    return None


# --- confirming ---------------------------------------------------------------------------


def confirm(application: Application, actor: User) -> Application:
    """The teacher who applied confirms the seat, by the deadline; EnrollmentError otherwise."""
    if actor is None or actor.id != application.teacher_id:
        raise TransitionRefused(_l("Only the teacher who applied can confirm this seat."))
    today = portal_today()
    problem = confirm_problem(application, today)
    if problem is not None:
        raise EnrollmentError(problem)
    now = utcnow()
    # compare-and-set: a release or a second click meanwhile leaves nothing to confirm
    result = execute_dml(
        update(Application)
        .where(Application.id == application.id, Application.status == S.APPROVED,
               Application.confirmed_at.is_(None), Application.confirm_by >= today)
        .values(confirmed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(application)
        raise StaleApplication(confirm_problem(application, today)
                               or _l("This application changed meanwhile. Reload the page."))
    for name, value in (("confirmed_at", now), ("updated_at", now)):
        attributes.set_committed_value(application, name, value)
    assert application.confirm_by is not None  # confirm_problem() found none: it has a day
    audit.record("application.seat_confirmed", actor=actor, teacher=application.teacher_id,
                 target=application, confirm_by=application.confirm_by.isoformat())
    db.session.flush()
    log.info("application %s: seat confirmed by the teacher", application.id)
    return application


# --- a coordinator moves the deadline -----------------------------------------------------


def extend(application: Application, actor: User, until: date | None, reason: str) -> Application:
    """Give one approved, unconfirmed teacher a new last day to confirm (not before today).

    The reason is required and kept in the audit log; the teacher is emailed the new day.
    """
    if actor is None or not actor.has_role(Role.COORDINATOR):
        raise TransitionRefused(_l("Only a course coordinator can change the deadline."))
    reason = services.clean_input(reason, "reason", services.REASON_MAX_LENGTH, multiline=True)
    errors: dict[str | None, list] = {}
    if not reason:
        errors["reason"] = [_l("Give the reason for the new deadline.")]
    today = portal_today()
    if not isinstance(until, date):
        errors["until"] = [_l("Give the new last day to confirm.")]
    elif until < today:
        errors["until"] = [_l("The new last day cannot be before today (%(day)s).",
                              day=today.isoformat())]
    elif until > application.intake.ends_on:
        errors["until"] = [_l("The new last day must be on or before the intake's last day "
                              "(%(day)s).", day=application.intake.ends_on.isoformat())]
    if application.status != S.APPROVED or application.confirm_by is None:
        errors[None] = [_l("Only an approved application that has a seat to confirm can get "
                           "a new deadline.")]
    elif application.confirmed_at is not None:
        errors[None] = [_l("The teacher has already confirmed the seat.")]
    if errors:
        raise EnrollmentError(errors=errors)
    # without errors both are days (the checks above)
    assert until is not None and application.confirm_by is not None

    before = application.confirm_by
    now = utcnow()
    result = execute_dml(
        update(Application)
        .where(Application.id == application.id, Application.status == S.APPROVED,
               Application.confirmed_at.is_(None), Application.confirm_by == before)
        .values(confirm_by=until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleApplication(_l("The application changed meanwhile (confirmed, released "
                                  "or given another deadline). Reload the page."))
    for name, value in (("confirm_by", until), ("updated_at", now)):
        attributes.set_committed_value(application, name, value)
    audit.record("application.confirmation_extended", actor=actor,
                 teacher=application.teacher_id, target=application,
                 **{"from": before.isoformat(), "to": until.isoformat()}, reason=reason)
    _mail(application, "seat_deadline_extended", "application.confirmation_extended")
    db.session.flush()
    log.info("application %s: last day to confirm moved from %s to %s by user %s",
             application.id, before, until, actor.id)
    return application


def extensions_of(application: Application) -> list[AuditEvent]:
    """The deadline's extensions, newest first, with who made them (for the review page)."""
    return list(db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "application.confirmation_extended",
               AuditEvent.object_type == Application.__tablename__,
               AuditEvent.object_id == application.id)
        .order_by(AuditEvent.id.desc())
    ))


# --- releasing at the deadline ------------------------------------------------------------


def due_for_release(today: date) -> list[Application]:
    """Approved applications not confirmed by a deadline that has ended, intake by intake."""
    return list(db.session.scalars(
        select(Application)
        .where(Application.status == S.APPROVED, Application.confirmed_at.is_(None),
               Application.confirm_by.is_not(None), Application.confirm_by < today)
        .order_by(Application.intake_id, Application.id)
    ))


def release(application: Application, today: date) -> bool:
    """Withdraw one unconfirmed approval past its deadline; False when it is no longer due."""
    # the intake row first, as every transition takes it; then the application's row, so that
    # a confirmation or an extension at this very moment either comes first (and is seen here)
    # or waits and finds the application withdrawn
    seats.lock_intake(application.intake_id)
    still_due = db.session.scalar(
        select(Application.id)
        .where(Application.id == application.id, Application.status == S.APPROVED,
               Application.confirmed_at.is_(None), Application.confirm_by < today)
        .with_for_update()
    )
    if still_due is None:
        return False
    db.session.refresh(application)
    assert application.confirm_by is not None  # still_due: it has a day, and it has passed
    day = application.confirm_by.isoformat()
    services.transition(application, S.WITHDRAWN, actor=None,
                        reason=RELEASE_REASON.format(day=day))
    return True


def release_expired() -> str:
    """The timed step: release every seat not confirmed by its deadline; one commit each."""
    today = portal_today()
    released = 0
    for application in due_for_release(today):
        application_id = application.id
        try:
            done = release(application, today)
        except EnrollmentError as error:  # withdrawn or decided meanwhile: nothing to release
            db.session.rollback()
            log.info("application %s not released: %s", application_id, error.text())
            continue
        db.session.commit()
        if done:
            released += 1
            log.info("application %s released: its seat was not confirmed in time",
                     application_id)
    return f"released {released}"


# --- mail ---------------------------------------------------------------------------------


def _mail(application: Application, template: str, kind: str) -> None:
    """Queue templates/email/<template>.txt to the teacher, in their language and zone."""
    teacher = application.teacher
    config = current_app.config
    locale = teacher.locale if teacher.locale in config["LANGUAGES"] else config[
        "BABEL_DEFAULT_LOCALE"]
    intake = application.intake
    queue_email(
        teacher.email, template, locale=locale, kind=kind,
        teacher_name=greeting_name(teacher, locale),
        program_title=intake.program.t("title", locale),
        intake=intake, application=application, zone=user_zone_name(teacher),
        link=application_url(application), confirm_link=confirm_url(application),
    )
