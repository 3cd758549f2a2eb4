"""Seats: never overbooked, not even by 24 coordinators at once; the waiting list moves up."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import select

from course_portal.accounts.models import User
from course_portal.catalog import intakes as catalog_intakes
from course_portal.catalog import services as catalog
from course_portal.enrollment import services
from course_portal.enrollment.errors import NoSeatLeft
from course_portal.enrollment.models import Application, ApplicationStatus, IntakeQuota
from course_portal.extensions import db as _db
from tests import factories
from tests.enrollment.conftest import THREADS
from tests.enrollment.helpers import (
    count_status,
    history,
    outbox,
    run_at_once,
    seats_taken,
    status_in_db,
    tally,
)

S = ApplicationStatus


def test_approving_takes_a_seat_and_a_full_intake_says_so(db, program, coordinator):
    """The last seat goes; the next approval is refused and can go to the waiting list."""
    intake = factories.make_intake(program, capacity=1)
    first, second = (factories.make_application(intake=intake, status="submitted")
                     for _ in range(2))
    services.approve(first, coordinator)
    with pytest.raises(NoSeatLeft) as caught:
        services.approve(second, coordinator)
    assert not caught.value.quota
    assert status_in_db(second) == S.SUBMITTED
    services.waitlist(second, coordinator)
    assert status_in_db(second) == S.WAITLISTED
    assert seats_taken(intake) == 1


def test_a_partner_quota_caps_its_teachers(db, program, coordinator):
    """Two seats for Datong University: its third teacher waits, a teacher from elsewhere does not."""
    intake = factories.make_intake(program, capacity=10)
    datong = factories.make_partner("Datong University")
    quota = factories.make_quota(intake, datong, seats=2)
    datong_apps = [factories.make_application(teacher=factories.make_teacher(datong),
                                              intake=intake, status="submitted")
                   for _ in range(3)]
    other = factories.make_application(intake=intake, status="submitted")
    services.approve(datong_apps[0], coordinator)
    services.approve(datong_apps[1], coordinator)
    with pytest.raises(NoSeatLeft) as caught:
        services.approve(datong_apps[2], coordinator)
    assert caught.value.quota
    services.approve(other, coordinator)
    db.session.refresh(quota)
    assert quota.seats_taken == 2
    assert seats_taken(intake) == 3


def _waitlist(intake, coordinator, n, **teacher_fields):
    apps = []
    for _ in range(n):
        teacher = factories.make_teacher(**teacher_fields)
        application = factories.make_application(teacher=teacher, intake=intake,
                                                 status="submitted")
        services.waitlist(application, coordinator)
        apps.append(application)
    return apps


def test_a_withdrawal_promotes_the_first_on_the_waiting_list(db, program, coordinator):
    """The seat goes to the earliest waitlisted teacher, who is mailed; the next one still waits."""
    intake = factories.make_intake(program, capacity=1)
    holder = factories.make_application(intake=intake, status="approved")
    first, second = _waitlist(intake, coordinator, 2)

    services.withdraw(holder, holder.teacher)

    assert status_in_db(first) == S.APPROVED
    assert status_in_db(second) == S.WAITLISTED
    assert seats_taken(intake) == 1
    promotion = history(first)[-1]
    assert (promotion.from_status, promotion.to_status, promotion.actor_id) == (
        S.WAITLISTED, S.APPROVED, None)
    [mail] = outbox(to=first.teacher.email, kind="application.approved")
    assert "moved up from the waiting list" in mail.body_text
    assert outbox(to=second.teacher.email, kind="application.approved") == []


def test_rejecting_an_approved_one_promotes_the_first_waiting(db, program, coordinator):
    """Revoking an approval frees its seat for the waiting list at once."""
    intake = factories.make_intake(program, capacity=1)
    holder = factories.make_application(intake=intake, status="approved")
    [waiting] = _waitlist(intake, coordinator, 1)

    services.reject(holder, coordinator, "The diploma could not be verified.")

    assert status_in_db(holder) == S.REJECTED
    assert status_in_db(waiting) == S.APPROVED
    assert seats_taken(intake) == 1
    assert len(outbox(to=waiting.teacher.email, kind="application.approved")) == 1


def test_promotion_skips_teachers_whose_quota_is_full(db, program, coordinator):
    """The freed seat goes to the first waiting teacher who fits their university's quota."""
    intake = factories.make_intake(program, capacity=2)
    tianshui = factories.make_partner("Tianshui Normal University")
    factories.make_quota(intake, tianshui, seats=1)
    factories.make_application(teacher=factories.make_teacher(tianshui), intake=intake,
                               status="approved")
    holder = factories.make_application(intake=intake, status="approved")
    [blocked] = _waitlist(intake, coordinator, 1, partner=tianshui)
    [fits] = _waitlist(intake, coordinator, 1)

    services.withdraw(holder, holder.teacher)

    assert status_in_db(blocked) == S.WAITLISTED
    assert status_in_db(fits) == S.APPROVED
    assert seats_taken(intake) == 2


def test_a_freed_seat_with_nobody_waiting_stays_free(db, program, coordinator):
    """No waiting list: the count goes down and nobody is mailed but the teacher who left."""
    intake = factories.make_intake(program, capacity=3)
    holder = factories.make_application(intake=intake, status="approved")
    services.withdraw(holder, holder.teacher)
    assert seats_taken(intake) == 0
    assert [m.kind for m in outbox()] == ["application.withdrawn"]


# --- races: real threads, each with its own app context, session and connection ---------------


def _approvals(coordinator_id: int, application_ids: list[int]) -> list:
    """One job per application id: load it and the coordinator, wait for the start, approve."""

    def job_for(application_id):
        def job(start):
            coordinator = _db.session.get(User, coordinator_id)
            application = _db.session.get(Application, application_id)
            application.teacher.profile  # noqa: B018 (loaded before the click, as a page would)
            start()
            services.approve(application, coordinator)
        return job

    return [job_for(application_id) for application_id in application_ids]


def test_24_coordinators_at_once_fill_5_seats_exactly(race_app):
    """Exactly 5 approved, seats_taken 5, and the 19 others told there is no seat."""
    intake = factories.make_intake(factories.make_program(), capacity=5)
    coordinator = factories.make_user(role="coordinator")
    ids = [factories.make_application(intake=intake, status="submitted").id
           for _ in range(THREADS)]
    _db.session.commit()

    started = time.monotonic()
    outcomes = run_at_once(race_app, _approvals(coordinator.id, ids))
    elapsed = time.monotonic() - started

    assert tally(outcomes) == {"ok": 5, "NoSeatLeft": THREADS - 5}, outcomes
    _db.session.expire_all()
    assert count_status(intake, S.APPROVED) == 5
    assert seats_taken(intake) == 5
    assert len(outbox(kind="application.approved")) == 5
    print(f"\n{_db.engine.dialect.name}: {THREADS} concurrent approvals in {elapsed:.2f} s")


def test_24_coordinators_at_once_respect_a_partner_quota(race_app):
    """20 seats, 3 for China University of Petroleum, 24 of its teachers: 3 approved."""
    intake = factories.make_intake(factories.make_program(), capacity=20)
    partner = factories.make_partner("China University of Petroleum")
    factories.make_quota(intake, partner, seats=3)
    coordinator = factories.make_user(role="coordinator")
    ids = [factories.make_application(teacher=factories.make_teacher(partner), intake=intake,
                                      status="submitted").id
           for _ in range(THREADS)]
    _db.session.commit()

    outcomes = run_at_once(race_app, _approvals(coordinator.id, ids))

    assert tally(outcomes) == {"ok": 3, "NoSeatLeft": THREADS - 3}, outcomes
    assert all(o.quota for o in outcomes if isinstance(o, NoSeatLeft))
    _db.session.expire_all()
    quota = _db.session.scalar(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    assert quota.seats_taken == 3
    assert seats_taken(intake) == 3
    assert count_status(intake, S.APPROVED) == 3


def test_coordinators_approving_the_same_application_take_one_seat(race_app):
    """Eight clicks on the same application: one approval, one seat, one email, one history row."""
    intake = factories.make_intake(factories.make_program(), capacity=5)
    coordinator = factories.make_user(role="coordinator")
    application = factories.make_application(intake=intake, status="submitted")
    _db.session.commit()

    outcomes = run_at_once(race_app, _approvals(coordinator.id, [application.id] * 8))

    assert tally(outcomes) == {"ok": 1, "StaleApplication": 7}, outcomes
    _db.session.expire_all()
    assert seats_taken(intake) == 1
    assert [e.to_status for e in history(application)] == [S.APPROVED]
    assert len(outbox(kind="application.approved")) == 1


def test_withdrawals_and_approvals_at_once_never_overbook(race_app):
    """Teachers leave while coordinators approve others: the count matches the rows at the end."""
    intake = factories.make_intake(factories.make_program(), capacity=5)
    coordinator = factories.make_user(role="coordinator")
    holders = [factories.make_application(intake=intake, status="approved") for _ in range(5)]
    waiting = [factories.make_application(intake=intake, status="submitted").id
               for _ in range(THREADS - 5)]
    holder_ids = [(a.id, a.teacher_id) for a in holders]
    _db.session.commit()

    def withdrawal(application_id, teacher_id):
        def job(start):
            application = _db.session.get(Application, application_id)
            teacher = _db.session.get(User, teacher_id)
            application.teacher.profile  # noqa: B018
            start()
            services.withdraw(application, teacher)
        return job

    jobs = [withdrawal(*ids) for ids in holder_ids] + _approvals(coordinator.id, waiting)
    outcomes = run_at_once(race_app, jobs)

    assert set(tally(outcomes)) <= {"ok", "NoSeatLeft"}, outcomes
    assert all(o == "ok" for o in outcomes[:5])  # every withdrawal went through
    _db.session.expire_all()
    held = count_status(intake, S.APPROVED) + count_status(intake, S.ENROLLED)
    assert held == seats_taken(intake) <= 5


def test_bulk_rejections_and_approvals_at_once_neither_deadlock_nor_overbook(race_app, monkeypatch):
    """One coordinator bulk-rejects while another approves the same teachers: no database error."""
    notify = services.notify_teacher

    def slow_notify(*args):
        notify(*args)
        time.sleep(0.05)  # holds the application row a while: widens the window for a deadlock

    monkeypatch.setattr(services, "notify_teacher", slow_notify)
    intake = factories.make_intake(factories.make_program(), capacity=9)
    rejecter = factories.make_user(role="coordinator")
    approver = factories.make_user(role="coordinator")
    # submitted first: the bulk rejection takes each submitted one before its approved partner
    submitted = [factories.make_application(intake=intake, status="submitted").id
                 for _ in range(6)]
    approved = [factories.make_application(intake=intake, status="approved").id
                for _ in range(6)]
    _db.session.commit()

    def bulk_reject(ids):
        def job(start):
            coordinator = _db.session.get(User, rejecter.id)
            start()
            outcome = services.bulk_decide(ids, "rejected", coordinator, "Reviewed again.")
            assert len(outcome.succeeded) + len(outcome.failed) == len(ids)
        return job

    jobs = [bulk_reject(list(pair)) for pair in zip(submitted, approved, strict=True)]
    jobs += _approvals(approver.id, submitted)
    outcomes = run_at_once(race_app, jobs)

    assert set(tally(outcomes)) <= {"ok", "NoSeatLeft", "StaleApplication"}, outcomes
    _db.session.expire_all()
    held = count_status(intake, S.APPROVED) + count_status(intake, S.ENROLLED)
    assert held == seats_taken(intake) <= 9


# --- seats added by a coordinator go to the waiting list ----------------------------------


def _intake_values(intake, **changes) -> dict:
    values = {name: getattr(intake, name) for name in catalog.INTAKE_FIELDS}
    values.update(changes)
    return values


def _waitlisted(intake, n: int, partner=None) -> list[Application]:
    coordinator = factories.make_user(role="coordinator")
    apps = []
    for _ in range(n):
        teacher = factories.make_teacher(partner)
        application = factories.make_application(teacher=teacher, intake=intake,
                                                 status="submitted")
        services.waitlist(application, coordinator)
        apps.append(application)
    return apps


def test_raising_the_capacity_promotes_from_the_waiting_list(db, program, coordinator):
    intake = factories.make_intake(program, capacity=1)
    factories.make_application(intake=intake, status="approved")
    first, second, third = _waitlisted(intake, 3)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={},
                        **_intake_values(intake, capacity=3))

    assert [status_in_db(a) for a in (first, second, third)] == [S.APPROVED, S.APPROVED,
                                                                 S.WAITLISTED]
    assert seats_taken(intake) == 3
    assert history(first)[-1].actor_id is None  # the portal promoted it
    mails = outbox(kind="application.approved")
    assert [m.to_address for m in mails] == [first.teacher.email, second.teacher.email]


def test_saving_without_new_seats_leaves_the_waiting_list_alone(db, program, coordinator):
    """Free seats a coordinator chose to keep are not given away by editing the title."""
    intake = factories.make_intake(program, capacity=5)
    (waiting,) = _waitlisted(intake, 1)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={},
                        **_intake_values(intake, title="Spring 2027, renamed"))

    assert status_in_db(waiting) == S.WAITLISTED
    assert outbox(kind="application.approved") == []


def test_raising_or_removing_a_quota_promotes_that_partners_teachers(db, program, coordinator):
    intake = factories.make_intake(program, capacity=10)
    datong = factories.make_partner("Datong University")
    factories.make_quota(intake, datong, seats=1)
    factories.make_application(teacher=factories.make_teacher(datong), intake=intake,
                               status="approved")
    first, second = _waitlisted(intake, 2, partner=datong)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={datong.id: 2},
                        **_intake_values(intake))

    assert [status_in_db(a) for a in (first, second)] == [S.APPROVED, S.WAITLISTED]
    quota = db.session.scalar(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    assert (quota.seats, quota.seats_taken) == (2, 2)

    catalog_intakes.save_intake(program, intake, actor=coordinator, quotas={datong.id: None},
                        **_intake_values(intake))

    assert status_in_db(second) == S.APPROVED
    assert seats_taken(intake) == 3


def test_the_intake_page_promotes_when_the_capacity_is_raised(client, db, login_as, program):
    intake = factories.make_intake(program, capacity=1, title="Spring 2027")
    factories.make_application(intake=intake, status="approved")
    (waiting,) = _waitlisted(intake, 1)
    db.session.commit()
    login_as("coordinator")
    form = {name: (value.isoformat() if isinstance(value, date) else value)
            for name, value in _intake_values(intake, capacity="2").items()}
    form["is_open"] = "y"

    response = client.post(f"/manage/programs/{program.id}/intakes/{intake.id}", data=form)

    assert response.status_code == 302
    db.session.expire_all()
    assert status_in_db(waiting) == S.APPROVED
    assert seats_taken(intake) == 2
