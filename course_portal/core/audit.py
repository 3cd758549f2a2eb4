"""The audit log: one row for every action that changes something a coordinator answers for.

Services call `record()` in the same transaction as the change, so an action and its audit row
are written together or not at all. The per-object histories (an application's status events,
a result's changes) stay where they are; this table is the one place to search across them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.db import Base, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)


class AuditEvent(Base):
    """Who did what, to which teacher's record, when and from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: who acted; empty for the portal itself (a scheduled command, a background job)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: what was done, as "<object>.<verb>": application.approved, certificate.issued, ...
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: the teacher whose record the action concerns, when there is one
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: the table and id of the changed object: ("applications", 42)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None]
    #: what changed, as plain values: {"from": "submitted", "to": "approved", "reason": ...}
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the address the request came from; empty outside a request
    ip: Mapped[str] = mapped_column(String(45), default="")

    actor = relationship("User", foreign_keys=[actor_id])
    teacher = relationship("User", foreign_keys=[teacher_id])

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


def _id_of(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return value.id


def record(
    action: str,
    *,
    actor: Any = None,
    teacher: Any = None,
    target: Any = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit row for `action` to the current transaction and return it.

    `actor` and `teacher` are users or user ids; `target` is the changed model instance.
    `details` must be JSON values. The caller commits, as with every other change.
    """
    event = AuditEvent(
        action=action,
        actor_id=_id_of(actor),
        teacher_id=_id_of(teacher),
        object_type=getattr(target, "__tablename__", "") if target is not None else "",
        object_id=getattr(target, "id", None) if target is not None else None,
        details=details,
        # the one place outside a view that reads the request: every caller would pass it anyway
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(event)
    return event
