"""Certificates, their registry counters, bulk-issuing batches, and who issues and signs them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.accounts.models import User
from course_portal.catalog.models import Institute, Intake, Program
from course_portal.core.i18n import TranslatedMixin
from course_portal.db import Base, TimestampMixin, str_enum, utcnow
from course_portal.enrollment.models import Application


class CertificateStatus(enum.StrEnum):
    """Where a certificate stands; changed only through certificates.services."""

    ISSUED = "issued"
    REVOKED = "revoked"
    #: replaced by a corrected re-issue, which names this one
    SUPERSEDED = "superseded"


class RegistryCounter(Base):
    """The last registry number used for one program in one year, bumped by an atomic UPDATE."""

    __tablename__ = "certificate_counters"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    #: the sequence of the last certificate issued; 0 before the first
    last_number: Mapped[int] = mapped_column(default=0)


class Certificate(Base):
    """One issued certificate: a frozen snapshot and PDF under a registry number."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. IE-2026-0001: program code, year of issue, sequence
    registry_number: Mapped[str] = mapped_column(String(40), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    year: Mapped[int]
    sequence: Mapped[int]
    #: in the QR code and the public verification URL; secrets.token_urlsafe(24), 192 bits
    verification_code: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[CertificateStatus] = mapped_column(
        str_enum(CertificateStatus, "status"), default=CertificateStatus.ISSUED
    )
    #: CertificateSnapshot.to_dict(): everything the certificate states
    snapshot: Mapped[dict] = mapped_column(JSON)
    #: what the federal register (ФИС ФРДО) needs of the holder and the PDF does not print,
    #: frozen at issuing like the snapshot; never public (date of birth, SNILS).
    #: Empty for certificates issued before the register export existed.
    register_data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the PDF exactly as issued (and signed); never rendered again
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: hex SHA-256 of pdf, shown on the verification page
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    #: bytes
    pdf_size: Mapped[int]
    #: signed with the configured key (PAdES) when issued
    is_signed: Mapped[bool] = mapped_column(default=False)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: None when issued from the command line without a user
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when a re-issue replaced it
    superseded_at: Mapped[datetime | None]
    #: the certificate this one corrects (a re-issue); each is replaced at most once
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    #: why the replaced certificate was re-issued
    reissue_reason: Mapped[str] = mapped_column(Text, default="")

    program: Mapped[Program] = relationship()
    application: Mapped[Application] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id], back_populates="replaced_by"
    )
    replaced_by: Mapped[Certificate | None] = relationship(
        foreign_keys=[replaces_id], back_populates="replaces", uselist=False
    )

    __table_args__ = (
        UniqueConstraint("program_id", "year", "sequence"),
        # at most one valid certificate per application, even when two coordinators click at once
        Index(
            "uq_certificates_application_id_issued",
            "application_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
        Index("ix_certificates_status", "status"),
    )

    @property
    def is_valid(self) -> bool:
        """True while issued: neither revoked nor superseded."""
        return self.status == CertificateStatus.ISSUED

    def __repr__(self) -> str:
        return f"<Certificate {self.registry_number} {self.status}>"


class BatchStatus(enum.StrEnum):
    """Where a bulk-issuing batch stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class IssueBatch(Base):
    """Bulk issuing for an intake, run as a background job; its progress is read by the page."""

    __tablename__ = "certificate_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[BatchStatus] = mapped_column(
        str_enum(BatchStatus, "status"), default=BatchStatus.QUEUED
    )
    #: applications the batch will try
    total: Mapped[int] = mapped_column(default=0)
    #: tried so far, issued or not
    processed: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    #: [{"application_id": ..., "name": ..., "message": ...}] for those not issued
    problems: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: the job's last sign of life, written with each certificate; a running batch silent for
    #: longer than BATCH_STALL_SECONDS lost its worker and can be resumed
    heartbeat_at: Mapped[datetime | None]

    intake: Mapped[Intake] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int:
        """Share processed, 0 to 100."""
        return 100 if not self.total else min(100, round(100 * self.processed / self.total))

    @property
    def is_finished(self) -> bool:
        """True once done or failed: the page stops reloading."""
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED)

    def is_stalled(self, now: datetime, stall_seconds: int) -> bool:
        """Running, but no sign of life for stall_seconds: its worker died (killed, restarted)."""
        if self.status != BatchStatus.RUNNING:
            return False
        last = self.heartbeat_at or self.created_at
        return (now - last).total_seconds() > stall_seconds


# --- who issues and who signs ----------------------------------------------------------------


class IssuingOrganisation(TranslatedMixin, TimestampMixin, Base):
    """The organisation that issues every certificate: one row, edited by admins."""

    __tablename__ = "issuing_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the full legal name as the charter gives it: ФГАОУ ВО «Санкт-Петербургский ...»
    full_name_ru: Mapped[str] = mapped_column(String(500), default="")
    full_name_en: Mapped[str] = mapped_column(String(500), default="")
    full_name_zh: Mapped[str] = mapped_column(String(500), default="")
    #: the city of issue, printed beside the date of issue
    city_ru: Mapped[str] = mapped_column(String(100), default="")
    city_en: Mapped[str] = mapped_column(String(100), default="")
    city_zh: Mapped[str] = mapped_column(String(100), default="")
    #: the seal's image (PNG, re-encoded); without it the seal's place is marked М. П.
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: hex SHA-256 of seal_png, empty without one
    seal_sha256: Mapped[str] = mapped_column(String(64), default="")


class SignatoryRole(enum.StrEnum):
    """Who signs a certificate of advanced training."""

    #: the rector, or the vice-rector who signs by order
    RECTOR = "rector"
    #: the director of the institute that runs the programme; one per institute
    DIRECTOR = "director"
    SECRETARY = "secretary"


class Signatory(TranslatedMixin, TimestampMixin, Base):
    """A person whose name is printed under a signature line; certificates keep a copy."""

    __tablename__ = "signatories"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[SignatoryRole] = mapped_column(str_enum(SignatoryRole, "role"))
    #: the institute a director heads; empty for the rector and the secretary
    institute_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutes.id", ondelete="CASCADE"), index=True
    )
    #: "rector", "secretary" or "director:<institute id>": one signatory per line
    slot: Mapped[str] = mapped_column(String(40), unique=True)
    #: Иванов Иван Иванович / Ivan Ivanov / 伊万·伊万诺夫
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    #: Ректор / Проректор по международной деятельности / Директор института ...
    position_ru: Mapped[str] = mapped_column(String(300), default="")
    position_en: Mapped[str] = mapped_column(String(300), default="")
    position_zh: Mapped[str] = mapped_column(String(300), default="")
    #: the words of the order under which a vice-rector signs for the rector, e.g.
    #: «по доверенности № 12 от 1 сентября 2026 г.»; empty when the rector signs
    authority_ru: Mapped[str] = mapped_column(String(300), default="")
    authority_en: Mapped[str] = mapped_column(String(300), default="")
    authority_zh: Mapped[str] = mapped_column(String(300), default="")
    #: the signature's image (PNG, re-encoded), placed on the line
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: hex SHA-256 of signature_png, empty without one
    signature_sha256: Mapped[str] = mapped_column(String(64), default="")

    institute: Mapped[Institute | None] = relationship()

    __table_args__ = (
        CheckConstraint("(role = 'director') = (institute_id IS NOT NULL)",
                        name="director_has_institute"),
    )

    @staticmethod
    def slot_for(role: SignatoryRole, institute_id: int | None = None) -> str:
        """The slot of a role (and institute, for a director)."""
        return f"director:{institute_id}" if role == SignatoryRole.DIRECTOR else role.value
