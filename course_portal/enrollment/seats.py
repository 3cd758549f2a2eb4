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
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from course_portal.accounts.models import TeacherProfile, User
from course_portal.catalog.models import Intake, PartnerUniversity
from course_portal.core.audit import record
from course_portal.db import execute_dml
from course_portal.enrollment.errors import NoSeatLeft, SeatsTaken
from course_portal.enrollment.models import SEAT_HOLDING, Application, IntakeQuota
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


# --- capacity and quotas: changed by a coordinator, never below the seats taken ----------


def quotas_of(intake: Intake) -> dict[int, IntakeQuota]:
    """The intake's quotas by partner university id."""
    rows = db.session.scalars(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    return {quota.partner_university_id: quota for quota in rows}


def quotas_by_intake(intakes: list[Intake]) -> dict[int, list[IntakeQuota]]:
    """The quotas of several intakes in one query, with their partner universities."""
    found: dict[int, list[IntakeQuota]] = {intake.id: [] for intake in intakes}
    if not found:
        return found
    rows = db.session.scalars(
        select(IntakeQuota)
        .where(IntakeQuota.intake_id.in_(found))
        .options(selectinload(IntakeQuota.partner_university))
    )
    for quota in rows:
        found[quota.intake_id].append(quota)
    for quotas in found.values():
        quotas.sort(key=lambda q: q.partner_university.name_en)
    return found


def capacity_message(seats_taken: int):
    return _l(
        "%(num)d seats are already taken: the capacity cannot be lower. Withdraw or reject "
        "approved applications first.", num=seats_taken)


def quota_message(seats_taken: int):
    return _l("%(num)d of these seats are already taken: the quota cannot be lower.",
              num=seats_taken)


def seats_now(intake: Intake) -> tuple[int, dict[int, int]]:
    """The capacity and each quota's seats, to tell afterwards whether seats were freed."""
    return intake.capacity, {partner_id: quota.seats
                             for partner_id, quota in quotas_of(intake).items()}


def seats_grew(before: tuple[int, dict[int, int]], capacity: int, quotas: dict) -> bool:
    """True when the capacity rose, or a quota rose or was removed (its ceiling lifted)."""
    capacity_before, quotas_before = before
    return capacity > capacity_before or any(
        partner_id in quotas_before and (seats is None or seats > quotas_before[partner_id])
        for partner_id, seats in quotas.items()
    )


def resize(intake: Intake, capacity: int) -> None:
    """Set the capacity, never below the seats taken: a conditional UPDATE, the intake's first
    write, which takes its row lock as every approval does first. SeatsTaken when lower."""
    resized = execute_dml(
        update(Intake)
        .where(Intake.id == intake.id, Intake.seats_taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(intake, ["capacity", "seats_taken"])
    if resized.rowcount != 1:
        raise SeatsTaken(capacity_message(intake.seats_taken), field="capacity")


def _holders_by_partner(intake: Intake) -> dict[int, int]:
    """How many approved or enrolled teachers of each partner university the intake has."""
    rows = db.session.execute(
        select(TeacherProfile.partner_university_id, func.count(Application.id))
        .join(TeacherProfile, TeacherProfile.user_id == Application.teacher_id)
        .where(Application.intake_id == intake.id, Application.status.in_(SEAT_HOLDING))
        .group_by(TeacherProfile.partner_university_id)
    )
    return {partner_id: count for partner_id, count in rows if partner_id is not None}


def apply_quotas(intake: Intake, quotas: dict, actor: User) -> None:
    """Insert, change or delete the intake's quota rows, each audited; called with the intake
    row locked. A quota below its seats taken is SeatsTaken."""
    current = quotas_of(intake)
    holders: dict[int, int] | None = None
    for partner_id, seats in sorted(quotas.items()):
        quota = current.get(partner_id)
        if seats != (quota.seats if quota is not None else None):
            record("quota.changed", actor=actor, target=intake, intake=intake.title,
                   partner=db.session.get_one(PartnerUniversity, partner_id).name_en,
                   old=quota.seats if quota is not None else None, new=seats)
        if seats is None:
            if quota is not None:
                db.session.delete(quota)
        elif quota is None:
            # a new quota counts the partner's teachers who already hold a seat
            if holders is None:
                holders = _holders_by_partner(intake)
            taken = holders.get(partner_id, 0)
            if seats < taken:
                raise SeatsTaken(quota_message(taken), field=f"quotas.{partner_id}")
            db.session.add(IntakeQuota(intake_id=intake.id, partner_university_id=partner_id,
                                       seats=seats, seats_taken=taken))
        elif seats != quota.seats:
            changed = execute_dml(
                update(IntakeQuota)
                .where(IntakeQuota.id == quota.id, IntakeQuota.seats_taken <= seats)
                .values(seats=seats)
                .execution_options(synchronize_session=False)
            )
            db.session.expire(quota, ["seats", "seats_taken"])
            if changed.rowcount != 1:
                raise SeatsTaken(quota_message(quota.seats_taken), field=f"quotas.{partner_id}")
    db.session.flush()
