"""What must hold before a certificate is issued, beyond the completion rules: the one place.

The training must be over (the intake's last day, in the portal's time zone), the teacher's
profile must hold what the certificate prints and what the federal register (ФИС ФРДО) needs,
and every signature line must have its signatory. The intake's page, the bulk issue, the
command line and the email to a teacher all read these functions.

What the checks and the certificate read besides the application itself comes together in an
IssueContext (issue_context()): a batch reads one for a slice of applications at once,
instead of a dozen queries for each certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from course_portal.accounts.models import TeacherProfile
from course_portal.catalog.models import Intake
from course_portal.certificates import issuer
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core.clock import portal_today
from course_portal.extensions import db

#: the profile fields a certificate needs, with the label the teacher knows them by
PROFILE_FIELDS = (
    ("name_ru", _l("Name in Russian (Cyrillic)")),
    ("born_on", _l("Date of birth")),
    ("sex", _l("Sex")),
    ("citizenship", _l("Citizenship")),
    ("education_level", _l("Level of education")),
)


def first_issue_day(intake: Intake) -> date:
    """The first day on which the intake's certificates can be issued: its last day of study."""
    return intake.ends_on


def too_early(intake: Intake, today: date) -> list:
    """Why the intake's certificates cannot be issued today; empty once the training is over."""
    day = first_issue_day(intake)
    if today >= day:
        return []
    return [_l("The training runs until %(day)s: its certificates can be issued from that day "
               "on (a day in %(zone)s time).", day=format_date(day, "long"),
               zone=current_app.config["PORTAL_TIMEZONE"])]


def profile_gaps(profile: TeacherProfile | None) -> list[tuple[str, object]]:
    """The fields a certificate needs that the profile lacks: (field name, label)."""
    if profile is None:
        return list(PROFILE_FIELDS)
    missing = []
    for name, label in PROFILE_FIELDS:
        value = getattr(profile, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append((name, label))
    return missing


def profile_gap_message(profile: TeacherProfile | None) -> list:
    """The profile's gaps as one message for the coordinator; empty when nothing is missing."""
    missing = profile_gaps(profile)
    if not missing:
        return []
    return [_l("The teacher's profile lacks what the certificate and the federal register "
               "need: %(fields)s.", fields=", ".join(str(label) for _, label in missing))]


def split_russian_name(name_ru: str) -> tuple[str, str]:
    """«Оуян Нана» → («Оуян», «Нана»): family name first, the rest is the given name."""
    parts = name_ru.split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def register_data(profile: TeacherProfile, funding: str) -> dict:
    """What the federal register needs of the holder, frozen with the certificate (not public)."""
    family, given = split_russian_name(profile.name_ru or "")
    return {
        "family_name_ru": family,
        "given_name_ru": given,
        # Chinese names have no patronymic; the register's column stays empty
        "patronymic_ru": "",
        "born_on": profile.born_on.isoformat() if profile.born_on else "",
        "sex": str(profile.sex or ""),
        "citizenship": profile.citizenship or "",
        "education_level": str(profile.education_level or ""),
        "snils": profile.snils or "",
        "funding": funding or "",
        "diploma_surname": "",
    }


# --- what the checks read, together -----------------------------------------------------


@dataclass
class IssueContext:
    """What issuing for some applications of one intake reads besides the applications: read
    together, so that a batch's certificate costs its own writes and not a dozen reads."""

    intake_id: int
    #: why none of the intake's certificates can be issued today (too early, a signatory
    #: missing): certificates.services.intake_refusals()
    intake_problems: list
    #: course_portal.progress' verdicts, by application id
    verdicts: dict
    #: the valid certificate each application held when this was read: (id, registry number)
    holders: dict[int, tuple[int, str]]
    #: the issuing organisation's names and city (issuer.ORGANISATION_FIELDS)
    organisation: dict[str, str]
    #: the signature lines in force, as issuer.signatory_snapshot() freezes them
    lines: list[dict]
    #: the images the lines and the seal print, by SHA-256
    images: dict[str, bytes]
    seal_sha256: str

    def covers(self, application) -> bool:
        """True when this was read for the application."""
        return application.intake_id == self.intake_id and application.id in self.verdicts


def issue_context(intake: Intake, applications) -> IssueContext:
    """Read what issuing for these applications of the intake needs, in a fixed few queries."""
    from course_portal.progress.services import eligibilities

    ids = [a.id for a in applications]
    rows = issuer.signatories_of(intake.program)
    lines, images = issuer.signatory_snapshot(intake.program, rows)
    # seal_image() loads the organisation's row, which organisation() then finds in the session
    seal_sha256, seal_png = issuer.seal_image()
    if seal_png is not None:
        images[seal_sha256] = seal_png
    organisation = issuer.organisation()
    holders = {
        application_id: (certificate_id, number)
        for application_id, certificate_id, number in db.session.execute(
            select(Certificate.application_id, Certificate.id, Certificate.registry_number)
            .where(Certificate.application_id.in_(ids),
                   Certificate.status == CertificateStatus.ISSUED))
    } if ids else {}
    return IssueContext(
        intake_id=intake.id,
        intake_problems=(too_early(intake, portal_today())
                         + issuer.gaps(intake.program, rows)),
        verdicts=eligibilities(intake, applications),
        holders=holders,
        organisation={name: getattr(organisation, name) for name in issuer.ORGANISATION_FIELDS},
        lines=lines, images=images, seal_sha256=seal_sha256,
    )


def context_for(application, context: IssueContext | None = None) -> IssueContext:
    """context when it was read for the application, else one read now for it alone."""
    if context is not None and context.covers(application):
        return context
    return issue_context(application.intake, [application])
