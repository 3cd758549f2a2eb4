"""Registry numbers under concurrency: real threads on a SQLite file or PostgreSQL, with failures."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from course_portal.accounts.models import User
from course_portal.certificates import pdfs, services
from course_portal.certificates.models import Certificate
from course_portal.certificates.pdf import CertificateRenderError
from course_portal.core.clock import portal_today
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import counter, make_completed, make_finished_intake
from tests.enrollment.helpers import run_at_once, tally

#: threads issuing at once; each holds its connection while it waits for the counter
THREADS = 12


@pytest.fixture
def race_app(make_app):
    """An app whose pool has a connection for every thread."""
    application = make_app(SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": THREADS + 2, "max_overflow": 4, "pool_timeout": 60,
    })
    with application.app_context():
        yield application


def _issuing(coordinator_id: int, application_ids: list[int]) -> list:
    """One job per application id: load it as a page would, wait for the start, issue."""

    def job_for(application_id):
        def job(start):
            coordinator = db.session.get(User, coordinator_id)
            application = db.session.get(Application, application_id)
            application.teacher.profile  # noqa: B018 (loaded before the click)
            start()
            services.issue_certificate(application, coordinator)
        return job

    return [job_for(application_id) for application_id in application_ids]


def _sequences(program_id: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Certificate.sequence).where(Certificate.program_id == program_id)
        .order_by(Certificate.sequence)
    ))


def _setup(count: int):
    intake = make_finished_intake()
    coordinator = factories.make_user(role="coordinator")
    applications = [make_completed(intake, given_name_latin=f"Teacher{i:02d}")
                    for i in range(count)]
    db.session.commit()
    return intake, coordinator, [a.id for a in applications]


def test_concurrent_issuing_numbers_1_to_n_without_gaps_or_duplicates(race_app):
    intake, coordinator, ids = _setup(THREADS)

    started = time.monotonic()
    outcomes = run_at_once(race_app, _issuing(coordinator.id, ids))
    elapsed = time.monotonic() - started

    assert tally(outcomes) == {"ok": THREADS}, outcomes
    assert _sequences(intake.program_id) == list(range(1, THREADS + 1))
    assert counter(intake.program_id, portal_today().year) == THREADS
    print(f"\n{db.engine.dialect.name}: {THREADS} concurrent issues in {elapsed:.2f} s")


def test_failed_renders_at_once_leave_no_gap_and_are_finished_later(race_app, monkeypatch):
    intake, coordinator, ids = _setup(THREADS)
    failing = {"Teacher01", "Teacher04", "Teacher07", "Teacher10"}
    render = pdfs.render_certificate

    def sometimes_broken(snapshot, url, images=None):
        pdf = render(snapshot, url, images)  # the number was taken and the PDF made: fail late
        if snapshot.name_latin.split()[-1] in failing:
            raise CertificateRenderError("Rendering stopped: injected failure")
        return pdf

    monkeypatch.setattr(pdfs, "render_certificate", sometimes_broken)
    outcomes = run_at_once(race_app, _issuing(coordinator.id, ids))

    assert tally(outcomes) == {"ok": THREADS}, outcomes
    assert _sequences(intake.program_id) == list(range(1, THREADS + 1))
    assert counter(intake.program_id, portal_today().year) == THREADS
    assert len(pdfs.pending_pdfs()) == len(failing)

    monkeypatch.undo()
    assert pdfs.finish_pdfs() == f"made {len(failing)}, still waiting 0"
    db.session.expire_all()
    assert all(c.pdf.startswith(b"%PDF") for c in db.session.scalars(select(Certificate)))


def test_coordinators_issuing_for_the_same_teacher_at_once_make_one_certificate(race_app):
    intake, coordinator, [application_id] = _setup(1)

    outcomes = run_at_once(race_app, _issuing(coordinator.id, [application_id] * 6))

    assert tally(outcomes) == {"ok": 1, "CertificateRefused": 5}, outcomes
    assert _sequences(intake.program_id) == [1]
    assert counter(intake.program_id, portal_today().year) == 1
