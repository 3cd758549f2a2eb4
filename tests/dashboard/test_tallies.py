"""The dashboard's tallies, kept by the database, always equal a full recount of the rows.

Random changes go through the ways the portal changes rows (the ORM, the services'
compare-and-set UPDATEs, bulk statements, deletes, a teacher moving to another university,
certificates issued, revoked and re-issued), each committed; after each step the stored tallies
equal the recount, and the dashboard's figures from the tallies equal the figures counted from
the applications, unfiltered and under every filter.
"""

from __future__ import annotations

import random

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from course_portal.accounts.models import TeacherProfile
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.dashboard import services, tallies
from course_portal.enrollment.models import Application, ApplicationStatus, FundingSource
from course_portal.extensions import db
from tests import factories
from tests.queries import statements_sent

S = ApplicationStatus
STEPS = 120
#: the changes of the walk ("apply" twice as often: the others need applications to work on)
ACTIONS = ("apply", "apply", "move", "status", "bulk", "funding", "certificate", "revoke",
           "delete", "delete_certificate")


def _figures_key(figures: services.Figures) -> tuple:
    return (figures.by_status, figures.by_funding, figures.certificates,
            sorted(((p.id if p else 0), n) for p, n in figures.by_partner))


def _check(intakes, partners) -> None:
    db.session.expire_all()
    assert tallies.stored() == tallies.recount()
    every = [services.DashboardFilters()]
    every += [services.DashboardFilters(intake_id=i.id) for i in intakes]
    every += [services.DashboardFilters(program_id=intakes[0].program_id)]
    every += [services.DashboardFilters(partner_id=p.id) for p in partners]
    every += [services.DashboardFilters(funding=f.value) for f in FundingSource]
    for filters in every:
        assert _figures_key(services.tallied_figures(filters)) == _figures_key(
            services.counted_figures(filters)), filters


def _certificate(application: Application, status: CertificateStatus, n: int) -> Certificate:
    certificate = Certificate(
        registry_number=f"TL-2026-{n:04d}", program_id=application.intake.program_id, year=2026,
        sequence=n, verification_code=f"tally{n:06d}", application_id=application.id,
        status=status, snapshot={}, pdf=b"%PDF-", pdf_sha256="0" * 64, pdf_size=5)
    db.session.add(certificate)
    return certificate


def test_tallies_equal_a_recount_after_random_changes(app, db):
    rng = random.Random(2026)
    partners = [factories.make_partner(name_en=f"University {n}") for n in range(3)]
    program = factories.make_program(code="TL")
    intakes = [factories.make_intake(program) for _ in range(3)]
    teachers = [factories.make_teacher(partner=rng.choice(partners)) for _ in range(8)]
    db.session.commit()
    applications: list[Application] = []
    numbers = iter(range(1, 10_000))
    _check(intakes, partners)

    done: dict[str, int] = {}
    for step in range(STEPS):
        action = rng.choice(ACTIONS)
        if action == "apply":
            teacher, intake = rng.choice(teachers), rng.choice(intakes)
            if any(a.teacher_id == teacher.id and a.intake_id == intake.id
                   for a in applications):
                continue
            applications.append(factories.make_application(
                teacher=teacher, intake=intake, status=rng.choice(list(S)).value))
        elif action == "move":  # the teacher's university changes on the profile
            teacher = rng.choice(teachers)
            db.session.execute(update(TeacherProfile).where(TeacherProfile.user_id == teacher.id)
                               .values(partner_university_id=rng.choice(
                                   [p.id for p in partners] + [None])))
        elif action == "status" and applications:  # through the ORM
            rng.choice(applications).status = rng.choice(list(S))
        elif action == "bulk" and applications:  # one UPDATE for many rows
            chosen = rng.sample(applications, min(3, len(applications)))
            db.session.execute(update(Application)
                               .where(Application.id.in_([a.id for a in chosen]))
                               .values(status=rng.choice(list(S)))
                               .execution_options(synchronize_session=False))
        elif action == "funding" and applications:
            rng.choice(applications).funding_source = rng.choice([*FundingSource, None])
        elif action == "certificate" and applications:
            application = rng.choice(applications)
            _certificate(application, rng.choice(list(CertificateStatus)), next(numbers))
        elif action == "revoke":
            db.session.execute(update(Certificate).where(
                Certificate.status == CertificateStatus.ISSUED).values(
                status=CertificateStatus.REVOKED).execution_options(synchronize_session=False))
        elif action == "delete_certificate":
            db.session.execute(delete(Certificate).where(Certificate.id % 3 == step % 3))
        elif action == "delete" and applications:
            application = applications.pop(rng.randrange(len(applications)))
            db.session.execute(delete(Certificate).where(
                Certificate.application_id == application.id))
            db.session.delete(application)
        done[action] = done.get(action, 0) + 1
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # e.g. a second issued certificate for one application
            applications = [a for a in applications if db.session.get(Application, a.id)]
        _check(intakes, partners)

    # the walk did each kind of change several times, and left applications to count
    assert min(done.values()) >= 5 and done.keys() == set(ACTIONS), done
    assert applications


def test_the_unfiltered_dashboard_reads_tallies_whatever_the_number_of_applications(app, db):
    """Its figures come from a few small tables: their size follows intakes and universities."""
    program = factories.make_program(code="TQ")
    intake = factories.make_intake(program)
    partner = factories.make_partner()
    for _ in range(30):
        factories.make_application(teacher=factories.make_teacher(partner=partner),
                                   intake=intake, status="submitted")
    db.session.commit()
    with statements_sent() as statements:
        figures = services.figures(services.DashboardFilters())
    assert figures.by_status == {"submitted": 30}
    assert not any("FROM applications" in s for s in statements), statements
