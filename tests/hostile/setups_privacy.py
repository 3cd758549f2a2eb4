"""Setups of the privacy forms: a coordinator's copy made on request, a teacher's erasure."""

from __future__ import annotations

from sqlalchemy import select

from course_portal.core.audit import AuditEvent
from course_portal.extensions import db
from tests import factories
from tests.hostile.conftest import make_role
from tests.hostile.spec import Env, commit


def staff_copy_setup(role):
    teacher = commit(factories.make_teacher())
    return Env(url=f"/privacy/teachers/{teacher.id}", user=make_role(role),
               rows={"teacher": teacher})


def staff_copy_stored(env, field_name):
    """The teacher's request as the audit log keeps it."""
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "data_export.requested",
        AuditEvent.teacher_id == env.rows["teacher"].id).order_by(AuditEvent.id.desc()))
    return event.details.get("reason") if event is not None else None
