"""What reminders were sent: one row per reminder, so that none is ever sent twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from course_portal.db import Base, utcnow


class SentReminder(Base):
    """A reminder that left (its email is in the outbox in the same transaction)."""

    __tablename__ = "sent_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: draft_3_days, draft_1_day, start_in_a_week, module_tomorrow, behind, review_digest
    kind: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                              index=True)
    #: what it is about, e.g. "application:12", "schedule:7:application:12", "day:2026-12-03"
    key: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "recipient_id", "key"),)
