"""Issuing, revoking and re-issuing certificates: the one door for a certificate's status.

issue_certificate() works in two short transactions, so that the registry counter's row is
locked for milliseconds rather than through the ~200 ms render (two workers issuing for one
programme would otherwise take turns):

1. the number, the frozen snapshot and the certificate's row, its audit entry and email, then
   a commit. Every check comes before it (eligibility, an existing certificate, characters no
   font covers), and a refusal raises before anything is written; the caller rolls back.
2. the PDF rendered from the snapshot, signed when a key is configured, and stored in the row
   by certificates.pdfs.complete_pdf(); the caller commits.

A process that dies between the two leaves a certificate whose PDF is still to make
(pdf_size 0), never a gap or a duplicate number: the timed step certificates.finish_pdfs
finishes it from its snapshot, and so does the first download that asks for it.

What the checks and the snapshot read besides the application (its verdict, the intake's
refusals, the signatories, the seal) comes in an IssueContext: a batch reads one for a slice
of applications at once, the issue button one for its application.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import Role, User
from course_portal.catalog.models import Intake, StudyForm
from course_portal.certificates import issuer, registry, requirements
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.certificates.pdf import (
    CertificateError,
    UnrenderableText,
    check_renderable,
)
from course_portal.certificates.requirements import IssueContext, context_for
from course_portal.certificates.snapshot import (
    CURRENT_LAYOUT,
    CertificateSnapshot,
    SignatoryLine,
    SnapshotProblem,
)
from course_portal.core import audit
from course_portal.core.clock import portal_today
from course_portal.core.names import greeting_name
from course_portal.core.outbox import queue_email
from course_portal.db import execute_dml, utcnow
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db

if TYPE_CHECKING:  # the type only: progress is read late (see eligibility())
    from course_portal.progress.services import Eligibility

log = logging.getLogger(__name__)

C = CertificateStatus
#: the only moves; issuing creates a certificate as issued
ALLOWED_MOVES = {
    C.ISSUED: frozenset({C.REVOKED, C.SUPERSEDED}),
    C.REVOKED: frozenset(),
    C.SUPERSEDED: frozenset(),
}
#: applications whose teacher may be certified (eligibility decides the rest)
CERTIFIABLE = frozenset(
    s for s in (ApplicationStatus.ENROLLED, getattr(ApplicationStatus, "COMPLETED", None)) if s
)
REASON_MAX_LENGTH = 2000
#: the public verification page, relative to BASE_URL
VERIFY_PATH = "/verify/{code}"

STATUS_LABELS = {
    C.ISSUED: _l("valid"),
    C.REVOKED: _l("revoked"),
    C.SUPERSEDED: _l("superseded"),
}


class CertificateRefused(Exception):  # noqa: N818 (reads as the event it reports)
    """A rule said no; messages say why, for the coordinator, and field names the form field."""

    def __init__(self, *messages: Any, field: str | None = None) -> None:
        self.messages = list(messages)
        self.field = field
        super().__init__(self.text())

    @property
    def message(self) -> Any:
        """The first message, for a flash."""
        return self.messages[0] if self.messages else ""

    def text(self) -> str:
        """Every message on one line, for the command line and logs."""
        return " ".join(str(m) for m in self.messages)

    def __str__(self) -> str:
        return self.text()


def status_label(status: CertificateStatus | str) -> Any:
    """The status as a word in the reader's language."""
    return STATUS_LABELS.get(CertificateStatus(status), str(status))


def verify_url(code: str) -> str:
    """The absolute public verification URL for a code, from BASE_URL."""
    return current_app.config["BASE_URL"].rstrip("/") + VERIFY_PATH.format(code=code)


def new_verification_code() -> str:
    """An unguessable code: 24 random bytes (192 bits), URL-safe, starting with a letter or digit.

    A code starting with "-" would be read as a formula by spreadsheets, so the registry export
    would have to prefix it with a quote and the exported code would no longer match.
    """
    while True:
        code = secrets.token_urlsafe(24)
        if code[0].isalnum():
            return code


def valid_certificate(application: Application) -> Certificate | None:
    """The application's certificate that is issued (not revoked or superseded), if any."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.application_id == application.id, Certificate.status == C.ISSUED
        )
    )


def certificates_of(application: Application) -> list[Certificate]:
    """Every certificate of the application, newest first."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.application_id == application.id)
        .order_by(Certificate.id.desc())
    ))


# --- eligibility and the snapshot -----------------------------------------------------------


def eligibility(application: Application) -> Eligibility:
    """course_portal.progress' verdict on the application (imported late: a separate feature)."""
    from course_portal.progress.services import eligibility as progress_eligibility

    return progress_eligibility(application)


def refusal_reasons(application: Application, verdict: Eligibility | None = None, *,
                    teacher_only: bool = False,
                    intake_problems: list | None = None) -> list:
    """Why the application's teacher cannot be certified now; empty when they can.

    teacher_only leaves out what holds for the whole intake (the training is not over, a
    signatory is missing), which the intake's page says once: intake_refusals(), or
    intake_problems when the caller has read them already.
    """
    if application.status not in CERTIFIABLE:
        return [_l("Only enrolled teachers who completed the program receive certificates.")]
    verdict = verdict if verdict is not None else eligibility(application)
    if not verdict.eligible:
        return list(verdict.reasons) or [_l("The completion rules are not met.")]
    reasons = requirements.profile_gap_message(application.teacher.profile)
    if not teacher_only:
        if intake_problems is None:
            intake_problems = intake_refusals(application.intake)
        reasons = intake_problems + reasons
    return reasons


def intake_refusals(intake: Intake) -> list:
    """Why none of the intake's certificates can be issued today: too early, a signatory missing."""
    return requirements.too_early(intake, portal_today()) + issuer.gaps(intake.program)


def build_snapshot(application: Application, number: str, verdict: Eligibility | None = None,
                   context: IssueContext | None = None
                   ) -> tuple[CertificateSnapshot, dict[str, bytes]]:
    """Everything the certificate will state, from the application and the signatories as they
    are now (or as context read them), and the images (signatures, seal) it prints, by
    SHA-256."""
    profile = application.teacher.profile
    if profile is None:
        raise CertificateRefused(_l("The teacher has no profile: no name to print."))
    intake = application.intake
    program = intake.program
    institute = program.institute
    partner = profile.partner_university
    context = context_for(application, context)
    organisation = context.organisation
    verdict = verdict if verdict is not None else context.verdicts[application.id]
    try:
        return CertificateSnapshot(
            registry_number=number,
            name_zh=unicodedata.normalize("NFC", profile.name_zh),
            name_latin=unicodedata.normalize("NFC", profile.name_latin),
            name_ru=profile.name_ru or "",
            partner_university_en=partner.name_en if partner else "",
            partner_university_zh=partner.name_zh if partner else "",
            partner_university_ru=partner.name_ru if partner else "",
            program_title_ru=program.title_ru or program.title_en,
            program_title_en=program.title_en,
            program_title_zh=program.title_zh or program.title_en,
            institute_name_ru=institute.name_ru or institute.name_en,
            institute_name_en=institute.name_en,
            institute_name_zh=institute.name_zh or institute.name_en,
            # the programme's volume, one number for all its certificates; the hours a teacher
            # was credited decide eligibility only
            hours=program.total_hours,
            starts_on=intake.starts_on,
            ends_on=intake.ends_on,
            result=verdict.result,
            issued_on=portal_today(),
            university_name_ru=organisation["full_name_ru"],
            university_name_en=organisation["full_name_en"],
            university_name_zh=organisation["full_name_zh"],
            city_ru=organisation["city_ru"],
            city_en=organisation["city_en"],
            city_zh=organisation["city_zh"],
            layout_version=CURRENT_LAYOUT,
            # str(): a StrEnum or, on a row not yet reloaded, the plain value
            study_form=str(intake.study_form or StudyForm.FULL_TIME),
            delivery=str(intake.delivery or program.mode),
            signatories=tuple(SignatoryLine(**line) for line in context.lines),
            seal_sha256=context.seal_sha256,
        ), dict(context.images)
    except SnapshotProblem as exc:
        log.error("application %s: the certificate cannot be made: %s", application.id, exc)
        raise CertificateRefused(SNAPSHOT_PROBLEMS.get(exc.field, SNAPSHOT_PROBLEM)) from exc
    except ValueError as exc:
        log.exception("application %s: the certificate cannot be made", application.id)
        raise CertificateRefused(SNAPSHOT_PROBLEM) from exc


#: why build_snapshot refuses, by the snapshot's field that could not be stated (the
#: snapshot's own ValueError is English for the log)
SNAPSHOT_PROBLEMS = {
    "hours": _l("The program has no academic hours to print: give its modules their hours, "
                "then issue again."),
    "ends_on": _l("The intake ends before it starts: correct its dates, then issue again."),
    "name_zh": _l("The teacher's name in Chinese characters is empty: it is printed on the "
                  "certificate."),
    "name_latin": _l("The teacher's name in Latin letters is empty: it is printed on the "
                     "certificate."),
    "name_ru": _l("The teacher's name in Cyrillic is empty: set it, then issue again."),
}
SNAPSHOT_PROBLEM = _l("The certificate cannot be made: a value it prints is missing or wrong. "
                      "The log says which.")


# --- the one door ---------------------------------------------------------------------------


def _check_staff(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.COORDINATOR):
        raise CertificateRefused(_l("Only a course coordinator can issue or revoke certificates."))


def _clean_reason(reason: str, what: object) -> str:
    reason = " ".join((reason or "").replace("\r", "").split("\n")).strip()
    reason = "".join(ch for ch in reason if unicodedata.category(ch) not in ("Cc", "Cs"))
    if not reason:
        raise CertificateRefused(what, field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise CertificateRefused(_l("Shorten this to %(max)s characters.", max=REASON_MAX_LENGTH),
                                 field="reason")
    return reason


def _move(certificate: Certificate, to: CertificateStatus, **values: Any) -> None:
    """Change the status with a compare-and-set UPDATE; CertificateRefused if it moved meanwhile."""
    if to not in ALLOWED_MOVES[certificate.status]:
        raise CertificateRefused(
            _l("A certificate that is %(now)s cannot become %(target)s.",
               now=status_label(certificate.status), target=status_label(to)))
    result = execute_dml(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status == certificate.status)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CertificateRefused(
            _l("Someone else changed this certificate meanwhile. Reload the page and try again."))
    db.session.expire(certificate)


def issue_certificate(application: Application, actor: User | None, *,
                      replaces: Certificate | None = None, reason: str = "",
                      context: IssueContext | None = None) -> Certificate:
    """Issue the application's certificate: number, snapshot, row and email (committed here),
    then the PDF (the caller commits; see the module).

    actor None is the portal (the command line without --as). Raises CertificateRefused (not
    eligible, already certified, characters no font prints) before anything is written; the
    caller rolls back. A PDF that cannot be made leaves the certificate issued with its PDF
    still to make (certificate.pdf_size 0), which the caller tells the coordinator. context
    is what a batch read for this application among others (issue_context); without it, it
    is read now.
    """
    from course_portal.certificates.pdfs import complete_pdf

    _check_staff(actor)
    context = context_for(application, context)
    verdict = context.verdicts[application.id]
    problems = refusal_reasons(application, verdict, intake_problems=context.intake_problems)
    if problems:
        raise CertificateRefused(*problems)
    held = context.holders.get(application.id)
    if held is not None and (replaces is None or held[0] != replaces.id):
        raise CertificateRefused(
            _l("This teacher already holds certificate %(number)s. Re-issue it to correct it.",
               number=held[1]))
    program = application.intake.program
    year = portal_today().year
    code = new_verification_code()
    # every check that needs no number first: a refusal here has taken nothing
    draft, images = build_snapshot(application, registry.registry_number(program.code, year, 9999),
                                   verdict, context)
    try:
        check_renderable(draft, verify_url(code))
    except UnrenderableText as exc:
        raise CertificateRefused(exc.message) from exc
    # and what needs none is made now, so that the counter's row is held for the writes only
    frozen = draft.to_dict()
    profile = application.teacher.profile
    assert profile is not None  # build_snapshot() refuses a teacher without one
    register = requirements.register_data(profile, str(application.funding_source or ""))

    sequence = registry.next_sequence(program.id, year)
    # the counter row is locked now, so a certificate committed meanwhile by another
    # coordinator is visible (the partial unique index is the last guard)
    current = db.session.execute(
        select(Certificate.id, Certificate.registry_number)
        .where(Certificate.application_id == application.id, Certificate.status == C.ISSUED)
    ).first()
    if current is not None and (replaces is None or current.id != replaces.id):
        raise CertificateRefused(
            _l("This teacher received certificate %(number)s a moment ago; reload the page.",
               number=current.registry_number))
    number = registry.registry_number(program.code, year, sequence)
    # the draft with its number: to_dict() writes each field as it is, the number included
    frozen["registry_number"] = number
    if replaces is not None:
        _move(replaces, C.SUPERSEDED, superseded_at=utcnow())
    certificate = Certificate(
        registry_number=number, program_id=program.id, year=year, sequence=sequence,
        verification_code=code, application_id=application.id, status=C.ISSUED,
        snapshot=frozen,
        # the PDF comes in the second transaction (complete_pdf)
        pdf=b"", pdf_sha256="", pdf_size=0, is_signed=False,
        register_data=register,
        issued_at=utcnow(),
        issued_by_id=actor.id if actor is not None else None,
        replaces_id=replaces.id if replaces is not None else None,
        reissue_reason=reason,
    )
    db.session.add(certificate)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # the partial unique index: another coordinator's certificate committed meanwhile
        raise CertificateRefused(
            _l("This teacher received a certificate a moment ago; reload the page.")) from exc
    log.info("certificate %s issued for application %s by %s", number, application.id,
             actor.id if actor else "the portal")
    if replaces is None:
        audit.record("certificate.issued", actor=actor, teacher=application.teacher_id,
                     target=certificate, number=number, application=application.id)
    else:
        audit.record("certificate.reissued", actor=actor, teacher=application.teacher_id,
                     target=certificate, number=number, application=application.id,
                     replaces=replaces.registry_number, reason=reason)
    notify(certificate, "reissued" if replaces is not None else "issued")
    # the end of the first transaction: the counter's row is free for the next certificate
    db.session.commit()
    complete_pdf(certificate, images)
    return certificate


def revoke(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Revoke a valid certificate with a reason shown to anyone who verifies it."""
    _check_staff(actor)
    reason = _clean_reason(reason, _l("Give the reason for the revocation; it is shown publicly."))
    _move(certificate, C.REVOKED, revoked_at=utcnow(), revoked_reason=reason,
          revoked_by_id=actor.id if actor is not None else None)
    log.info("certificate %s revoked by %s", certificate.registry_number,
             actor.id if actor else "the portal")
    audit.record("certificate.revoked", actor=actor, teacher=certificate.application.teacher_id,
                 target=certificate, number=certificate.registry_number,
                 application=certificate.application_id, reason=reason)
    notify(certificate, "revoked")
    return certificate


def reissue(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """A corrected certificate that names this one and why; this one becomes superseded."""
    _check_staff(actor)
    reason = _clean_reason(reason, _l("Say what the re-issue corrects; it is shown publicly."))
    if certificate.status != C.ISSUED:
        raise CertificateRefused(
            _l("Only a valid certificate can be re-issued; this one is %(status)s.",
               status=status_label(certificate.status)))
    return issue_certificate(certificate.application, actor, replaces=certificate, reason=reason)


def record_registry_export(actor: User | None, fmt: str, program_id: int | None = None) -> None:
    """The registry left the portal as a file: who took it, in which format; the caller commits."""
    audit.record("registry.exported", actor=actor, format=fmt, program=program_id)


# --- emails ---------------------------------------------------------------------------------


def notify(certificate: Certificate, event: str) -> None:
    """Queue templates/email/certificate_<event>.txt to the teacher, in the teacher's language."""
    teacher = certificate.application.teacher
    config = current_app.config
    locale = teacher.locale if teacher.locale in config["LANGUAGES"] else config[
        "BABEL_DEFAULT_LOCALE"]
    program = certificate.program
    base = config["BASE_URL"].rstrip("/")
    queue_email(
        teacher.email,
        f"certificate_{event}",
        locale=locale,
        kind=f"certificate.{event}",
        teacher_name=greeting_name(teacher, locale),
        program_title=program.t("title", locale),
        certificate=certificate,
        replaces=certificate.replaces,
        verify_link=verify_url(certificate.verification_code),
        link=base + "/certificates",
    )


def _uncertified(intake: Intake) -> list[Application]:
    """The intake's certifiable applications without a valid certificate, teachers loaded."""
    holders = select(Certificate.application_id).where(Certificate.status == C.ISSUED)
    return list(db.session.scalars(
        select(Application).where(Application.intake_id == intake.id,
                                  Application.status.in_(list(CERTIFIABLE)),
                                  Application.id.not_in(holders)).order_by(Application.id)
        .options(selectinload(Application.teacher).selectinload(User.profile))
    ))


def issuable(intake: Intake) -> list[Application]:
    """The intake's applications that can be certified now and hold no valid certificate."""
    from course_portal.progress.services import eligibilities

    if intake_refusals(intake):
        return []
    candidates = _uncertified(intake)
    verdicts = eligibilities(intake, candidates)
    return [a for a in candidates if verdicts[a.id].eligible
            and not requirements.profile_gaps(a.teacher.profile)]


def certificate_error_text(error: Exception) -> str:
    """A refusal or rendering error as one line for the coordinator."""
    if isinstance(error, CertificateRefused):
        return error.text()
    if isinstance(error, CertificateError):  # UnrenderableText among them
        return str(error.message)
    return str(error)


def ask_for_profile_data(intake: Intake, actor: User | None) -> int:
    """Email each certifiable teacher of the intake whose profile lacks what a certificate
    needs, in their language, listing what to add; returns how many were asked."""
    from course_portal.progress.services import eligibilities

    candidates = _uncertified(intake)
    verdicts = eligibilities(intake, candidates)
    config = current_app.config
    asked = 0
    for application in candidates:
        missing = requirements.profile_gaps(application.teacher.profile)
        if not missing or not verdicts[application.id].eligible:
            continue
        teacher = application.teacher
        locale = teacher.locale if teacher.locale in config["LANGUAGES"] else config[
            "BABEL_DEFAULT_LOCALE"]
        queue_email(
            teacher.email, "certificate_profile_needed", locale=locale,
            kind="certificate.profile_needed",
            teacher_name=greeting_name(teacher, locale),
            program_title=intake.program.t("title", locale),
            missing=[label for _, label in missing],
            link=config["BASE_URL"].rstrip("/") + "/profile/edit",
        )
        asked += 1
    audit.record("certificates.profile_data_requested", actor=actor, intake=intake.title,
                 intake_id=intake.id, teachers=asked)
    return asked
