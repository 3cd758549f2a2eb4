"""Applications to intakes, their history, their documents, and seat quotas per partner."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from course_portal.accounts.models import User
from course_portal.catalog.models import Intake, PartnerUniversity
from course_portal.core.audit import AuditEvent
from course_portal.db import Base, TimestampMixin, str_enum, utcnow


class ApplicationStatus(enum.StrEnum):
    """Where an application stands; changed only by enrollment.services.transition()."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ENROLLED = "enrolled"
    #: the intake closed and the teacher met the completion rules
    COMPLETED = "completed"
    #: the intake closed and the teacher did not meet the completion rules
    NOT_COMPLETED = "not_completed"


#: statuses that hold one of the intake's seats; a closed intake's teachers keep theirs, so
#: closing it neither frees seats nor promotes anyone from the waiting list
SEAT_HOLDING = frozenset({
    ApplicationStatus.APPROVED,
    ApplicationStatus.ENROLLED,
    ApplicationStatus.COMPLETED,
    ApplicationStatus.NOT_COMPLETED,
})


#: the audit log's action for a document the retention rules deleted (enrollment.retention)
DOCUMENT_DELETED = "document.deleted"


class FundingSource(enum.StrEnum):
    """Who pays for the teacher's program."""

    SELF_FUNDED = "self_funded"
    HOME_UNIVERSITY = "home_university"
    #: a program of the Ministry of Education of China
    MOE_CHINA = "moe_china"
    OTHER = "other"


class DocumentKind(enum.StrEnum):
    """The documents an application needs, one of each."""

    DIPLOMA = "diploma"
    PASSPORT = "passport"
    CV = "cv"


class Application(TimestampMixin, Base):
    """A teacher's application to one intake of a program."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"))
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus, "status"), default=ApplicationStatus.DRAFT
    )
    motivation: Mapped[str] = mapped_column(Text, default="")
    #: empty until the teacher chooses
    funding_source: Mapped[FundingSource | None] = mapped_column(str_enum(FundingSource, "funding_source"))
    #: the teacher's words when funding_source is "other"
    funding_other: Mapped[str] = mapped_column(String(200), default="")
    #: when the teacher consented to the processing of personal data; None: not given
    consent_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: the last coordinator decision (approved, waitlisted or rejected)
    decided_at: Mapped[datetime | None]
    #: the reason given with the last decision, shown to the teacher
    reason: Mapped[str] = mapped_column(Text, default="")
    #: when it joined the waiting list: the list is served in this order, then by id
    waitlisted_at: Mapped[datetime | None]
    #: the last portal day on which an approved teacher can confirm the seat, when the intake
    #: asks for confirmation (Intake.confirm_within_days); None otherwise
    confirm_by: Mapped[date | None]
    #: when the teacher confirmed taking part
    confirmed_at: Mapped[datetime | None]

    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    intake: Mapped[Intake] = relationship()
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application",
        order_by="ApplicationEvent.id",
        cascade="all, delete-orphan",
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="application", order_by="Document.kind", cascade="all, delete-orphan"
    )
    #: the audit rows of its documents that the retention rules deleted, oldest first: what
    #: the pages show where the documents were. Joined on the teacher too, so it is read
    #: through the audit log's teacher index (the action has very many rows, a teacher few)
    document_deletions: Mapped[list[AuditEvent]] = relationship(
        primaryjoin=lambda: and_(
            foreign(AuditEvent.teacher_id) == Application.teacher_id,
            foreign(AuditEvent.object_id) == Application.id,
            AuditEvent.object_type == Application.__tablename__,
            AuditEvent.action == DOCUMENT_DELETED,
        ),
        order_by=lambda: AuditEvent.id,
        viewonly=True,
    )

    __table_args__ = (
        UniqueConstraint("teacher_id", "intake_id"),
        Index("ix_applications_intake_id_status", "intake_id", "status"),
        Index("ix_applications_status", "status"),
        Index("ix_applications_funding_source", "funding_source"),
        #: the dashboard's period filter (submitted between two dates)
        Index("ix_applications_submitted_at", "submitted_at"),
        #: the review queue's default view, oldest first: what needs a decision. The pending
        #: applications are the newest, so walking ix_applications_submitted_at for them read
        #: nearly the whole table before it found a page's worth
        Index("ix_applications_to_review", "submitted_at", "id",
              postgresql_where=text("status IN ('submitted', 'waitlisted')"),
              sqlite_where=text("status IN ('submitted', 'waitlisted')")),
    )

    @property
    def holds_seat(self) -> bool:
        """True while approved, enrolled or finished: the application counts against the capacity."""
        return self.status in SEAT_HOLDING

    def document(self, kind: DocumentKind | str) -> Document | None:
        """The document of that kind, or None."""
        for document in self.documents:
            if document.kind == kind:
                return document
        return None

    @property
    def deleted_documents(self) -> dict[str, datetime]:
        """Kind ("passport") -> when the retention rules deleted the document of that kind."""
        return {event.details["kind"]: event.occurred_at for event in self.document_deletions
                if isinstance(event.details, dict) and event.details.get("kind")}

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status}>"


class ApplicationEvent(Base):
    """One row of an application's history: who moved it from which status to which, and why."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    #: None when the portal acted on its own (promotion from the waiting list, enrollment)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: None for the row that records the draft's creation
    from_status: Mapped[ApplicationStatus | None] = mapped_column(
        str_enum(ApplicationStatus, "from_status")
    )
    to_status: Mapped[ApplicationStatus] = mapped_column(str_enum(ApplicationStatus, "to_status"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Document(Base):
    """An uploaded file of an application, checked by content and stored under a generated name."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (application_id, kind) serves lookups by application
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "kind"))
    #: the name on the teacher's device, cleaned; metadata only, never a path
    original_filename: Mapped[str] = mapped_column(String(255))
    #: the file's name in the upload folder, a random hex string (uuid4)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: detected from the content: application/pdf, image/jpeg or image/png
    content_type: Mapped[str] = mapped_column(String(50))
    #: bytes
    size: Mapped[int]
    #: hex SHA-256 of the content
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application: Mapped[Application] = relationship(back_populates="documents")

    __table_args__ = (UniqueConstraint("application_id", "kind"),)


class IntakeQuota(Base):
    """Seats of an intake reserved as a ceiling for one partner university's teachers."""

    __tablename__ = "intake_quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"))
    partner_university_id: Mapped[int] = mapped_column(
        ForeignKey("partner_universities.id"), index=True
    )
    #: at most this many of the partner's teachers approved or enrolled
    seats: Mapped[int]
    #: changed only by an atomic UPDATE, like Intake.seats_taken
    seats_taken: Mapped[int] = mapped_column(default=0)

    intake: Mapped[Intake] = relationship()
    partner_university: Mapped[PartnerUniversity] = relationship()

    __table_args__ = (
        UniqueConstraint("intake_id", "partner_university_id"),
        CheckConstraint("seats >= 0", name="seats_not_negative"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= seats", name="seats_taken_within_seats"
        ),
    )

    @property
    def seats_left(self) -> int:
        """Seats of the quota still free."""
        return max(self.seats - self.seats_taken, 0)
