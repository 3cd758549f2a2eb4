"""A copy of everything the portal holds about a teacher: one ZIP with a JSON manifest.

The teacher asks for it from their profile; a coordinator may make one on the teacher's
request (audited), and only whoever asked may download it. It is built by a background job
(RQ when Redis is configured, in place otherwise) that records its progress, so a copy with
many documents shows how far it is; it can be downloaded for DATA_EXPORT_VALID_HOURS, after
which the timed step privacy.purge_exports deletes its file.

What the ZIP holds:

- ``manifest.json``: the account (without the password hash, session token, two-step secret or
  calendar token: secrets, not data about the person), the profile, the consents, every
  application with its history, documents, results and result changes, the certificates (their
  snapshot: what each states), the emails the portal sent to the teacher's address, the
  reminders it sent them, the audit rows about them, and the earlier copies and erasure
  requests;
- ``documents/<application id>/<kind>-<id>.<ext>``: the uploaded files as stored;
- ``certificates/<registry number>.pdf`` and ``.jwt``: each certificate exactly as issued, and
  its signed Open Badges credential where the portal signs them.

Names in the ZIP come from kinds and ids, never from what a teacher named a file.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import secrets
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import LargeBinary, or_, select, update
from sqlalchemy.orm import selectinload

from course_portal.accounts.consent import Consent
from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.accounts.services import external_url
from course_portal.certificates import credentials
from course_portal.certificates.models import Certificate
from course_portal.core import audit, clock
from course_portal.core.audit import AuditEvent
from course_portal.core.jobs import enqueue
from course_portal.core.outbox import OutboxMessage, queue_email
from course_portal.core.storage import private_folder
from course_portal.db import execute_dml
from course_portal.enrollment import documents
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from course_portal.privacy.models import DataExport, ErasureRequest, ExportStatus
from course_portal.progress.models import FinalAssessment, ModuleResult, ResultChange
from course_portal.reminders.models import SentReminder

log = logging.getLogger(__name__)

#: the manifest's format; a reader of an older copy can tell what it holds
MANIFEST_VERSION = 1
#: columns that are secrets or keys to the account, not data about the person
SECRET_COLUMNS = frozenset({"password_hash", "session_token", "totp_secret", "totp_last_step",
                            "calendar_token", "code_hash", "token_hash"})
#: the progress is written to the database every so many files
PROGRESS_EVERY = 5
#: a copy still unfinished after this was left by a job that died
STALLED_AFTER = timedelta(hours=1)

REQUESTED = "data_export.requested"
DOWNLOADED = "data_export.downloaded"


class ExportRefused(Exception):
    """A copy that cannot be asked for now, with the reason a person reads."""


def export_folder() -> Path:
    """Where the ZIPs are built (never under static/: each is one person's data)."""
    return private_folder("DATA_EXPORT_FOLDER")


def path_of(export: DataExport) -> Path | None:
    """The ZIP of a copy that is ready, or None."""
    if not export.file_name or export.file_name != Path(export.file_name).name:
        return None
    return export_folder() / export.file_name


def download_name(export: DataExport) -> str:
    """The name a browser saves the ZIP under: no personal data in it."""
    made = (export.finished_at or export.created_at).astimezone(clock.portal_zone())
    return f"course-portal-data-{export.user_id}-{made:%Y%m%d-%H%M}.zip"


def is_downloadable(export: DataExport, now: datetime | None = None) -> bool:
    """True while the copy is ready and its link's time is not over."""
    now = now or clock.now()
    return (export.status is ExportStatus.READY and export.expires_at is not None
            and now < export.expires_at)


def exports_of(user_id: int, requested_by_id: int) -> list[DataExport]:
    """The copies of user_id's data that requested_by_id asked for, newest first."""
    return list(db.session.scalars(
        select(DataExport)
        .where(DataExport.user_id == user_id, DataExport.requested_by_id == requested_by_id)
        .order_by(DataExport.id.desc())
        .limit(10)
    ))


def request_export(user: User, *, actor: User, reason: str = "") -> DataExport:
    """Ask for a copy of `user`'s data, for `actor` (the teacher, or a coordinator for them).

    `reason` is how the teacher asked, when a coordinator makes it for them. A copy still being
    built is returned again rather than built twice. The caller commits
    and then calls start(export) so the job sees the row.
    """
    if user.role != Role.TEACHER:
        raise ExportRefused("not a teacher")
    unfinished = db.session.scalar(
        select(DataExport).where(
            DataExport.user_id == user.id,
            DataExport.requested_by_id == actor.id,
            DataExport.status.in_([ExportStatus.PENDING, ExportStatus.BUILDING]),
        )
    )
    if unfinished is not None and unfinished.created_at > clock.now() - STALLED_AFTER:
        return unfinished
    if unfinished is not None:
        # its job died (a worker killed, a restart): the new request builds a new copy
        unfinished.status = ExportStatus.FAILED
        unfinished.error = "stalled"
        unfinished.finished_at = clock.now()
    export = DataExport(user_id=user.id, requested_by_id=actor.id, created_at=clock.now())
    db.session.add(export)
    db.session.flush()
    audit.record(REQUESTED, actor=actor, teacher=user, target=export,
                 **({"reason": reason} if reason else {}))
    return export


def start(export: DataExport) -> None:
    """Queue the copy's job (or build it now when no Redis is configured)."""
    enqueue("course_portal.privacy.export.build_export", export.id)


def record_download(export: DataExport, *, actor: User) -> None:
    """The audit row of a download; the caller commits."""
    audit.record(DOWNLOADED, actor=actor, teacher=export.user_id, target=export)


# -- building ---------------------------------------------------------------------------------

def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    return value


def row(obj: Any, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every column of a row as JSON values, without secrets and binary content."""
    values = {}
    for column in obj.__table__.columns:
        if column.key in SECRET_COLUMNS or column.key in leave_out:
            continue
        if isinstance(column.type, LargeBinary):
            continue
        values[column.key] = _value(getattr(obj, column.key))
    return values


def _set_progress(export_id: int, progress: int) -> None:
    db.session.execute(update(DataExport).where(DataExport.id == export_id)
                       .values(progress=min(99, progress)))
    db.session.commit()


def _claim(export_id: int) -> bool:
    claimed = execute_dml(
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
        .values(status=ExportStatus.BUILDING, progress=0)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _audit_entry(event: AuditEvent, user_id: int) -> dict[str, Any]:
    entry = row(event, leave_out=frozenset({"ip", "actor_id"}))
    entry["actor"] = ("you" if event.actor_id == user_id
                      else "portal" if event.actor_id is None else "staff")
    # the teacher's own addresses are theirs; a staff member's are not
    if event.actor_id == user_id and event.ip:
        entry["ip"] = event.ip
    return entry


def manifest(user: User) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The manifest of user's data, and the files to add as (name in the ZIP, source).

    A source is a Path (a stored document) or a callable returning bytes (a certificate).
    """
    files: list[tuple[str, Any]] = []
    applications = list(db.session.scalars(
        select(Application)
        .where(Application.teacher_id == user.id)
        .options(selectinload(Application.events), selectinload(Application.documents),
                 selectinload(Application.intake))
        .order_by(Application.id)
    ))
    ids = [application.id for application in applications]
    results = _by_application(ModuleResult, ids)
    finals = _by_application(FinalAssessment, ids)
    changes = _by_application(ResultChange, ids)
    certificates = _by_application(Certificate, ids)

    application_entries = []
    certificate_entries = []
    for application in applications:
        entry = row(application)
        entry["intake"] = {"id": application.intake.id, "title": application.intake.title,
                           "starts_on": _value(application.intake.starts_on),
                           "ends_on": _value(application.intake.ends_on)}
        entry["history"] = [row(event, leave_out=frozenset({"actor_id"}))
                            for event in application.events]
        entry["documents"] = []
        for document in application.documents:
            name = (f"documents/{application.id}/{document.kind.value}-{document.id}"
                    f"{documents.EXTENSIONS.get(document.content_type, '')}")
            described = row(document, leave_out=frozenset({"stored_name", "uploaded_by_id"}))
            try:
                files.append((name, documents.open_document(document)))
                described["file"] = name
            except FileNotFoundError:
                described["file"] = None
            entry["documents"].append(described)
        entry["module_results"] = [row(r, leave_out=frozenset({"updated_by_id"}))
                                   for r in results.get(application.id, [])]
        entry["final_assessments"] = [row(r, leave_out=frozenset({"updated_by_id"}))
                                      for r in finals.get(application.id, [])]
        entry["result_changes"] = [row(r, leave_out=frozenset({"actor_id"}))
                                   for r in changes.get(application.id, [])]
        application_entries.append(entry)
        for certificate in certificates.get(application.id, []):
            described = row(certificate, leave_out=frozenset({"issued_by_id", "revoked_by_id"}))
            pdf_name = f"certificates/{certificate.registry_number}.pdf"
            files.append((pdf_name, _certificate_pdf(certificate.id)))
            described["file"] = pdf_name
            described["credential_file"] = None
            if credentials.available():
                jwt_name = f"certificates/{certificate.registry_number}.jwt"
                files.append((jwt_name, _certificate_credential(certificate.id)))
                described["credential_file"] = jwt_name
            certificate_entries.append(described)

    profile = db.session.scalar(select(TeacherProfile).where(TeacherProfile.user_id == user.id))
    emails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email)
        .order_by(OutboxMessage.id))
    audit_rows = db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.teacher_id == user.id,
                                     AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.id))
    data = {
        "format": "course-portal-data-export",
        "version": MANIFEST_VERSION,
        "made_at": clock.now().isoformat(),
        "account": row(user),
        "profile": row(profile) if profile is not None else None,
        "consents": [row(c) for c in db.session.scalars(
            select(Consent).where(Consent.user_id == user.id).order_by(Consent.id))],
        "applications": application_entries,
        "certificates": certificate_entries,
        "emails": [row(m, leave_out=frozenset({"claimed_until", "last_error", "attempts",
                                                "next_attempt_at"}))
                   for m in emails],
        "reminders": [row(r) for r in db.session.scalars(
            select(SentReminder).where(SentReminder.recipient_id == user.id)
            .order_by(SentReminder.id))],
        "audit": [_audit_entry(event, user.id) for event in audit_rows],
        "data_exports": [row(e, leave_out=frozenset({"file_name", "requested_by_id"}))
                         for e in db.session.scalars(
                             select(DataExport).where(DataExport.user_id == user.id)
                             .order_by(DataExport.id))],
        "erasure_requests": [row(e, leave_out=frozenset({"confirmed_by_id"}))
                             for e in db.session.scalars(
                                 select(ErasureRequest).where(ErasureRequest.user_id == user.id)
                                 .order_by(ErasureRequest.id))],
    }
    return data, files


def _by_application(model, ids: list[int]) -> dict[int, list]:
    grouped: dict[int, list] = {}
    if not ids:
        return grouped
    for item in db.session.scalars(select(model).where(model.application_id.in_(ids))
                                   .order_by(model.id)):
        grouped.setdefault(item.application_id, []).append(item)
    return grouped


def _certificate_pdf(certificate_id: int):
    def read() -> bytes:
        return db.session.execute(
            select(Certificate.pdf).where(Certificate.id == certificate_id)).scalar_one()
    return read


def _certificate_credential(certificate_id: int):
    def read() -> bytes:
        certificate = db.session.get(Certificate, certificate_id)
        token = credentials.credential_jwt(certificate) if certificate is not None else None
        return (token or "").encode()
    return read


def build_export(export_id: int) -> str:
    """The job: build the ZIP of one copy, recording progress; idempotent (claims the row)."""
    if not _claim(export_id):
        return "taken"
    export = db.session.get_one(DataExport, export_id)  # claimed just now: it exists
    folder = export_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.zip"
    target = folder / name
    temporary = folder / f".{name}.part"
    try:
        data, files = manifest(export.user)
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json",
                             json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
            for done, (entry, source) in enumerate(files, start=1):
                if isinstance(source, Path):
                    archive.write(source, entry)
                else:
                    archive.writestr(entry, source())
                if done % PROGRESS_EVERY == 0:
                    _set_progress(export_id, 100 * done // len(files))
        os.replace(temporary, target)
    except Exception:
        log.exception("the copy of data %s could not be built", export_id)
        db.session.rollback()
        temporary.unlink(missing_ok=True)
        db.session.execute(update(DataExport).where(DataExport.id == export_id).values(
            status=ExportStatus.FAILED, finished_at=clock.now(), error="build failed"))
        db.session.commit()
        return "failed"
    now = clock.now()
    export = db.session.get_one(DataExport, export_id)
    export.status = ExportStatus.READY
    export.progress = 100
    export.file_name = name
    export.size = target.stat().st_size
    export.finished_at = now
    export.expires_at = now + timedelta(hours=current_app.config["DATA_EXPORT_VALID_HOURS"])
    requester = export.requested_by
    if requester.email and not requester.email.endswith(".invalid"):
        queue_email(requester.email, "data_export_ready", locale=requester.locale,
                    kind="data_export_ready", for_self=requester.id == export.user_id,
                    hours=current_app.config["DATA_EXPORT_VALID_HOURS"],
                    link=external_url("privacy.export_status", export_id=export.id))
    db.session.commit()
    return "ready"


def purge_expired() -> str:
    """The timed step: delete the files of copies whose time is over, and mark them expired."""
    now = clock.now()
    expired = list(db.session.scalars(
        select(DataExport).where(DataExport.status == ExportStatus.READY,
                                 DataExport.expires_at <= now)))
    for export in expired:
        path = path_of(export)
        changed = execute_dml(
            update(DataExport).where(DataExport.id == export.id,
                                     DataExport.status == ExportStatus.READY)
            .values(status=ExportStatus.EXPIRED, file_name="")).rowcount
        db.session.commit()
        if changed and path is not None:
            path.unlink(missing_ok=True)
    return f"{len(expired)} expired"
