"""Seats of an intake and of partner quotas: taken and freed only by atomic conditional UPDATEs.

The UPDATE ... WHERE seats_taken < capacity both checks and takes the seat in one statement.
PostgreSQL row-locks the intake until the transaction ends, so concurrent approvals queue on
that row; SQLite takes its database-wide write lock at the same statement (the busy timeout
in config.py makes other threads wait for it). Every status change locks the intake row
first, then the quota row, then the application row, so two transactions never wait for each
other in opposite orders.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from course_portal.catalog.models import Intake
from course_portal.db import execute_dml
from course_portal.enrollment.errors import NoSeatLeft
from course_portal.enrollment.models import Application, IntakeQuota
from course_portal.extensions import db

log = logging.getLogger(__name__)


def partner_id_of(application: Application) -> int | None:
    """The partner university of the application's teacher, or None."""
    profile = application.teacher.profile
    return profile.partner_university_id if profile is not None else None


def quota_for(intake_id: int, partner_id: int | None) -> IntakeQuota | None:
    """The intake's quota row for that partner university, if the intake has one."""
    if partner_id is None:
        return None
    return db.session.scalar(
        select(IntakeQuota).where(
            IntakeQuota.intake_id == intake_id, IntakeQuota.partner_university_id == partner_id
        )
    )


def _bump_intake(intake_id: int, delta: int) -> bool:
    """Add delta (+1 or -1) to the intake's seats_taken if it stays in range; True if done."""
    guard = Intake.seats_taken < Intake.capacity if delta > 0 else Intake.seats_taken > 0
    result = execute_dml(
        update(Intake)
        .where(Intake.id == intake_id, guard)
        .values(seats_taken=Intake.seats_taken + delta)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _bump_quota(intake_id: int, partner_id: int | None, delta: int) -> bool:
    """The same on the partner's quota row; False when it is full or there is none."""
    if partner_id is None:
        return False
    guard = IntakeQuota.seats_taken < IntakeQuota.seats if delta > 0 else IntakeQuota.seats_taken > 0
    result = execute_dml(
        update(IntakeQuota)
        .where(
            IntakeQuota.intake_id == intake_id,
            IntakeQuota.partner_university_id == partner_id,
            guard,
        )
        .values(seats_taken=IntakeQuota.seats_taken + delta)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _expire_counters(intake_id: int) -> None:
    """Make loaded intakes and quotas read their counters again after a raw UPDATE."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Intake) and obj.id == intake_id:
            db.session.expire(obj, ["seats_taken"])
        elif isinstance(obj, IntakeQuota) and obj.intake_id == intake_id:
            db.session.expire(obj, ["seats_taken"])


def lock_intake(intake_id: int) -> None:
    """Queue behind other status changes of the same intake (PostgreSQL; SQLite serialises all).

    Taken first by every transition, so that a transaction holding an application row never
    waits for the intake row while another holds the intake and waits for that application.
    """
    # FOR NO KEY UPDATE: queues behind other transitions like FOR UPDATE would, but not behind
    # the key-share lock that inserting an application (a foreign key to the intake) takes, so
    # two teachers creating and submitting applications to one intake at once cannot deadlock
    db.session.execute(
        select(Intake.id).where(Intake.id == intake_id).with_for_update(key_share=True))


def take_seat(application: Application) -> None:
    """Take one seat of the intake and of the teacher's partner quota, or raise NoSeatLeft.

    Nothing is changed when it raises.
    """
    intake_id = application.intake_id
    partner_id = partner_id_of(application)
    try:
        if not _bump_intake(intake_id, +1):
            raise NoSeatLeft(
                _l("Every seat of this intake is taken. Put the application on the waiting "
                   "list, or free a seat first.")
            )
        if not _bump_quota(intake_id, partner_id, +1) and quota_for(intake_id, partner_id):
            _bump_intake(intake_id, -1)  # we hold the row: giving it back cannot fail
            raise NoSeatLeft(
                _l("The seats reserved for this teacher's university in this intake are all "
                   "taken. Put the application on the waiting list, or free one of them first."),
                quota=True,
            )
    finally:
        _expire_counters(intake_id)


def free_seat(application: Application) -> None:
    """Give back the application's seat in the intake and in its partner quota."""
    intake_id = application.intake_id
    partner_id = partner_id_of(application)
    if not _bump_intake(intake_id, -1):
        log.warning("intake %s had no seat taken to free for application %s",
                    intake_id, application.id)
    _bump_quota(intake_id, partner_id, -1)
    _expire_counters(intake_id)


def undo_seat_change(application: Application, delta: int) -> None:
    """Reverse take_seat (delta +1) or free_seat (delta -1) in the same transaction."""
    if delta > 0:
        free_seat(application)
    elif delta < 0:
        intake_id = application.intake_id
        _bump_intake(intake_id, +1)
        _bump_quota(intake_id, partner_id_of(application), +1)
        _expire_counters(intake_id)
