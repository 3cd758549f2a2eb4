"""Partner liaisons: adding and disabling them, and the list of teachers as a report.

Nothing here touches request, session or flash: the manage page, `flask partners add-liaison`
and the tests call the same functions and commit.
"""

from __future__ import annotations

import logging
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from course_portal.accounts import services as accounts
from course_portal.accounts.models import Role, User
from course_portal.catalog.models import PartnerUniversity
from course_portal.certificates import services as certificates
from course_portal.certificates.models import Certificate
from course_portal.core import audit, names
from course_portal.core.outbox import queue_email
from course_portal.dashboard.reports import Report
from course_portal.enrollment.labels import status_name
from course_portal.extensions import db
from course_portal.partners.queries import TeacherRow

log = logging.getLogger(__name__)


class PartnerError(accounts.AccountError):
    """A rule said no; errors maps a form field (None for the whole form) to its messages."""


# --- liaisons ---------------------------------------------------------------------------


def partner_or_error(partner_id: int | None) -> PartnerUniversity:
    """The partner university of that id; PartnerError when there is none."""
    partner = db.session.get(PartnerUniversity, partner_id) if partner_id else None
    if partner is None:
        raise PartnerError({"partner": [_l("Choose a university from the list.")]})
    return partner


def add_liaison(*, partner_id: int, email: str, display_name: str, locale: str,
                actor: User | None) -> User:
    """Create a liaison of the partner university and mail them a link to choose a password.

    The account has a random password nobody knows and an unconfirmed address until the link
    is used (accounts' password-reset machinery: the link confirms the address); if it expires,
    the liaison asks for a new one on the sign-in page's "forgot your password".
    """
    partner = partner_or_error(partner_id)
    email = accounts.normalize_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PartnerError({"email": [_l("This is not a valid email address.")]}) from exc
    if accounts.user_by_email(email) is not None:
        raise PartnerError({"email": [_l("An account with this email address already exists.")]})
    display_name = (display_name or "").strip()
    if not display_name:
        raise PartnerError({"display_name": [_l("Give the liaison's name.")]})
    user = User(
        email=email,
        password_hash=accounts.hash_password(secrets.token_urlsafe(32)),
        role=Role.PARTNER_LIAISON,
        partner_university_id=partner.id,
        is_enabled=True,
        locale=locale if locale in current_app.config["LANGUAGES"] else "en",
        display_name=display_name,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("partner.liaison_added", actor=actor, target=user, partner=partner.id)
    queue_email(
        user.email,
        "partner_liaison_added",
        locale=user.locale,
        kind="partner.liaison_added",
        user=user,
        partner=partner,
        login_link=accounts.external_url("accounts.login"),
        reset_link=accounts.external_url("accounts.reset_request"),
    )
    accounts.request_password_reset(user.email)
    log.info("added partner liaison %s for partner university %s", user.id, partner.id)
    return user


def get_liaison(user_id: int) -> User | None:
    """The liaison account of that id, or None for any other account."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.role == Role.PARTNER_LIAISON else None


def disable_liaison(liaison: User, actor: User | None) -> User:
    """Stop a liaison from signing in and end their open sessions."""
    if liaison.role != Role.PARTNER_LIAISON:
        raise PartnerError(message=_l("This account is not a partner liaison."))
    accounts.disable_user(liaison.email)
    audit.record("partner.liaison_disabled", actor=actor, target=liaison,
                 partner=liaison.partner_university_id)
    return liaison


def partners_with_liaisons() -> list[tuple[PartnerUniversity, list[User]]]:
    """Every partner university by English name, with its liaisons by address."""
    partners = list(db.session.scalars(
        select(PartnerUniversity).order_by(PartnerUniversity.name_en)))
    liaisons: dict[int, list[User]] = {}
    for user in db.session.scalars(
        select(User).where(User.role == Role.PARTNER_LIAISON).order_by(User.email)
    ):
        if user.partner_university_id is not None:  # a liaison's is required (a CHECK)
            liaisons.setdefault(user.partner_university_id, []).append(user)
    return [(partner, liaisons.get(partner.id, [])) for partner in partners]


# --- the list as a report ---------------------------------------------------------------


def teachers_report(partner: PartnerUniversity, rows: list[TeacherRow],
                    language: str) -> Report:
    """The list as the exports show it: one row per application, a teacher without one once."""
    report = Report(
        title=_("Teachers of %(partner)s", partner=partner.t("name")),
        headers=[_("Name"), _("Name in Chinese characters"), _("Name in Latin letters"),
                 _("Email address"), _("Department"), _("Program code"), _("Intake"),
                 _("Status"), _("Submitted on"), _("Attendance, %"), _("Modules passed"),
                 _("Eligible for the certificate"), _("Why not yet"), _("Certificate number"),
                 _("Certificate status"), _("Verification link")],
    )
    for row in rows:
        profile = row.teacher.profile
        if profile is None:  # an erased teacher's: the list holds none, by its join
            continue
        person = [names.display_name(profile, language, both=False), profile.name_zh,
                  " ".join(profile.name_latin.split()), row.teacher.email, profile.department]
        if not row.applications:
            report.rows.append([*person, *[""] * 11])
        for item in row.applications:
            application = item.application
            verdict = item.eligibility
            certificate = item.certificates[-1] if item.certificates else None
            report.rows.append([
                *person,
                application.intake.program.code,
                application.intake.t("title"),
                str(status_name(application.status)),
                application.submitted_at.date().isoformat() if application.submitted_at else "",
                item.ledger.attendance_percent if item.ledger is not None else "",
                (f"{item.modules_passed}/{item.modules_total}"
                 if item.ledger is not None else ""),
                "" if verdict is None else (_("yes") if verdict.eligible else _("no")),
                "; ".join(verdict.reasons) if verdict is not None else "",
                certificate.registry_number if certificate else "",
                str(certificates.status_label(certificate.status)) if certificate else "",
                certificates.verify_url(certificate.verification_code) if certificate else "",
            ])
    return report


def record_export(actor: User, fmt: str, filters: dict, rows: int) -> None:
    """Write down that a liaison took the list away as a file."""
    audit.record("partner.report_exported", actor=actor, format=fmt,
                 partner=actor.partner_university_id, filters=filters, rows=rows)


def record_download(actor: User, certificate: Certificate) -> None:
    """Write down that a liaison downloaded a teacher's certificate."""
    audit.record("partner.certificate_downloaded", actor=actor, target=certificate,
                 teacher=certificate.application.teacher_id,
                 number=certificate.registry_number)
