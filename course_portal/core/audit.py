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
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_portal.db import Base, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: every action the catalog, enrollment, progress, certificates and dashboard record, by group,
#: as the audit log names it. accounts/ (ACCOUNT_ACTIONS) and partners/ (PARTNER_ACTIONS) keep
#: their own; the audit page merges them (course_portal.dashboard.audit.action_groups).
ACTION_GROUPS: tuple[tuple[Any, dict[str, Any]], ...] = (
    (_l("Applications"), {
        "application.submitted": _l("Application submitted"),
        "application.approved": _l("Application approved"),
        "application.waitlisted": _l("Application put on the waiting list"),
        "application.rejected": _l("Application rejected"),
        "application.withdrawn": _l("Application withdrawn"),
        "application.seat_confirmed": _l("Seat confirmed by the teacher"),
        "application.confirmation_extended": _l("Deadline to confirm a seat extended"),
        "application.enrolled": _l("Teacher enrolled"),
        "application.completed": _l("Teacher completed the program"),
        "application.not_completed": _l("Teacher did not complete the program"),
        "application.status_changed": _l("Application status changed"),
        "document.uploaded": _l("Document uploaded"),
        "document.deleted": _l("Document deleted under the retention rules"),
        "applications.exported": _l("Applications exported"),
    }),
    (_l("Progress"), {
        "result.changed": _l("Module result changed"),
        "final_assessment.changed": _l("Final assessment changed"),
        "results.imported": _l("Results imported from CSV"),
        "rules.changed": _l("Completion rules changed"),
        "schedule.changed": _l("Module dates changed"),
        "intake.finalised": _l("Intake closed: completion decided"),
    }),
    (_l("Certificates"), {
        "certificate.issued": _l("Certificate issued"),
        "certificate.revoked": _l("Certificate revoked"),
        "certificate.reissued": _l("Certificate re-issued"),
        "certificates.batch_started": _l("Issuing for a whole intake started"),
        "certificates.profile_data_requested": _l("Teachers asked to complete their profile"),
        "certificates.reissue_started": _l("Re-issuing certificates that printed credited hours"),
        "certificates.reissue_finished": _l("Re-issuing certificates that printed credited hours "
                                            "finished"),
        "registry.exported": _l("Certificate registry exported"),
        "frdo.exported": _l("Federal register (FRDO) export made"),
    }),
    (_l("Issuer and signatories"), {
        "issuer.organisation_changed": _l("Organisation's names changed"),
        "issuer.signatory_changed": _l("Signatory changed"),
        "issuer.signature_image_changed": _l("Signature image changed"),
        "issuer.seal_image_changed": _l("Seal image changed"),
    }),
    (_l("Programs and intakes"), {
        "program.created": _l("Program created"),
        "program.updated": _l("Program changed"),
        "modules.saved": _l("Modules saved"),
        "intake.created": _l("Intake created"),
        "intake.updated": _l("Intake changed"),
        "intake.opened": _l("Applications opened"),
        "intake.closed": _l("Applications closed"),
        "quota.changed": _l("Partner quota changed"),
    }),
    (_l("Dashboard"), {
        "email.bulk_sent": _l("Email sent to teachers"),
        "report.exported": _l("Report exported"),
        "audit.exported": _l("Audit log exported"),
    }),
)


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


def record_many(events: list[dict[str, Any]]) -> None:
    """Add many audit rows in one INSERT (a roster of a hundred teachers saved at once).

    Each dict holds record()'s arguments: action, actor, teacher, details (a dict), and target
    or, for an object not loaded, object_type and object_id.
    """
    if not events:
        return
    now = utcnow()
    ip = (request.remote_addr or "")[:45] if has_request_context() else ""
    rows = []
    for event in events:
        target = event.get("target")
        rows.append({
            "occurred_at": now,
            "action": event["action"],
            "actor_id": _id_of(event.get("actor")),
            "teacher_id": _id_of(event.get("teacher")),
            "object_type": event.get("object_type", getattr(target, "__tablename__", "")),
            "object_id": event.get("object_id", getattr(target, "id", None)),
            "details": event.get("details") or {},
            "ip": ip,
        })
    db.session.execute(insert(AuditEvent), rows)
