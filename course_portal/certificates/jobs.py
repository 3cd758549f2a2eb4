"""Bulk issuing: every eligible teacher of an intake, one transaction each, progress in the database.

A worker can die in the middle of a batch (killed, out of memory, the machine restarted). Each
certificate is committed with its registry number in one transaction, so a number is used
only by a committed certificate, and at most one valid certificate exists per application.
The job writes a heartbeat with each certificate; a running batch silent for
BATCH_STALL_SECONDS is shown as stopped, and resuming it (the page's button or
`flask certificates resume-batch`) runs it again: it issues only to those still without one.

A batch reads its applications a slice at a time, with all that the checks and the
certificates read of them (SLICE), and stores each certificate's PDF and the batch's progress
in one commit: what a certificate costs beyond its render is its own few writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.models import Intake, Program
from course_portal.certificates import services
from course_portal.certificates.models import BatchStatus, Certificate, IssueBatch
from course_portal.certificates.pdf import CertificateError
from course_portal.certificates.requirements import IssueContext, issue_context
from course_portal.core.audit import record
from course_portal.core.jobs import enqueue
from course_portal.db import execute_dml, utcnow
from course_portal.enrollment.models import Application
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: the job function, by import path, for core.jobs.enqueue
RUN_BATCH = "course_portal.certificates.jobs.run_batch"


def _name(application: Application) -> str:
    profile = application.teacher.profile
    if profile is None:
        return application.teacher.email
    return f"{profile.name_zh} {profile.name_latin}".strip()


def _issue(application_id: int, application: Application | None, actor: User | None,
           context: IssueContext | None = None) -> tuple[str | None, str, bool]:
    """issue_one() without its last commit: the PDF's transaction is left to the caller."""
    # the messages are stored for the batch page: in the language of the coordinator who
    # started it
    language = actor.locale if actor is not None else "en"
    if application is None:
        with force_locale(language):
            return None, str(_l("Application %(id)s no longer exists.",
                                id=application_id)), True
    name = _name(application)
    try:
        certificate = services.issue_certificate(application, actor, context=context)
        number = certificate.registry_number
        if not certificate.pdf_size:
            with force_locale(language):
                return number, str(_l(
                    "%(name)s: certificate %(number)s is issued, but its PDF could not be made "
                    "yet; the portal tries again every few minutes.", name=name,
                    number=number)), True
    except (services.CertificateRefused, CertificateError) as exc:
        db.session.rollback()
        with force_locale(language):
            return None, _problem(name, services.certificate_error_text(exc)), True
    except Exception:
        db.session.rollback()
        log.exception("issuing for application %s failed", application_id)
        with force_locale(language):
            return None, _problem(name, UNEXPECTED), True
    return number, name, False


def issue_one(application_id: int, actor_id: int | None) -> tuple[str | None, str, bool]:
    """Issue for one application in its own transactions: (registry number or None, message,
    whether the message is a problem for the batch page: a refusal, or a certificate issued
    whose PDF could not be made yet)."""
    application = db.session.get(Application, application_id)
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    outcome = _issue(application_id, application, actor)
    _commit_pdf(application_id)
    return outcome


def _commit_pdf(application_id: int) -> bool:
    """Commit the transaction that stored a certificate's PDF (and the batch's progress);
    False when it failed: the certificate stays issued, its PDF made later (pdfs.finish_pdfs)."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("storing the PDF issued for application %s failed", application_id)
        return False
    return True


#: what a coordinator reads of a failure the portal did not foresee (the log has the rest)
UNEXPECTED = _l("an unexpected error; the log says what it was.")


def _problem(who: str, problem) -> str:
    """One line of a batch's problems: whose, and what, punctuated as the language does."""
    return str(_l("%(who)s: %(problem)s", who=who, problem=str(problem)))


#: applications read at once by a batch: their rows, teachers and profiles, the completion
#: rules and results, the signatories and the seal, so that each certificate costs its own
#: writes. An intake's batch is one slice or two (intakes take 20 to 60 teachers); each
#: slice is read afresh, so what changes during a batch is seen a slice later, within
#: seconds, as the batch's candidates were chosen when it started
SLICE = 50


def _read_slice(application_ids: list[int]) -> tuple[dict[int, Application],
                                                     dict[int, IssueContext]]:
    """The applications of these ids, with what issuing reads of them, and a context per intake."""
    db.session.expire_all()  # read afresh, though commits keep what was loaded (issue_many)
    applications = {a.id: a for a in db.session.scalars(
        select(Application).where(Application.id.in_(application_ids))
        .options(
            selectinload(Application.teacher).selectinload(User.profile)
            .selectinload(TeacherProfile.partner_university),
            selectinload(Application.intake).selectinload(Intake.program)
            .selectinload(Program.institute),
            selectinload(Application.intake).selectinload(Intake.program)
            .selectinload(Program.modules),
        ))}
    by_intake: dict[int, list[Application]] = {}
    for application in applications.values():
        by_intake.setdefault(application.intake_id, []).append(application)
    contexts = {intake_id: issue_context(members[0].intake, members)
                for intake_id, members in by_intake.items()}
    return applications, contexts


def issue_many(application_ids: Iterable[int], actor_id: int | None,
               progress: Callable[[int, str | None, str], None] | None = None) -> dict:
    """Issue for each application, committing each; progress(index, number, message) after each,
    inside the transaction that stores the certificate's PDF (committed right after it)."""
    ids = list(application_ids)
    issued, problems = [], []
    session = db.session()
    # a commit would expire every row read for the slice, and each certificate would read
    # them again; the slice is read afresh instead (_read_slice)
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        index = 0
        for start in range(0, len(ids), SLICE):
            applications, contexts = _read_slice(ids[start:start + SLICE])
            actor = db.session.get(User, actor_id) if actor_id is not None else None
            for application_id in ids[start:start + SLICE]:
                index += 1
                application = applications.get(application_id)
                context = contexts[application.intake_id] if application is not None else None
                number, message, problem = _issue(application_id, application, actor, context)
                if number:
                    issued.append(number)
                if problem:
                    problems.append({"application_id": application_id, "message": message})
                if progress is not None:
                    progress(index, number, message if problem else "")
                _commit_pdf(application_id)
    finally:
        session.expire_on_commit = expire_on_commit
    _dispatch_outbox()
    return {"issued": issued, "problems": problems}


def _dispatch_outbox() -> None:
    """Send the emails the committed transactions queued (a job has no request to do it)."""
    from course_portal.core.outbox import dispatch

    if db.session.info.pop("outbox_committed", False):
        try:
            dispatch()
        except Exception:  # the messages stay in the outbox for the next sender
            log.exception("could not start sending the outbox; messages stay queued")


def start_batch(intake: Intake, actor: User) -> IssueBatch:
    """Record a batch for the intake's issuable applications; the caller commits, then enqueues."""
    total = len(services.issuable(intake))
    batch = IssueBatch(intake_id=intake.id, requested_by_id=actor.id, total=total)
    db.session.add(batch)
    db.session.flush()
    record("certificates.batch_started", actor=actor, target=batch, intake=intake.title,
           intake_id=intake.id, total=total)
    return batch


def enqueue_batch(batch: IssueBatch):
    """Run the batch on RQ, or now when no Redis is configured (core.jobs.enqueue)."""
    return enqueue(RUN_BATCH, batch.id)


def _save_progress(batch_id: int, *, commit: bool = True, **values) -> None:
    db.session.execute(
        update(IssueBatch).where(IssueBatch.id == batch_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    if commit:
        db.session.commit()


def _claim(batch_id: int) -> bool:
    """Queued to running in one UPDATE: a batch queued twice (or resumed twice) runs once."""
    result = execute_dml(
        update(IssueBatch)
        .where(IssueBatch.id == batch_id, IssueBatch.status == BatchStatus.QUEUED)
        .values(status=BatchStatus.RUNNING, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _issued_since_start(batch: IssueBatch) -> int:
    """Certificates of the intake issued since the batch began: those of an interrupted run."""
    return db.session.execute(
        select(func.count()).select_from(Certificate)
        .join(Application, Application.id == Certificate.application_id)
        .where(Application.intake_id == batch.intake_id,
               Certificate.issued_at >= batch.created_at)
    ).scalar_one()


def run_batch(batch_id: int) -> None:
    """The job: issue for every issuable application of the batch's intake, saving progress.

    A resumed batch counts what its interrupted run issued and goes on with the rest.
    """
    if not _claim(batch_id):
        return
    batch = db.session.get_one(IssueBatch, batch_id)  # claimed just now: it exists
    ids = [a.id for a in services.issuable(batch.intake)]
    actor_id = batch.requested_by_id
    before = _issued_since_start(batch)
    _save_progress(batch_id, total=before + len(ids), processed=before, issued=before,
                   problems=[], heartbeat_at=utcnow())
    issued = processed = before
    problems: list[str] = []

    def progress(index: int, number: str | None, message: str) -> None:
        """Store how far the batch is, so the page's progress bar moves and it looks alive
        (issue_many commits it with the certificate's PDF)."""
        nonlocal issued, processed
        processed = before + index
        if number:
            issued += 1
        if message:
            problems.append(message)
        _save_progress(batch_id, commit=False, processed=processed, issued=issued,
                       problems=list(problems), heartbeat_at=utcnow())

    try:
        issue_many(ids, actor_id, progress)
    except Exception:
        db.session.rollback()
        log.exception("certificate batch %s failed", batch_id)
        mark_failed(batch_id)
        raise
    # with the counts again: a certificate whose last commit failed has none saved yet
    _save_progress(batch_id, status=BatchStatus.DONE, finished_at=utcnow(), processed=processed,
                   issued=issued, problems=list(problems))


def stall_seconds() -> int:
    """How long a running batch may be silent before it counts as stopped."""
    return int(current_app.config["BATCH_STALL_SECONDS"])


def is_stalled(batch: IssueBatch) -> bool:
    """True for a running batch whose job stopped giving signs of life."""
    return batch.is_stalled(utcnow(), stall_seconds())


def reopen_batch(batch_id: int) -> bool:
    """Put a stalled or failed batch back in the queue; False when it is neither (running,
    queued, done, or another coordinator resumed it first). The caller then enqueues it."""
    cutoff = utcnow() - timedelta(seconds=stall_seconds())
    last_sign = func.coalesce(IssueBatch.heartbeat_at, IssueBatch.created_at)
    result = execute_dml(
        update(IssueBatch)
        .where(IssueBatch.id == batch_id, or_(
            IssueBatch.status == BatchStatus.FAILED,
            and_(IssueBatch.status == BatchStatus.RUNNING, last_sign < cutoff),
        ))
        .values(status=BatchStatus.QUEUED, finished_at=None, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount == 1:
        log.warning("certificate batch %s resumed after its job stopped", batch_id)
    return result.rowcount == 1


def mark_failed(batch_id: int) -> None:
    """Record that the batch stopped (or never started), so its page stops waiting."""
    _save_progress(batch_id, status=BatchStatus.FAILED, finished_at=utcnow())


def latest_batch(intake_id: int) -> IssueBatch | None:
    """The intake's most recent batch, for its page."""
    return db.session.scalar(
        select(IssueBatch).where(IssueBatch.intake_id == intake_id)
        .order_by(IssueBatch.id.desc()).limit(1)
    )


# --- re-issuing the certificates that printed credited hours ---------------------------------

#: the job function that re-issues a list of certificates
RUN_REISSUE = "course_portal.certificates.jobs.run_reissue"
#: the reason every such re-issue gives; shown publicly, so in the three languages
CREDITED_HOURS_REASON = (
    "Указан объём программы вместо зачтённых часов слушателя · "
    "The programme's volume is printed instead of the teacher's credited hours · "
    "改为印制项目总学时，原证书印制的是个人已计学时"
)


def printed_credited_hours() -> list[Certificate]:
    """Valid certificates of layout 1, which printed the teacher's credited hours as the
    programme's volume, by registry number."""
    valid = db.session.scalars(
        select(Certificate).where(Certificate.status == services.C.ISSUED)
        .options(selectinload(Certificate.program))
        .order_by(Certificate.program_id, Certificate.year, Certificate.sequence))
    return [c for c in valid if int(c.snapshot.get("layout_version", 1)) < 2]


def start_reissue(certificate_ids: list[int], actor: User) -> None:
    """Record the request and run it (on RQ, or now without Redis); the caller commits first."""
    record("certificates.reissue_started", actor=actor, certificates=len(certificate_ids))


def run_reissue(certificate_ids: list[int], actor_id: int | None) -> dict:
    """The job: re-issue each certificate with CREDITED_HOURS_REASON, one transaction each."""
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    issued, problems = [], []
    for certificate_id in certificate_ids:
        certificate = db.session.get(Certificate, certificate_id)
        if certificate is None or not certificate.is_valid:
            continue
        old = certificate.registry_number
        try:
            new = services.reissue(certificate, actor, CREDITED_HOURS_REASON)
            issued.append(new.registry_number)
            db.session.commit()
        except (services.CertificateRefused, CertificateError) as exc:
            db.session.rollback()
            with force_locale(actor.locale if actor is not None else "en"):
                problems.append(_problem(old, services.certificate_error_text(exc)))
        except Exception:
            db.session.rollback()
            log.exception("re-issuing certificate %s failed", certificate_id)
            with force_locale(actor.locale if actor is not None else "en"):
                problems.append(_problem(old, UNEXPECTED))
    record("certificates.reissue_finished", actor=actor, issued=issued, problems=problems)
    db.session.commit()
    _dispatch_outbox()
    return {"issued": issued, "problems": problems}


def latest_reissue():
    """The last finished re-issue's audit row (its details say what was issued and refused)."""
    from course_portal.core.audit import AuditEvent

    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "certificates.reissue_finished")
        .order_by(AuditEvent.id.desc()).limit(1))
