"""What must hold before a certificate is issued, beyond the completion rules: the one place.

The training must be over (the intake's last day, in the portal's time zone), the teacher's
profile must hold what the certificate prints and what the federal register (ФИС ФРДО) needs,
and every signature line must have its signatory. The intake's page, the bulk issue, the
command line and the email to a teacher all read these functions.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from course_portal.accounts.models import TeacherProfile
from course_portal.catalog.models import Intake

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
