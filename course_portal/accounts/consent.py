"""Consent to the processing of personal data (152-FZ) and to its transfer abroad (PIPL art. 39).

A teacher gives two consents, each to one version of its text: processing by SPbPU (Russia's
Federal Law 152-FZ, art. 9) and, separately, the transfer of their personal information from
China to SPbPU in Russia (China's Personal Information Protection Law, art. 39, which asks for
a separate consent naming the recipient, the purpose, the kinds of data and how to exercise
one's rights). The texts live in templates/accounts/consent/<kind>-v<version>.<language>.html
and are never edited once in force: a change is a new version in CURRENT, and every teacher is
asked again at their next sign-in. A consent is in force while its record is for the current
version and not withdrawn. Without both in force a teacher can still sign in, read, download
and delete their data, but cannot submit an application.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from course_portal.core import audit
from course_portal.db import Base, str_enum, utcnow
from course_portal.extensions import db


class ConsentKind(enum.StrEnum):
    """What a teacher consents to; each has its own text and its own checkbox."""

    #: processing of personal data by SPbPU (152-FZ)
    PROCESSING = "processing"
    #: transfer of personal information from China to SPbPU in Russia (PIPL art. 39)
    TRANSFER_ABROAD = "transfer_abroad"


#: the version of each text in force; raising one asks every teacher again at next sign-in
CURRENT: dict[ConsentKind, int] = {
    ConsentKind.PROCESSING: 1,
    ConsentKind.TRANSFER_ABROAD: 1,
}

#: the day each version came into force, printed above its text
IN_FORCE_FROM: dict[tuple[ConsentKind, int], date] = {
    (ConsentKind.PROCESSING, 1): date(2026, 12, 4),
    (ConsentKind.TRANSFER_ABROAD, 1): date(2026, 12, 4),
}

TITLES = {
    ConsentKind.PROCESSING: _l("Consent to the processing of personal data"),
    ConsentKind.TRANSFER_ABROAD: _l("Separate consent to the transfer of personal information "
                                    "abroad"),
}

#: the checkbox beside each text
AGREEMENTS = {
    ConsentKind.PROCESSING: _l("I consent to SPbPU processing my personal data as described "
                               "above."),
    ConsentKind.TRANSFER_ABROAD: _l("I consent, separately, to the transfer of my personal "
                                    "information to SPbPU in Russia as described above."),
}

class Consent(Base):
    """That a user agreed to one version of one consent text, when, and whether withdrawn."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind, "kind", length=20))
    #: the version of the text agreed to (CURRENT names the one in force)
    version: Mapped[int]
    #: the language the text was read in (en, zh or ru): each is a text of its own
    language: Mapped[str] = mapped_column(String(8))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]


def text_template(kind: ConsentKind, version: int, language: str) -> str:
    """The template holding one version of a consent text in a language."""
    return f"accounts/consent/{kind.value}-v{version}.{language}.html"


@dataclass(frozen=True)
class ConsentText:
    """One version of one consent text, as a page shows it."""

    kind: ConsentKind
    version: int

    @property
    def title(self):
        return TITLES[self.kind]

    @property
    def in_force_from(self) -> date:
        return IN_FORCE_FROM[(self.kind, self.version)]

    @property
    def is_current(self) -> bool:
        return CURRENT[self.kind] == self.version

    def template(self, language: str) -> str:
        return text_template(self.kind, self.version, language)


def current_texts(kinds=None) -> list[ConsentText]:
    """The texts in force, of the kinds given (every kind by default), in ConsentKind's order."""
    wanted = set(ConsentKind) if kinds is None else {ConsentKind(kind) for kind in kinds}
    return [ConsentText(kind, CURRENT[kind]) for kind in ConsentKind if kind in wanted]


def known_text(kind: str, version: int) -> ConsentText | None:
    """A version that was ever in force, or None (for the page that shows old texts)."""
    try:
        text = ConsentText(ConsentKind(kind), version)
    except ValueError:
        return None
    return text if (text.kind, text.version) in IN_FORCE_FROM else None


def records(user_id: int) -> list[Consent]:
    """Every consent record of a user, newest first (for the profile, an export, the review)."""
    return list(db.session.scalars(
        select(Consent).where(Consent.user_id == user_id)
        .order_by(Consent.given_at.desc(), Consent.id.desc())))


def in_force(user_id: int) -> dict[ConsentKind, Consent | None]:
    """Each kind's record for the current version that is not withdrawn, or None; one query."""
    found: dict[ConsentKind, Consent | None] = dict.fromkeys(ConsentKind)
    for record in records(user_id):
        if record.version == CURRENT[record.kind] and record.withdrawn_at is None:
            found[record.kind] = record
    return found


def missing(user_id: int) -> list[ConsentKind]:
    """The kinds whose current version the user has not agreed to (or has withdrawn)."""
    return [kind for kind, record in in_force(user_id).items() if record is None]


def give(user, kinds, language: str) -> list[Consent]:
    """Record that the user agreed to the current version of each kind; audited, idempotent.

    A kind already in force is left as it is; one given again after a withdrawal gets its
    record back in force with the new moment. The caller commits.
    """
    given = []
    current = {record.kind: record for record in records(user.id)
               if record.version == CURRENT[record.kind]}
    for kind in kinds:
        kind = ConsentKind(kind)
        record = current.get(kind)
        if record is not None and record.withdrawn_at is None:
            continue
        if record is None:
            record = Consent(user_id=user.id, kind=kind, version=CURRENT[kind])
            db.session.add(record)
        record.language = language
        record.given_at = utcnow()
        record.withdrawn_at = None
        db.session.flush()
        audit.record("consent.given", actor=user, teacher=user, target=record,
                     consent=kind.value, version=record.version, language=language)
        given.append(record)
    return given


def withdraw(user, kind: ConsentKind) -> bool:
    """Withdraw the user's consent of this kind in force; False when none was. Audited."""
    record = in_force(user.id)[ConsentKind(kind)]
    if record is None:
        return False
    record.withdrawn_at = utcnow()
    audit.record("consent.withdrawn", actor=user, teacher=user, target=record,
                 consent=record.kind.value, version=record.version)
    return True
