"""A copy of a teacher's data, asked for by them or by a coordinator on their behalf."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.accounts.models import User
from course_portal.db import Base, str_enum, utcnow


class ExportStatus(enum.StrEnum):
    """Where a copy is: waiting for its job, being built, ready to download, failed, gone."""

    PENDING = "pending"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    #: its link's time is over and its file deleted
    EXPIRED = "expired"


class DataExport(Base):
    """One ZIP of everything the portal holds about a teacher, downloadable for a short time."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: whose data it holds
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: who asked for it and alone may download it: the teacher, or a coordinator on request
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                 index=True)
    status: Mapped[ExportStatus] = mapped_column(
        str_enum(ExportStatus, "status", length=10), default=ExportStatus.PENDING)
    #: 0–100 while building
    progress: Mapped[int] = mapped_column(default=0)
    #: the file's random name in DATA_EXPORT_FOLDER; empty until built
    file_name: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: after this the link answers 410 and the file is deleted
    expires_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])


class ErasureStatus(enum.StrEnum):
    """Where a request to delete a teacher's data is."""

    #: asked for; waits for a coordinator's confirmation or for its day
    REQUESTED = "requested"
    #: the teacher changed their mind before it ran
    CANCELLED = "cancelled"
    #: done: the account is anonymised, the documents deleted
    DONE = "done"


class ErasureRequest(Base):
    """A teacher's request to delete what the portal holds about them.

    The row itself stays after the erasure as the record that it was done; it holds no personal
    data, only the (anonymised) account's id and the dates.
    """

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ErasureStatus] = mapped_column(
        str_enum(ErasureStatus, "status", length=10), default=ErasureStatus.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: it proceeds by itself from this moment unless cancelled (ERASURE_PROCEEDS_AFTER_DAYS)
    proceeds_at: Mapped[datetime]
    #: the coordinator who confirmed it; empty when it proceeded by itself
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
