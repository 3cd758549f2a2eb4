"""Teachers' and staff's profiles, language and time zone: the rules of what they may save.

Like services.py, nothing here touches request, session or flash; callers commit.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from course_portal.accounts.errors import AccountError
from course_portal.accounts.models import (
    AcademicTitle,
    EducationLevel,
    Sex,
    TeacherProfile,
    User,
)
from course_portal.accounts.profile_rules import FOR_APPLYING
from course_portal.catalog.models import PartnerUniversity
from course_portal.core import audit
from course_portal.core.timezones import is_zone
from course_portal.extensions import db

#: the teacher_profiles columns a teacher fills in
PROFILE_FIELDS = (
    "family_name_zh", "given_name_zh", "family_name_latin", "given_name_latin", "name_ru",
    "born_on", "partner_university_id", "department", "position", "academic_title", "phone",
    "wechat_id", "sex", "citizenship", "education_level", "snils",
)


def profile_values(fields: dict) -> dict:
    """The profile columns from plain values, with defaults for what was left blank."""
    values = {name: fields.get(name) for name in PROFILE_FIELDS if name in fields}
    for name in ("name_ru", "department", "position", "phone", "wechat_id", "citizenship",
                 "snils"):
        if name in values and values[name] is None:
            values[name] = ""
    if "sex" in values:
        values["sex"] = Sex(values["sex"]) if values["sex"] else None
    if "education_level" in values:
        level = values["education_level"]
        values["education_level"] = EducationLevel(level) if level else None
    if "academic_title" in values:
        values["academic_title"] = AcademicTitle(values["academic_title"] or AcademicTitle.NONE)
    university_id = values.get("partner_university_id")
    if university_id is not None and db.session.get(PartnerUniversity, university_id) is None:
        raise AccountError({"partner_university_id": [_l("Choose a university from the list.")]})
    return values


def check_locale(locale: str) -> str:
    """The language if the portal speaks it, else the default one."""
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def partner_university_choices() -> list[tuple[int, str]]:
    """Partner universities as (id, name in the reader's language), sorted by that name."""
    universities = db.session.scalars(
        select(PartnerUniversity).order_by(PartnerUniversity.name_en)
    ).all()
    choices = [(u.id, u.t("name")) for u in universities]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def _check_timezone(name: str | None) -> str:
    """An IANA zone name, or "" for the role's default; anything else is refused."""
    if not name:
        return ""
    if not is_zone(name):
        raise AccountError({"timezone": [_l("Choose a time zone from the list.")]})
    return name


def update_teacher_profile(user: User, *, locale: str, timezone: str | None = None,
                           wants_reminders: bool | None = None, **fields) -> None:
    """Save a teacher's profile fields, language, time zone and whether reminders are wanted."""
    values = profile_values(fields)
    if timezone is not None:
        user.timezone = _check_timezone(timezone)
    if wants_reminders is not None:
        user.wants_reminders = bool(wants_reminders)
    if user.profile is None:
        user.profile = TeacherProfile(**values)
    else:
        for name, value in values.items():
            setattr(user.profile, name, value)
    user.locale = check_locale(locale)
    db.session.flush()


def complete_for_applying(user: User, **fields) -> None:
    """Save what an older account's profile lacked, typed on the apply page.

    Only the fields an application needs (accounts.profile_rules) and only filled ones: a
    blank field on the apply page leaves the profile as it was, and the submission says what
    is still missing. A teacher without a profile gets one, with the rest blank.
    """
    unknown = set(fields) - set(FOR_APPLYING)
    if unknown:
        raise TypeError(f"not asked on the apply page: {sorted(unknown)}")
    values = profile_values({name: value for name, value in fields.items()
                              if value not in (None, "")})
    if not values:
        return
    if user.profile is None:
        blank = {name: "" for name in FOR_APPLYING if name != "partner_university_id"}
        user.profile = TeacherProfile(**(blank | values))
    else:
        for name, value in values.items():
            setattr(user.profile, name, value)
    db.session.flush()


def set_russian_name(teacher: User, name_ru: str, *, actor: User) -> None:
    """A coordinator sets or corrects a teacher's name in Cyrillic, as certificates print it."""
    if teacher.profile is None:
        raise AccountError({None: [_l("This teacher has no profile yet.")]})
    before = teacher.profile.name_ru
    teacher.profile.name_ru = name_ru
    db.session.flush()
    if before != name_ru:
        audit.record("profile.name_ru_set", actor=actor, teacher=teacher, target=teacher.profile,
                     before=before, after=name_ru)


def update_staff_profile(user: User, *, display_name: str, locale: str,
                         timezone: str | None = None) -> None:
    """Save a staff member's display name, language and time zone."""
    if timezone is not None:
        user.timezone = _check_timezone(timezone)
    user.display_name = display_name
    user.locale = check_locale(locale)
    db.session.flush()


def set_locale(user: User, language: str) -> None:
    """Remember the user's language for pages and emails."""
    if language in current_app.config["LANGUAGES"]:
        user.locale = language
