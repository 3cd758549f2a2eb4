"""Erasure: a teacher asks for their data to be deleted; a coordinator confirms, or it proceeds
by itself ERASURE_PROCEEDS_AFTER_DAYS later (the teacher may cancel until then).

What erase() does to the teacher's data:

- **kept, as the law asks**: every certificate issued to them, with its snapshot (the name
  printed on it), its PDF and its register data (ФИС ФРДО), so /verify still answers for it;
  and the application each certificate was issued on, reduced to its dates and statuses;
- **deleted**: every uploaded document (row and file), the profile (names, phone, WeChat ID,
  date of birth, SNILS, …), drafts, the emails sent to them, sign-in tokens, recovery codes,
  reminders, calendar token, copies of their data (files);
- **withdrawn first**: applications still under way (submitted, waiting, approved), through the
  one door, so a held seat goes to the waiting list as on any withdrawal;
- **anonymised**: the account (an address of the .invalid domain, no password, disabled), the
  words of their other applications and histories, and every place their names, address,
  phone or WeChat ID appear in text the portal wrote (the audit log's details, other emails
  such as coordinators' digests, issuing batches' problem lists).

An enrolled teacher's application stays enrolled: the intake closes as it would, but without a
profile no certificate can be issued. The request row stays as the record that it was done, and
the teacher gets an email at the address they had, which the outbox forgets once it is sent.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, or_, select

from course_portal.accounts.models import (
    ERASED_DOMAIN,
    AccountToken,
    RecoveryCode,
    Role,
    TeacherProfile,
    User,
)
from course_portal.accounts.services import check_password, external_url
from course_portal.certificates.models import Certificate, IssueBatch
from course_portal.core import audit, clock
from course_portal.core.audit import AuditEvent
from course_portal.core.outbox import OutboxMessage, queue_email
from course_portal.core.timezones import user_zone_name
from course_portal.enrollment import documents, services
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.privacy import export as exports
from course_portal.privacy.models import DataExport, ErasureRequest, ErasureStatus, ExportStatus
from course_portal.progress.models import ResultChange
from course_portal.reminders.models import SentReminder

log = logging.getLogger(__name__)

REQUESTED = "erasure.requested"
CANCELLED = "erasure.cancelled"
CONFIRMED = "erasure.confirmed"
DONE = "erasure.done"
#: the outbox's kind of the last email, whose address it forgets once sent
DONE_EMAIL = "erasure_done"
#: what replaces a name, an address or a number in text that stays
REDACTED = "[deleted]"
#: applications withdrawn through the one door before the rest is erased
WITHDRAWABLE = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.WAITLISTED,
                          ApplicationStatus.APPROVED})


class ErasureRefused(Exception):
    """A request that cannot be made, with the message a person reads (a lazy string)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def pending_request(user_id: int) -> ErasureRequest | None:
    """The teacher's request still waiting, if any."""
    return db.session.scalar(select(ErasureRequest).where(
        ErasureRequest.user_id == user_id, ErasureRequest.status == ErasureStatus.REQUESTED))


def requests_of(user_id: int) -> list[ErasureRequest]:
    """Every request of the teacher, newest first."""
    return list(db.session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == user_id)
                                   .order_by(ErasureRequest.id.desc())))


def waiting() -> list[ErasureRequest]:
    """Every request waiting for a coordinator or its day, oldest first."""
    return list(db.session.scalars(select(ErasureRequest)
                                   .where(ErasureRequest.status == ErasureStatus.REQUESTED)
                                   .order_by(ErasureRequest.proceeds_at, ErasureRequest.id)))


def studies_under_way(user: User) -> list[Application]:
    """The teacher's enrolled applications: erasure leaves them enrolled, but no certificate
    can be issued without a profile, so the request page warns about them."""
    return list(db.session.scalars(select(Application).where(
        Application.teacher_id == user.id, Application.status == ApplicationStatus.ENROLLED)))


def request_erasure(user: User, *, password: str) -> ErasureRequest:
    """The teacher asks, confirming with their password; the caller commits."""
    from flask_babel import lazy_gettext as _l

    if user.role != Role.TEACHER:
        raise ErasureRefused(_l("Only a teacher's data can be erased here."))
    if not check_password(user.password_hash, password):
        raise ErasureRefused(_l("The password is not right."))
    existing = pending_request(user.id)
    if existing is not None:
        return existing
    now = clock.now()
    days = current_app.config["ERASURE_PROCEEDS_AFTER_DAYS"]
    request = ErasureRequest(user_id=user.id, requested_at=now,
                             proceeds_at=now + timedelta(days=days))
    db.session.add(request)
    db.session.flush()
    audit.record(REQUESTED, actor=user, teacher=user, target=request, days=days)
    # the day it proceeds, as a day of the teacher's own zone
    day = request.proceeds_at.astimezone(ZoneInfo(user_zone_name(user))).date()
    queue_email(user.email, "erasure_requested", locale=user.locale, kind="erasure_requested",
                days=days, day=day, link=external_url("privacy.erasure_page"))
    return request


def cancel(request: ErasureRequest, *, actor: User) -> bool:
    """The teacher changes their mind before it runs; False when it is no longer waiting."""
    if request.status is not ErasureStatus.REQUESTED:
        return False
    request.status = ErasureStatus.CANCELLED
    request.cancelled_at = clock.now()
    audit.record(CANCELLED, actor=actor, teacher=request.user_id, target=request)
    return True


def confirm(request: ErasureRequest, *, actor: User) -> bool:
    """A coordinator confirms: the erasure runs now. False when it is no longer waiting."""
    if request.status is not ErasureStatus.REQUESTED:
        return False
    request.confirmed_by_id = actor.id
    request.confirmed_at = clock.now()
    audit.record(CONFIRMED, actor=actor, teacher=request.user_id, target=request)
    erase(request)
    return True


def erase_due() -> str:
    """The timed step: run the requests whose day has come and no coordinator confirmed."""
    now = clock.now()
    ids = list(db.session.scalars(select(ErasureRequest.id).where(
        ErasureRequest.status == ErasureStatus.REQUESTED, ErasureRequest.proceeds_at <= now)))
    done = failed = 0
    for request_id in ids:
        request = db.session.get_one(ErasureRequest, request_id)
        db.session.refresh(request, with_for_update=True)
        if request.status is not ErasureStatus.REQUESTED:
            db.session.rollback()
            continue
        try:
            erase(request)
            db.session.commit()
            done += 1
        except Exception:  # one teacher's failure must not stop the others'; tried again later
            db.session.rollback()
            log.exception("the erasure request %s failed; it stays waiting", request_id)
            failed += 1
    return f"{done} erased" + (f", {failed} failed" if failed else "")


# -- the erasure itself ----------------------------------------------------------------------

def personal_strings(user: User) -> list[str]:
    """What identifies the teacher in free text: names in every script, address, numbers."""
    found = {user.email, user.display_name}
    profile = user.profile
    if profile is not None:
        found |= {
            profile.name_zh, profile.name_latin, profile.name_ru, profile.phone,
            profile.wechat_id, profile.snils,
            f"{profile.given_name_latin} {profile.family_name_latin}",
            f"{profile.family_name_latin} {profile.given_name_latin}",
        }
    # a piece shorter than 3 characters (a one-character family name) would redact other text
    return sorted((s for s in found if s and len(s.strip()) >= 3), key=len, reverse=True)


def redact(value: Any, pattern: re.Pattern | None) -> Any:
    """value with every personal string replaced, walking lists and dicts (JSON details)."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: redact(item, pattern) for key, item in value.items()}
    return value


def _pattern(strings: list[str]) -> re.Pattern | None:
    if not strings:
        return None
    return re.compile("|".join(re.escape(s) for s in strings), re.IGNORECASE)


def _redact_column(model, column, pattern, *conditions) -> None:
    for item in db.session.scalars(select(model).where(*conditions)):
        value = getattr(item, column)
        changed = redact(value, pattern)
        if changed != value:
            setattr(item, column, changed)


def erase(request: ErasureRequest) -> None:
    """Erase the teacher's data as the module's docstring says; the caller commits."""
    user = db.session.get_one(User, request.user_id)  # the request's foreign key
    strings = personal_strings(user)
    pattern = _pattern(strings)
    old_email, old_locale = user.email, user.locale
    counts = {"documents": 0, "drafts": 0, "withdrawn": 0, "kept_certificates": 0}

    applications = list(db.session.scalars(
        select(Application).where(Application.teacher_id == user.id).order_by(Application.id)))
    certified = set(db.session.scalars(select(Certificate.application_id).where(
        Certificate.application_id.in_([a.id for a in applications]))))
    for application in applications:
        for document in list(application.documents):
            if documents.delete_stored(document.id, application.id, document.stored_name):
                counts["documents"] += 1
        db.session.expire(application, ["documents"])
        if application.status in WITHDRAWABLE:
            services.transition(application, ApplicationStatus.WITHDRAWN, user)
            counts["withdrawn"] += 1
        if application.status is ApplicationStatus.DRAFT and application.id not in certified:
            db.session.delete(application)
            counts["drafts"] += 1
            continue
        application.motivation = ""
        application.funding_other = ""
        application.reason = redact(application.reason, pattern)
        for event in application.events:
            event.reason = redact(event.reason, pattern)
    db.session.flush()
    counts["kept_certificates"] = len(certified)
    ids = [a.id for a in applications]
    if ids:
        _redact_column(ResultChange, "reason", pattern, ResultChange.application_id.in_(ids))

    # copies of their data: files now, rows marked expired
    for copy in db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)):
        path = exports.path_of(copy)
        if path is not None:
            path.unlink(missing_ok=True)
        copy.file_name = ""
        if copy.status in (ExportStatus.READY, ExportStatus.PENDING, ExportStatus.BUILDING):
            copy.status = ExportStatus.EXPIRED

    # emails to them go; the others keep their text without the teacher in it
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == old_email))
    if pattern is not None:
        for message in db.session.scalars(select(OutboxMessage).where(or_(
                *[OutboxMessage.body_text.contains(s) for s in strings],
                *[OutboxMessage.subject.contains(s) for s in strings]))):
            message.subject = redact(message.subject, pattern)
            message.body_text = redact(message.body_text, pattern)
        _redact_column(IssueBatch, "problems", pattern)
    _redact_column(AuditEvent, "details", pattern,
                   or_(AuditEvent.teacher_id == user.id, AuditEvent.actor_id == user.id))
    for audit_event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user.id)):
        audit_event.ip = ""

    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SentReminder).where(SentReminder.recipient_id == user.id))
    db.session.execute(delete(TeacherProfile).where(TeacherProfile.user_id == user.id))
    db.session.expire(user, ["profile"])

    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.password_hash = "!" + secrets.token_hex(16)  # matches no password
    user.display_name = ""
    user.is_enabled = False
    user.end_all_sessions()
    user.calendar_token = None
    user.wants_reminders = False
    user.last_login_at = None
    user.timezone = ""
    user.totp_secret = None
    user.totp_enabled_at = None

    now = clock.now()
    request.status = ErasureStatus.DONE
    request.done_at = now
    audit.record(DONE, actor=request.confirmed_by_id, teacher=user, target=request, **counts)
    queue_email(old_email, "erasure_done", locale=old_locale, kind=DONE_EMAIL,
                kept=counts["kept_certificates"])
    db.session.flush()
    log.info("erased the data of user %s: %s", user.id, counts)
