"""Users, teacher profiles and password-reset tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.core.encryption import Encrypted
from course_portal.db import Base, TimestampMixin, str_enum, utcnow

if TYPE_CHECKING:
    from course_portal.catalog.models import PartnerUniversity


class Role(enum.StrEnum):
    """What a user may do."""

    TEACHER = "teacher"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    #: read-only staff of one partner university: sees that university's teachers only
    PARTNER_LIAISON = "partner_liaison"


#: staff who see teachers' personal data: two-step sign-in, idle timeout, a day's session at most
TWO_FACTOR_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN, Role.PARTNER_LIAISON})


class AcademicTitle(enum.StrEnum):
    """Academic titles as Chinese universities grant them."""

    NONE = "none"
    ASSISTANT = "assistant"  # 助教
    LECTURER = "lecturer"  # 讲师
    ASSOCIATE_PROFESSOR = "associate_professor"  # 副教授
    PROFESSOR = "professor"  # 教授


class Sex(enum.StrEnum):
    """Sex as the federal register of education documents records it."""

    MALE = "male"
    FEMALE = "female"


class EducationLevel(enum.StrEnum):
    """The level of the education a teacher had before the programme, for the federal register."""

    #: высшее образование
    HIGHER = "higher"
    #: среднее профессиональное образование
    SECONDARY_VOCATIONAL = "secondary_vocational"


def new_session_token() -> str:
    """A fresh random token that identifies a user's current sessions."""
    return secrets.token_urlsafe(24)


#: the domain of an erased account's address: .invalid never receives mail (RFC 2606)
ERASED_DOMAIN = "erased.invalid"


class User(UserMixin, TimestampMixin, Base):
    """Anyone who signs in: a teacher, a coordinator or an admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role <> 'partner_liaison' OR partner_university_id IS NOT NULL",
            name="liaison_has_partner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased, so uniqueness is case-insensitive on every database
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "role"),
        default=Role.TEACHER,
        index=True,
    )
    #: an inactive user cannot sign in, and their open sessions end
    is_enabled: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    #: part of every session cookie; replacing it ends all the user's sessions
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    #: en, zh or ru: pages and emails for this user
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: an IANA zone in which this user reads times (Asia/Shanghai); empty: their role's default
    #: (teachers Asia/Shanghai, staff the portal's zone), see core.timezones
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    #: the secret in the address of the teacher's private calendar feed; None until first made,
    #: replaced when the teacher resets it
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the optional reminders (deadlines, the start, module days, falling behind) are wanted
    wants_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: shown to staff; teachers' names live in their profile
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: the partner university a partner liaison reports for; empty for everyone else
    partner_university_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_universities.id"), index=True
    )
    #: base32 TOTP secret, kept encrypted (core.encryption); set while enrolling, confirmed
    #: once totp_enabled_at is set
    totp_secret: Mapped[str | None] = mapped_column(Encrypted("users.totp_secret"))
    totp_enabled_at: Mapped[datetime | None]
    #: the last time step a code was accepted for, so a code cannot be used twice
    totp_last_step: Mapped[int | None]

    profile: Mapped[TeacherProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )
    partner_university: Mapped[PartnerUniversity | None] = relationship(
        foreign_keys=[partner_university_id]
    )

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_enabled and self.email_confirmed_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds one of the roles (admins hold every staff role)."""
        if self.role == Role.ADMIN and Role.COORDINATOR in roles:
            return True
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def needs_two_factor(self) -> bool:
        """True for the roles that sign in with a code too and whose sessions are kept short."""
        return self.role in TWO_FACTOR_ROLES

    @property
    def has_two_factor(self) -> bool:
        """True once an authenticator is enrolled and confirmed."""
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_erased(self) -> bool:
        """True once the teacher's data is erased (privacy.erasure): the account is a shell."""
        return self.email.endswith("@" + ERASED_DOMAIN)

    @property
    def name(self) -> str:
        """The name to greet the user with."""
        if self.is_erased:
            from flask_babel import gettext

            return gettext("Erased account %(id)s", id=self.id)
        if self.profile is not None:
            return self.profile.name_zh or self.profile.name_latin
        return self.display_name or self.email

    def end_all_sessions(self) -> None:
        """Invalidate every session and remember-me cookie of this user."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class TeacherProfile(TimestampMixin, Base):
    """What a visiting teacher tells about themselves; it goes on the certificate."""

    __tablename__ = "teacher_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: 姓, in Chinese characters
    family_name_zh: Mapped[str] = mapped_column(String(50))
    #: 名, in Chinese characters
    given_name_zh: Mapped[str] = mapped_column(String(50))
    #: family name in Latin letters exactly as in the passport
    family_name_latin: Mapped[str] = mapped_column(String(100))
    given_name_latin: Mapped[str] = mapped_column(String(100))
    #: optional Russian spelling of the full name
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    born_on: Mapped[date | None]
    partner_university_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_universities.id"), index=True
    )
    department: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    academic_title: Mapped[AcademicTitle] = mapped_column(
        str_enum(AcademicTitle, "academic_title", length=30),
        default=AcademicTitle.NONE,
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    wechat_id: Mapped[str] = mapped_column(String(40), default="")
    #: what the federal register of education documents (ФИС ФРДО) records of the holder;
    #: asked in the profile, required before a certificate is issued
    sex: Mapped[Sex | None] = mapped_column(str_enum(Sex, "sex", length=10))
    #: ISO 3166 alpha-2 code of the citizenship, e.g. CN; the register takes its numeric code
    citizenship: Mapped[str] = mapped_column(String(2), default="")
    education_level: Mapped[EducationLevel | None] = mapped_column(
        str_enum(EducationLevel, "education_level", length=30)
    )
    #: Russian insurance number (СНИЛС), only for a teacher who has one: 123-456-789 01
    snils: Mapped[str] = mapped_column(String(14), default="")

    user: Mapped[User] = relationship(back_populates="profile")
    partner_university: Mapped[PartnerUniversity | None] = relationship()

    @property
    def name_zh(self) -> str:
        """The name in Chinese characters, family name first, no space."""
        return f"{self.family_name_zh}{self.given_name_zh}"

    @property
    def name_latin(self) -> str:
        """The passport name: FAMILY Given."""
        return f"{self.family_name_latin.upper()} {self.given_name_latin}"


class RecoveryCode(Base):
    """A one-time code that signs a staff member in when their authenticator is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the code; the code itself is shown once, when it is made
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class AccountToken(Base):
    """A single-use, expiring token mailed to a user: email confirmation or password reset."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: confirm_email or reset_password
    purpose: Mapped[str] = mapped_column(String(20))
    #: SHA-256 of the token; the token itself is only in the email
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
