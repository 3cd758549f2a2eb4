"""Every feature's models, imported so that Alembic and the tests see all tables."""

from course_portal.accounts.models import AccountToken, TeacherProfile, User
from course_portal.catalog.models import Institute, Intake, Module, PartnerUniversity, Program
from course_portal.core.outbox import OutboxMessage
from course_portal.enrollment.models import Application, ApplicationEvent, Document, IntakeQuota

__all__ = [
    "AccountToken",
    "Application",
    "ApplicationEvent",
    "Document",
    "IntakeQuota",
    "Institute",
    "Intake",
    "Module",
    "OutboxMessage",
    "PartnerUniversity",
    "Program",
    "TeacherProfile",
    "User",
]
