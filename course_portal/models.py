"""Every feature's models, imported so that Alembic and the tests see all tables."""

from course_portal.accounts.consent import Consent
from course_portal.accounts.models import AccountToken, RecoveryCode, TeacherProfile, User
from course_portal.accounts.passkeys import Passkey
from course_portal.catalog.models import Institute, Intake, Module, PartnerUniversity, Program
from course_portal.certificates.models import Certificate, IssueBatch, RegistryCounter
from course_portal.core.audit import AuditEvent
from course_portal.core.outbox import OutboxMessage
from course_portal.core.pagecache import CacheGeneration
from course_portal.core.steps import TimedStep
from course_portal.dashboard.tallies import ApplicationTally, PartnerTally, TeacherTally
from course_portal.enrollment.models import Application, ApplicationEvent, Document, IntakeQuota
from course_portal.privacy.models import DataExport, ErasureRequest
from course_portal.progress.models import (
    FinalAssessment,
    ModuleResult,
    ModuleSchedule,
    ProgramRules,
    ResultChange,
)
from course_portal.reminders.models import SentReminder

__all__ = [
    "AccountToken",
    "Application",
    "AuditEvent",
    "ApplicationEvent",
    "ApplicationTally",
    "CacheGeneration",
    "DataExport",
    "Consent",
    "Certificate",
    "Document",
    "ErasureRequest",
    "FinalAssessment",
    "IntakeQuota",
    "Institute",
    "Intake",
    "IssueBatch",
    "Module",
    "ModuleResult",
    "ModuleSchedule",
    "OutboxMessage",
    "PartnerTally",
    "Passkey",
    "PartnerUniversity",
    "Program",
    "ProgramRules",
    "RecoveryCode",
    "RegistryCounter",
    "ResultChange",
    "SentReminder",
    "TeacherProfile",
    "TeacherTally",
    "TimedStep",
    "User",
]
