"""Enrollment rules: submission, decisions, seats, the waiting list and the history.

transition() is the one door through which an application's status changes. Every service here
changes rows, writes the history, queues emails and flushes; the caller commits. A service that
raises an EnrollmentError has changed nothing, so the caller may go on with the same transaction
(bulk_decide does).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import attributes, selectinload

from course_portal.accounts.models import Role, TeacherProfile, User
from course_portal.catalog.models import Intake
from course_portal.core import audit
from course_portal.core.clock import portal_today
from course_portal.db import execute_dml, utcnow
from course_portal.enrollment import seats
from course_portal.enrollment.drafts import (  # noqa: F401 (API: the teacher's draft)
    DRAFT_FIELDS,
    FUNDING_OTHER_MAX_LENGTH,
    MOTIVATION_MAX_LENGTH,
    clean_input,
    save_draft,
    submission_problems,
)
from course_portal.enrollment.errors import (
    EnrollmentError,
    NoSeatLeft,
    StaleApplication,
    TransitionRefused,
)
from course_portal.enrollment.labels import status_label
from course_portal.enrollment.mail import application_url, notify_teacher  # noqa: F401 (API)
from course_portal.enrollment.models import (
    SEAT_HOLDING,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    IntakeQuota,
)
from course_portal.extensions import db

log = logging.getLogger(__name__)
S = ApplicationStatus

#: every allowed move; anything else is refused. approved -> rejected lets a coordinator
#: revoke an approval (for instance a forged diploma); it frees the seat like a withdrawal.
ALLOWED_MOVES: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.ENROLLED, S.REJECTED, S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    # the intake closes: progress.services decides which by the completion rules
    S.ENROLLED: frozenset({S.COMPLETED, S.NOT_COMPLETED}),
    S.COMPLETED: frozenset(),
    S.NOT_COMPLETED: frozenset(),
}
#: targets only the teacher who owns the application may move it to
TEACHER_TARGETS = frozenset({S.SUBMITTED, S.WITHDRAWN})
#: a coordinator's decisions, which bulk_decide accepts
DECISIONS = frozenset({S.APPROVED, S.WAITLISTED, S.REJECTED})
REASON_MAX_LENGTH = 2000


def allowed_targets(application: Application) -> frozenset[ApplicationStatus]:
    """Where the application may move from its current status (for buttons on a page)."""
    return ALLOWED_MOVES[application.status]


# --- the one door -------------------------------------------------------------------------


def _check_actor(application: Application, to: ApplicationStatus, actor: User | None) -> None:
    """The teacher moves their own application to submitted or withdrawn; staff decide the rest."""
    if actor is None and to == S.WITHDRAWN and application.status == S.APPROVED:
        return  # the portal releases a seat not confirmed in time (enrollment.confirmation)
    if to in TEACHER_TARGETS:
        if actor is None or actor.id != application.teacher_id:
            raise TransitionRefused(
                _l("Only the teacher who applied can submit or withdraw this application.")
            )
    elif actor is not None and not actor.has_role(Role.COORDINATOR):
        raise TransitionRefused(_l("Only a course coordinator can decide on applications."))


def _check_guards(application: Application, to: ApplicationStatus, reason: str) -> None:
    """The rules of the target status: a reason to reject, a complete application to submit."""
    if to == S.REJECTED and not reason:
        raise EnrollmentError(_l("Give the reason for the rejection; the teacher will read it."),
                              field="reason")
    if to == S.SUBMITTED:
        problems = submission_problems(application)
        if problems:
            raise EnrollmentError(errors=problems)
    if to == S.ENROLLED and application.intake.starts_on > portal_today():
        raise TransitionRefused(
            _l("The intake starts on %(day)s; teachers are enrolled from that day.",
               day=application.intake.starts_on.isoformat())
        )


def _status_now(application: Application) -> ApplicationStatus | None:
    """The status in the database right now, past the session's copy."""
    return db.session.scalar(select(Application.status).where(Application.id == application.id))


def _stale(application: Application) -> StaleApplication:
    current = _status_now(application)
    return StaleApplication(
        _l("Someone else changed this application meanwhile (it is now %(status)s). "
           "Reload the page and decide again.", status=status_label(current))
    )


def transition(
    application: Application,
    to: ApplicationStatus | str,
    actor: User | None,
    reason: str = "",
) -> Application:
    """Move the application to `to`: check the move, seats, history row and email, or raise.

    actor None is the portal itself (promotion from the waiting list, enrollment at the start).
    Raises TransitionRefused (not allowed, not by this actor, not yet), EnrollmentError (reason
    missing, application incomplete), NoSeatLeft or StaleApplication; nothing changes then.
    """
    to = ApplicationStatus(to)
    reason = clean_input(reason, "reason", REASON_MAX_LENGTH, multiline=True)
    from_status = application.status
    if to not in ALLOWED_MOVES[from_status]:
        raise TransitionRefused(
            _l("An application that is %(now)s cannot become %(target)s.",
               now=status_label(from_status), target=status_label(to))
        )
    _check_actor(application, to, actor)
    _check_guards(application, to, reason)

    # the intake row first, then the quota row, the application row last: one lock order
    seats.lock_intake(application.intake_id)
    seat_delta = int(to in SEAT_HOLDING) - int(from_status in SEAT_HOLDING)
    if seat_delta > 0:
        try:
            seats.take_seat(application)
        except NoSeatLeft:
            if _status_now(application) != from_status:
                raise _stale(application) from None
            raise
    elif seat_delta < 0:
        seats.free_seat(application)

    now = utcnow()
    values: dict = {"status": to, "updated_at": now}
    if to == S.SUBMITTED:
        values["submitted_at"] = now
    if to in DECISIONS:
        values.update(decided_at=now, reason=reason)
    if to == S.WAITLISTED:
        values["waitlisted_at"] = now
    if to == S.APPROVED:
        # imported here: confirmation imports this module
        from course_portal.enrollment.confirmation import deadline_for

        # the last day to confirm the seat, when the intake asks for it (else None)
        values.update(confirm_by=deadline_for(application.intake), confirmed_at=None)
    # compare-and-set: of two coordinators deciding the same application, one wins
    result = execute_dml(
        update(Application)
        .where(Application.id == application.id, Application.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        seats.undo_seat_change(application, seat_delta)
        raise _stale(application)
    for name, value in values.items():
        attributes.set_committed_value(application, name, value)

    db.session.add(ApplicationEvent(
        application=application,
        actor_id=actor.id if actor is not None else None,
        from_status=from_status,
        to_status=to,
        reason=reason,
        created_at=now,
    ))
    audit.record(f"application.{to.value}", actor=actor, teacher=application.teacher_id,
                 target=application, **{"from": from_status.value, "to": to.value},
                 reason=reason)
    notify_teacher(application, from_status, to, actor, reason)
    db.session.flush()
    if seat_delta < 0:
        promote_waitlisted(application.intake)
    return application


# --- the waiting list ---------------------------------------------------------------------


def waiting_list(intake: Intake) -> list[Application]:
    """The intake's waitlisted applications in the order they will be served."""
    return list(db.session.scalars(
        select(Application)
        .where(Application.intake_id == intake.id, Application.status == S.WAITLISTED)
        .order_by(Application.waitlisted_at, Application.id)
    ))


def promote_waitlisted(intake: Intake) -> Application | None:
    """Approve the first waitlisted application whose teacher fits a free seat and quota.

    Called after a seat is freed (and usable after capacity grows); the teacher is mailed.
    """
    candidates = db.session.scalars(
        select(Application)
        .join(User, User.id == Application.teacher_id)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(IntakeQuota, and_(
            IntakeQuota.intake_id == Application.intake_id,
            IntakeQuota.partner_university_id == TeacherProfile.partner_university_id,
        ))
        .where(
            Application.intake_id == intake.id,
            Application.status == S.WAITLISTED,
            or_(IntakeQuota.id.is_(None), IntakeQuota.seats_taken < IntakeQuota.seats),
        )
        .order_by(Application.waitlisted_at, Application.id)
        .limit(20)
    ).all()
    for candidate in candidates:
        try:
            return transition(candidate, S.APPROVED, actor=None)
        except NoSeatLeft as exc:
            if not exc.quota:
                return None
        except StaleApplication:
            continue
    return None


def change_quotas(intake: Intake, quotas: dict, actor: User,
                  seats_before: tuple[int, dict[int, int]] | None) -> list[Application]:
    """Set the intake's partner quotas (its capacity already set by seats.resize) and give the
    seats a larger capacity or quota freed to the waiting list, as a withdrawal's seat goes.

    seats_before is seats.seats_now() before the change, None for a new intake. Raises
    SeatsTaken for a quota below its seats taken. Returns the promoted applications.
    """
    seats.apply_quotas(intake, quotas, actor)
    if seats_before is None or not seats.seats_grew(seats_before, intake.capacity, quotas):
        return []
    promoted = fill_free_seats(intake)
    if promoted:
        log.info("intake %s: %s promoted from the waiting list into the new seats",
                 intake.id, len(promoted))
    return promoted


def fill_free_seats(intake: Intake) -> list[Application]:
    """Promote from the waiting list until no seat is free or nobody on it fits one.

    For when seats appear without an application leaving: the capacity or a quota grew.
    Returns the promoted applications in the order they were served; each teacher is mailed.
    """
    promoted: list[Application] = []
    while intake.seats_left > 0:
        application = promote_waitlisted(intake)
        if application is None:
            break
        promoted.append(application)
    return promoted


# --- the teacher's side (drafts and what a submission needs: drafts.py) ---------------


def submit(application: Application, actor: User) -> Application:
    """Submit the teacher's draft: window open, profile complete, consent, three documents."""
    return transition(application, S.SUBMITTED, actor)


def withdraw(application: Application, actor: User) -> Application:
    """Withdraw by the teacher who applied; a held seat goes to the waiting list."""
    return transition(application, S.WITHDRAWN, actor)


# --- the coordinator's side ---------------------------------------------------------------


def approve(application: Application, actor: User | None, reason: str = "") -> Application:
    """Approve, taking a seat of the intake (and of the partner quota); NoSeatLeft when full."""
    return transition(application, S.APPROVED, actor, reason)


def waitlist(application: Application, actor: User | None, reason: str = "") -> Application:
    """Put on the waiting list; its place is the time of this call."""
    return transition(application, S.WAITLISTED, actor, reason)


def reject(application: Application, actor: User | None, reason: str) -> Application:
    """Reject with a reason the teacher reads; an approved one gives its seat to the list."""
    return transition(application, S.REJECTED, actor, reason)


@dataclass
class BulkOutcome:
    """What bulk_decide did: the ids it moved and, for the others, why not."""

    succeeded: list[int] = field(default_factory=list)
    #: application id -> the message saying why it was not moved
    failed: dict[int, object] = field(default_factory=dict)


def bulk_decide(
    application_ids: Iterable[int],
    decision: ApplicationStatus | str,
    actor: User,
    reason: str = "",
) -> BulkOutcome:
    """Approve, waitlist or reject many applications with one reason; each one on its own."""
    try:
        decision = ApplicationStatus(decision)
    except ValueError:
        pass  # not a status at all, so not one of DECISIONS either
    if decision not in DECISIONS:
        raise EnrollmentError(_l("Choose approve, waiting list or reject."), field="decision")
    if decision == S.REJECTED and not (reason or "").strip():
        raise EnrollmentError(_l("Give the reason for the rejection; the teacher will read it."),
                              field="reason")
    ids = set(application_ids)
    found = list(db.session.scalars(
        select(Application).where(Application.id.in_(ids)).options(
            selectinload(Application.teacher).selectinload(User.profile),
            selectinload(Application.documents),
        )
    ))
    outcome = BulkOutcome()
    for application_id in sorted(ids - {a.id for a in found}):
        outcome.failed[application_id] = _l("This application does not exist.")
    # intake by intake, in id order: two bulk decisions lock intakes in the same order
    for application in sorted(found, key=lambda a: (a.intake_id, a.id)):
        application_id = application.id
        try:
            transition(application, decision, actor, reason)
        except EnrollmentError as exc:
            outcome.failed[application_id] = exc.message
        else:
            outcome.succeeded.append(application_id)
    return outcome


def enroll_started(intake: Intake) -> list[Application]:
    """Enroll every approved teacher of an intake that has started; returns those enrolled.

    A seat still to confirm (enrollment.confirmation) waits: it is enrolled once confirmed, or
    released when its last day has ended.
    """
    if intake.starts_on > portal_today():
        return []
    approved = db.session.scalars(
        select(Application)
        .where(Application.intake_id == intake.id, Application.status == S.APPROVED,
               or_(Application.confirm_by.is_(None), Application.confirmed_at.is_not(None)))
        .order_by(Application.id)
    ).all()
    enrolled = []
    for application in approved:
        try:
            enrolled.append(transition(application, S.ENROLLED, actor=None))
        except StaleApplication:  # withdrawn meanwhile
            continue
    return enrolled


def intakes_to_enroll() -> list[Intake]:
    """Intakes that have started and still have approved applications, by start date."""
    return list(db.session.scalars(
        select(Intake)
        .where(
            Intake.starts_on <= portal_today(),
            select(Application.id)
            .where(Application.intake_id == Intake.id, Application.status == S.APPROVED)
            .exists(),
        )
        .order_by(Intake.starts_on, Intake.id)
    ))


def catch_up(intake: Intake) -> bool:
    """Do now what the enrolment step would have done for this intake, if it is late.

    A page that shows an intake calls this before reading it, so that on the first day the
    roster lists every approved teacher even if the timed step has not run yet; the moves are
    the step's own (transition()), so the two never enrol anyone twice. True when it changed
    something; the caller commits.
    """
    if intake.starts_on > portal_today():
        return False
    waiting = db.session.scalar(select(Application.id).where(
        Application.intake_id == intake.id, Application.status == S.APPROVED).limit(1))
    return waiting is not None and bool(enroll_started(intake))


def enroll_all_started() -> str:
    """The timed step: enrol the approved teachers of every intake that has started; commits."""
    enrolled = 0
    for intake in intakes_to_enroll():
        enrolled += len(enroll_started(intake))
        db.session.commit()
    return f"enrolled {enrolled}"
