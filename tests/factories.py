"""Rows for tests, built through the models with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from course_portal.accounts import consent
from course_portal.accounts.consent import Consent
from course_portal.accounts.models import (
    TWO_FACTOR_ROLES,
    EducationLevel,
    Role,
    Sex,
    TeacherProfile,
    User,
)
from course_portal.catalog.models import Institute, Intake, Module, PartnerUniversity, Program
from course_portal.core.clock import portal_today
from course_portal.db import utcnow
from course_portal.extensions import db

_counter = itertools.count(1)

#: the password every factory user has
PASSWORD = "correct horse battery staple"
#: the authenticator secret of every factory staff member (pyotp.TOTP(TOTP_SECRET).now())
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_user(
    role: str | Role = Role.TEACHER,
    email: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    enabled: bool = True,
    locale: str = "en",
    profile: bool | None = None,
    two_factor: bool | None = None,
    consents: bool | None = None,
    **profile_fields,
) -> User:
    """A user; teachers get a profile unless profile=False.

    Teachers have consented to the texts in force (accounts.consent) unless consents=False.

    Staff (coordinators, admins, partner liaisons) have two-step sign-in set up with
    TOTP_SECRET unless two_factor=False; teachers have it only with two_factor=True.
    """
    n = next(_counter)
    role = Role(role)
    user = User(
        email=(email or f"user{n}@example.edu.cn").lower(),
        password_hash=generate_password_hash(password, method="scrypt:1024:8:1"),
        role=role,
        is_enabled=enabled,
        email_confirmed_at=utcnow() if confirmed else None,
        locale=locale,
        display_name="" if role == Role.TEACHER else f"Staff {n}",
    )
    if role == Role.PARTNER_LIAISON:
        # a liaison reports for one partner university (a check constraint says so)
        user.partner_university_id = (profile_fields.pop("partner_university_id", None)
                                      or make_partner().id)
    if two_factor or (two_factor is None and role in TWO_FACTOR_ROLES):
        user.totp_secret = TOTP_SECRET
        user.totp_enabled_at = utcnow()
    db.session.add(user)
    if profile or (profile is None and role == Role.TEACHER):
        fields = {
            "family_name_zh": "王",
            "given_name_zh": "小明",
            "family_name_latin": "Wang",
            "given_name_latin": "Xiaoming",
            # what the certificate and the federal register need (certificates.requirements)
            "name_ru": "Ван Сяомин",
            "born_on": date(1985, 4, 12),
            "sex": Sex.MALE,
            "citizenship": "CN",
            "education_level": EducationLevel.HIGHER,
        }
        fields.update(profile_fields)
        user.profile = TeacherProfile(**fields)
    db.session.flush()
    if consents or (consents is None and role == Role.TEACHER):
        for kind, version in consent.CURRENT.items():
            db.session.add(Consent(user_id=user.id, kind=kind, version=version, language=locale))
        db.session.flush()
    return user


def make_partner(name_en: str | None = None, **fields) -> PartnerUniversity:
    """A partner university."""
    n = next(_counter)
    partner = PartnerUniversity(
        name_en=name_en or f"Partner University {n}",
        name_zh=fields.pop("name_zh", f"合作大学{n}"),
        name_ru=fields.pop("name_ru", f"Университет-партнёр {n}"),
        **fields,
    )
    db.session.add(partner)
    db.session.flush()
    return partner


def make_program(
    code: str | None = None,
    hours: tuple[int, ...] = (8, 8, 12, 12, 16, 16),
    published: bool = True,
    **fields,
) -> Program:
    """A published program with modules of the given hours and its institute."""
    n = next(_counter)
    institute = fields.pop("institute", None) or Institute(
        name_en=f"Institute {n}", name_zh=f"学院{n}", name_ru=f"Институт {n}"
    )
    program = Program(
        code=code or f"P{n}",
        institute=institute,
        title_en=fields.pop("title_en", f"Program {n}"),
        title_zh=fields.pop("title_zh", f"项目{n}"),
        title_ru=fields.pop("title_ru", f"Программа {n}"),
        is_published=published,
        **fields,
    )
    for position, module_hours in enumerate(hours, start=1):
        program.modules.append(
            Module(
                position=position,
                title_en=f"Module {position}",
                title_zh=f"模块{position}",
                title_ru=f"Модуль {position}",
                hours=module_hours,
            )
        )
    db.session.add(program)
    db.session.flush()
    return program


def make_intake(program: Program, today: date | None = None, capacity: int = 20, **fields) -> Intake:
    """An intake accepting applications today, starting in a month, lasting three."""
    today = today or portal_today()
    intake = Intake(
        program=program,
        title=fields.pop("title", f"Intake {next(_counter)}"),
        applications_open_on=fields.pop("applications_open_on", today - timedelta(days=10)),
        applications_close_on=fields.pop("applications_close_on", today + timedelta(days=20)),
        starts_on=fields.pop("starts_on", today + timedelta(days=30)),
        ends_on=fields.pop("ends_on", today + timedelta(days=120)),
        capacity=capacity,
        **fields,
    )
    db.session.add(intake)
    db.session.flush()
    return intake


# --- enrollment -------------------------------------------------------------------------


def make_teacher(partner: PartnerUniversity | None = None, **fields) -> User:
    """A teacher whose profile is complete enough to apply and to receive a certificate."""
    partner = partner or make_partner()
    fields.setdefault("department", "School of Foreign Languages")
    fields.setdefault("position", "Lecturer")
    return make_user(role=Role.TEACHER, partner_university_id=partner.id, **fields)


def make_signatories(program: Program, signature_png: bytes | None = None) -> dict:
    """The rector, the director of the programme's institute and the secretary, as an admin
    sets them; each with a signature image when one is given. Returns them by role."""
    import hashlib

    from course_portal.certificates.models import Signatory, SignatoryRole

    people = {
        SignatoryRole.RECTOR: ("Иванов И. И.", "Ivan Ivanov", "伊万诺夫", "Ректор", "Rector", "校长"),
        SignatoryRole.DIRECTOR: ("Петров П. П.", "Pyotr Petrov", "彼得罗夫",
                                 "Директор института", "Director of the Institute", "学院院长"),
        SignatoryRole.SECRETARY: ("Смирнова Е. А.", "Elena Smirnova", "斯米尔诺娃",
                                  "Секретарь", "Secretary", "秘书"),
    }
    made = {}
    for role, (ru, en, zh, pos_ru, pos_en, pos_zh) in people.items():
        institute_id = program.institute_id if role == SignatoryRole.DIRECTOR else None
        slot = Signatory.slot_for(role, institute_id)
        row = db.session.scalar(sa.select(Signatory).where(Signatory.slot == slot))
        if row is None:
            row = Signatory(role=role, institute_id=institute_id, slot=slot)
            db.session.add(row)
        row.name_ru, row.name_en, row.name_zh = ru, en, zh
        row.position_ru, row.position_en, row.position_zh = pos_ru, pos_en, pos_zh
        row.signature_png = signature_png
        row.signature_sha256 = hashlib.sha256(signature_png).hexdigest() if signature_png else ""
        made[role] = row
    db.session.flush()
    return made


def make_quota(intake: Intake, partner: PartnerUniversity, seats: int):
    """A ceiling of seats for one partner university's teachers in an intake."""
    from course_portal.enrollment.models import IntakeQuota

    quota = IntakeQuota(intake=intake, partner_university_id=partner.id, seats=seats)
    db.session.add(quota)
    db.session.flush()
    return quota


def make_application(
    teacher: User | None = None,
    intake: Intake | None = None,
    status: str = "draft",
    complete: bool = True,
    **fields,
):
    """An application in any status, built as a row (not through transition()) for a test.

    complete: motivation, funding, consent and the three documents (rows only, no files).
    Approved and enrolled applications count against the intake's and the quota's seats.
    """
    from uuid import uuid4

    from sqlalchemy import select

    from course_portal.enrollment.models import (
        SEAT_HOLDING,
        Application,
        ApplicationStatus,
        Document,
        DocumentKind,
        FundingSource,
        IntakeQuota,
    )

    teacher = teacher or make_teacher()
    intake = intake or make_intake(make_program())
    status = ApplicationStatus(status)
    now = utcnow()
    values = {"motivation": "", "funding_source": None, "consent_at": None}
    if complete:
        values = {
            "motivation": "I teach economics and want to learn how investment ecosystems work.",
            "funding_source": FundingSource.HOME_UNIVERSITY,
            "consent_at": now,
        }
    if status != ApplicationStatus.DRAFT:
        values["submitted_at"] = now
    if status == ApplicationStatus.WAITLISTED:
        values["waitlisted_at"] = now
    values.update(fields)
    application = Application(teacher=teacher, intake=intake, status=status, **values)
    db.session.add(application)
    if complete:
        for kind in DocumentKind:
            application.documents.append(Document(
                kind=kind, original_filename=f"{kind.value}.pdf", stored_name=uuid4().hex,
                content_type="application/pdf", size=1000, sha256="0" * 64,
            ))
    if status in SEAT_HOLDING:
        intake.seats_taken += 1
        partner_id = teacher.profile.partner_university_id if teacher.profile else None
        quota = db.session.scalar(select(IntakeQuota).where(
            IntakeQuota.intake_id == intake.id, IntakeQuota.partner_university_id == partner_id))
        if quota is not None:
            quota.seats_taken += 1
    db.session.flush()
    return application
