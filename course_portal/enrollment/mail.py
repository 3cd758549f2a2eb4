"""The emails about applications: one template per status, in the teacher's language."""

from __future__ import annotations

from flask import current_app

from course_portal.accounts.models import User
from course_portal.core.names import greeting_name
from course_portal.core.outbox import queue_email
from course_portal.core.timezones import user_zone_name
from course_portal.enrollment.models import Application, ApplicationStatus

#: the teacher's page of an application, linked from every email (the pages use this path)
APPLICATION_PATH = "/applications/{id}"
#: the teacher's page to confirm a seat from (enrollment.confirmation), linked from the approval
CONFIRM_PATH = "/applications/{id}/confirm"


def application_url(application: Application) -> str:
    """The absolute link to the application's page, from config BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + APPLICATION_PATH.format(id=application.id)


def confirm_url(application: Application) -> str:
    """The absolute link to the page where the teacher confirms the seat."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + CONFIRM_PATH.format(id=application.id)


def notify_teacher(
    application: Application,
    from_status: ApplicationStatus,
    to: ApplicationStatus,
    actor: User | None,
    reason: str,
) -> None:
    """Queue templates/email/application_<to>.txt to the teacher, in the teacher's language.

    A withdrawal by the portal itself is a seat released for want of confirmation: its email
    is seat_released.txt.
    """
    teacher = application.teacher
    config = current_app.config
    locale = teacher.locale if teacher.locale in config["LANGUAGES"] else config[
        "BABEL_DEFAULT_LOCALE"]
    intake = application.intake
    template, kind = f"application_{to.value}", f"application.{to.value}"
    if to == ApplicationStatus.WITHDRAWN and actor is None:
        template, kind = "seat_released", "application.seat_released"
    queue_email(
        teacher.email,
        template,
        locale=locale,
        kind=kind,
        teacher_name=greeting_name(teacher, locale),
        program_title=intake.program.t("title", locale),
        intake=intake,
        application=application,
        reason=reason,
        # the portal moved it up from the waiting list when a seat was freed
        promoted=actor is None and from_status == ApplicationStatus.WAITLISTED,
        link=application_url(application),
        # an intake that asks for confirmation: the approval says until when, and where
        confirm_link=confirm_url(application) if application.confirm_by else "",
        zone=user_zone_name(teacher),
    )
