"""The dashboard page shows what a full recount of the rows says, after random changes.

The changes go through the portal's own doors: applications created, submitted, decided,
enrolled, completed and withdrawn through enrollment.services, certificates issued and revoked
through certificates.services, a teacher moving to another university (or to none). After
each change the page, rendered fresh, shows the numbers counted here straight from the rows
(not through the dashboard's services): every figure, every chart row, unfiltered and for one
intake.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from course_portal.accounts.models import TeacherProfile
from course_portal.catalog.models import Intake
from course_portal.certificates import services as certificates
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.core.clock import portal_today
from course_portal.core.domain import DomainError
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.models import (
    SEAT_HOLDING,
    Application,
    ApplicationStatus,
    FundingSource,
)
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake

S = ApplicationStatus
STEPS = 200
#: the changes of the walk (some twice as often: they need what others make, or may be refused)
ACTIONS = ("apply", "apply", "submit", "submit", "decide", "decide", "enroll", "enroll",
           "withdraw", "complete", "issue", "issue", "revoke", "move")
#: the order of the status chart's rows
SHOWN = (S.SUBMITTED, S.WAITLISTED, S.APPROVED, S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED,
         S.REJECTED, S.WITHDRAWN)


def recount(intake_id: int | None = None) -> dict:
    """What the page must show, from the rows themselves."""
    where = [Application.status != S.DRAFT]
    if intake_id is not None:
        where.append(Application.intake_id == intake_id)
    by_status = {status.value: 0 for status in SHOWN}
    for status, count in db.session.execute(
            select(Application.status, func.count()).where(*where).group_by(Application.status)):
        by_status[S(status).value] = count
    funding = {source.value: 0 for source in FundingSource}
    for source, count in db.session.execute(
            select(Application.funding_source, func.count()).where(*where)
            .group_by(Application.funding_source)):
        key = FundingSource(source).value if source else "none"
        funding[key] = count
    if not funding.get("none"):
        funding.pop("none", None)
    teachers = select(Application.teacher_id).where(*where).distinct().subquery()
    partners = {
        str(partner or ""): count for partner, count in db.session.execute(
            select(TeacherProfile.partner_university_id, func.count()).select_from(teachers)
            .join(TeacherProfile, TeacherProfile.user_id == teachers.c.teacher_id)
            .group_by(TeacherProfile.partner_university_id))}
    issued = db.session.scalar(
        select(func.count()).select_from(Certificate)
        .join(Application, Application.id == Certificate.application_id)
        .where(Certificate.status == CertificateStatus.ISSUED, *where))
    intakes = select(Intake).order_by(Intake.starts_on.desc(), Intake.id.desc())
    if intake_id is not None:
        intakes = intakes.where(Intake.id == intake_id)
    seats = {}
    for intake in db.session.scalars(intakes):
        held = db.session.scalar(select(func.count()).where(
            Application.intake_id == intake.id, Application.status.in_(list(SEAT_HOLDING))))
        seats[str(intake.id)] = f"{held} / {intake.capacity}"
    completed, finished = by_status["completed"], by_status["completed"] + by_status[
        "not_completed"]
    return {
        "figures": [str(sum(by_status.values())),
                    str(by_status["submitted"] + by_status["waitlisted"]),
                    f"{completed * 100 // finished}%" if finished else "—", str(issued)],
        "by-status": {key: str(value) for key, value in by_status.items()},
        "seats": seats,
        "by-partner": {key: str(value) for key, value in partners.items()},
        "by-funding": {key: str(value) for key, value in funding.items()},
    }


def shown(html: str) -> dict:
    """The figures and every chart table's rows (key: number) as the page shows them."""
    page = {"figures": re.findall(r'<span class="dash-number">([^<]*)</span>', html)}
    for chart in ("by-status", "seats", "by-partner", "by-funding"):
        section = html.split(f'<section class="dash-chart" id="{chart}"', 1)[1]
        section = section.split("</section>", 1)[0]
        rows = re.findall(r'<tr data-key="([^"]*)">.*?<td class="num">([^<]*)</td>', section,
                          flags=re.S)
        # the funding chart's row for applications without a source has no key
        page[chart] = {(key or "none") if chart == "by-funding" else key: value
                       for key, value in rows}
    return page


@pytest.fixture
def walk(app, db):
    """Every page rendered afresh, not kept from the previous step."""
    app.config["PAGE_CACHE_SECONDS"] = 0


def test_the_page_equals_a_recount_after_random_changes(walk, client, login_as):
    rng = random.Random(19)
    coordinator = login_as("coordinator")
    partners = [factories.make_partner(name_en=f"Recount University {n}") for n in range(3)]
    finished = make_finished_intake(code="RC")
    program = factories.make_program(code="RO")
    # accepting applications, and started (teachers are enrolled from the first day)
    open_intakes = [factories.make_intake(program, title=f"Open {n}", capacity=6,
                                          starts_on=portal_today() - timedelta(days=1))
                    for n in range(2)]
    intakes = [finished, *open_intakes]
    teachers = [factories.make_teacher(partner=rng.choice(partners)) for _ in range(24)]
    db.session.commit()
    applied: set[tuple[int, int]] = set()
    done: dict[str, int] = {}

    def applications(*statuses) -> list[Application]:
        return list(db.session.scalars(select(Application).where(
            Application.status.in_(list(statuses))).order_by(Application.id)))

    for _step in range(STEPS):
        action = rng.choice(ACTIONS)
        try:
            if action == "apply":
                teacher, intake = rng.choice(teachers), rng.choice(open_intakes)
                if (teacher.id, intake.id) in applied:
                    continue
                applied.add((teacher.id, intake.id))
                # a draft to submit later names its funding; a row made submitted may not
                status = rng.choice(["draft", "submitted"])
                source = rng.choice([*FundingSource] + ([None] if status == "submitted" else []))
                factories.make_application(
                    teacher=teacher, intake=intake, status=status, funding_source=source,
                    funding_other="Provincial education fund" if source == FundingSource.OTHER
                    else "")
            elif action == "submit" and (chosen := applications(S.DRAFT)):
                application = rng.choice(chosen)
                enrollment.submit(application, application.teacher)
            elif action == "decide" and (chosen := applications(S.SUBMITTED, S.WAITLISTED)):
                decision = rng.choice([S.APPROVED, S.APPROVED, S.WAITLISTED, S.REJECTED])
                enrollment.transition(rng.choice(chosen), decision, coordinator,
                                      reason="Checked against the quotas.")
            elif action == "enroll" and (chosen := applications(S.APPROVED)):
                enrollment.transition(rng.choice(chosen), S.ENROLLED, coordinator)
            elif action == "withdraw" and (chosen := applications(
                    S.SUBMITTED, S.WAITLISTED, S.APPROVED)):
                application = rng.choice(chosen)
                enrollment.withdraw(application, application.teacher)
            elif action == "complete":
                teacher = rng.choice(teachers)
                if (teacher.id, finished.id) in applied:
                    continue
                applied.add((teacher.id, finished.id))
                passed = rng.random() < 0.7
                application = make_completed(finished, teacher, passed=passed)
                db.session.commit()
                enrollment.transition(
                    application, S.COMPLETED if passed else S.NOT_COMPLETED, coordinator)
            elif action == "issue":
                chosen = [a for a in applications(S.COMPLETED)
                          if certificates.valid_certificate(a) is None]
                if not chosen:
                    continue
                certificates.issue_certificate(rng.choice(chosen), coordinator)
            elif action == "revoke":
                issued = list(db.session.scalars(select(Certificate).where(
                    Certificate.status == CertificateStatus.ISSUED).order_by(Certificate.id)))
                if not issued:
                    continue
                certificates.revoke(rng.choice(issued), coordinator, "Issued in error.")
            elif action == "move":
                db.session.execute(update(TeacherProfile).where(
                    TeacherProfile.user_id == rng.choice(teachers).id).values(
                    partner_university_id=rng.choice([p.id for p in partners] + [None])))
            else:
                continue
            db.session.commit()
            done[action] = done.get(action, 0) + 1
        except DomainError:  # a rule said no (no seat left, not yet, ...): nothing changed
            db.session.rollback()
        db.session.expire_all()

        intake = rng.choice(intakes)
        for url, intake_id in (("/dashboard", None), (f"/dashboard?intake={intake.id}",
                                                      intake.id)):
            response = client.get(url)
            assert response.status_code == 200
            assert shown(response.get_data(as_text=True)) == recount(intake_id), (url, done)

    # the walk did each kind of change several times, and left something to count in most statuses
    assert done.keys() == set(ACTIONS) and min(done.values()) >= 3, sorted(done.items())
    assert sum(1 for value in recount()["by-status"].values() if value != "0") >= 5
