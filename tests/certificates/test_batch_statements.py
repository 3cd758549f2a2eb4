"""A batch reads its applications a slice at a time: what a certificate costs in SQL does not
grow with the batch, and each slice is read afresh, refusals still per certificate."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from course_portal.certificates import jobs, pdfs, services
from course_portal.certificates.models import Certificate, IssueBatch
from course_portal.core.audit import AuditEvent
from course_portal.core.clock import portal_today
from course_portal.extensions import db
from course_portal.progress.models import FinalAssessment, Outcome
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake, outbox, text_of
from tests.queries import statements_sent

#: what one certificate of a batch may cost: the counter's bump, the check after it, the
#: row, its audit row, its email, the PDF, the batch's progress, and the page cache's
#: generation bumped by the two commits
STATEMENTS_PER_CERTIFICATE = 9
SIGNATURE_PNG = b"\x89PNG\r\n\x1a\n a signature"


@pytest.fixture
def rendered(monkeypatch) -> list:
    """No PDF is drawn (what is counted is the SQL around it); the renders asked for, with
    the images each was given."""
    asked: list = []

    def render(snapshot, code, images):
        asked.append((snapshot, images))
        return b"%PDF-1.7 test", False

    monkeypatch.setattr(pdfs, "_render", render)
    return asked


def another_intake(program, teachers: int):
    """One more finished intake of the program, with this many teachers who completed it."""
    today = portal_today()
    intake = factories.make_intake(
        program, applications_open_on=today - timedelta(days=200),
        applications_close_on=today - timedelta(days=160),
        starts_on=today - timedelta(days=150), ends_on=today - timedelta(days=30))
    for _ in range(teachers):
        make_completed(intake)
    return intake


def run_batch(intake, coordinator) -> int:
    """Run a batch for the intake in place; the statements it sent."""
    batch = jobs.start_batch(intake, coordinator)
    db.session.commit()
    with statements_sent() as sent:
        jobs.run_batch(batch.id)
    return len(sent)


def test_a_certificate_costs_the_same_statements_in_a_batch_of_2_4_or_6(db, rendered):
    first = make_finished_intake()
    make_completed(first)
    program = first.program
    coordinator = factories.make_user(role="coordinator")
    sizes = (2, 4, 6)
    intakes = [another_intake(program, size) for size in sizes]
    db.session.commit()
    run_batch(first, coordinator)  # the year's counter exists from here on, as on most days

    totals = [run_batch(intake, coordinator) for intake in intakes]

    # a + b * n: the slice's reads are shared, only the certificate's own writes repeat
    per_certificate = (totals[2] - totals[0]) // (sizes[2] - sizes[0])
    assert totals[1] - totals[0] == totals[2] - totals[1] == 2 * per_certificate, totals
    assert per_certificate <= STATEMENTS_PER_CERTIFICATE, totals
    assert totals[0] - 2 * per_certificate < 60, totals  # the batch's own: claim, reads, end
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1 + sum(sizes)
    assert len(rendered) == 1 + sum(sizes)


def test_a_batch_in_slices_reads_each_afresh_and_refuses_per_certificate(
        db, rendered, monkeypatch):
    monkeypatch.setattr(jobs, "SLICE", 2)
    intake = make_finished_intake()
    factories.make_signatories(intake.program, signature_png=SIGNATURE_PNG)
    coordinator = factories.make_user(role="coordinator")
    applications = [make_completed(intake) for _ in range(6)]
    db.session.commit()
    holder, failing = applications[2], applications[4]
    # the issue button, after the batch chose its applications and before it reaches this one
    services.issue_certificate(holder, coordinator)
    db.session.commit()
    ids = [a.id for a in applications] + [10**9]

    def progress(index, number, message):
        if index == 2:  # the first slice is done: a result is corrected meanwhile
            db.session.execute(update(FinalAssessment)
                               .where(FinalAssessment.application_id == failing.id)
                               .values(outcome=Outcome.FAILED))

    outcome = jobs.issue_many(ids, coordinator.id, progress)

    code = intake.program.code
    year = portal_today().year
    assert outcome["issued"] == [f"{code}-{year}-{n:04d}" for n in (2, 3, 4, 5)]
    problems = {p["application_id"]: p["message"] for p in outcome["problems"]}
    assert set(problems) == {holder.id, failing.id, 10**9}
    assert "already holds certificate" in text_of(problems[holder.id])
    assert "final assessment not passed" in text_of(problems[failing.id])
    db.session.expire_all()
    issued = list(db.session.scalars(select(Certificate).order_by(Certificate.sequence)))
    assert [c.sequence for c in issued] == [1, 2, 3, 4, 5]
    assert len({c.application_id for c in issued}) == 5
    assert all(c.pdf_size for c in issued)
    # one audit row and one email per certificate, as from the button
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "certificate.issued")) == 5
    assert len(outbox("certificate.issued")) == 5
    # the signatures the slices read are the ones each PDF was given
    sha = hashlib.sha256(SIGNATURE_PNG).hexdigest()
    assert all(images == {sha: SIGNATURE_PNG} for _snapshot, images in rendered)
    assert all(len(snapshot.signatories) == 3 for snapshot, _images in rendered)


def test_a_batch_saves_its_progress_with_each_certificate(db, rendered):
    intake = make_finished_intake()
    coordinator = factories.make_user(role="coordinator")
    for _ in range(3):
        make_completed(intake)
    db.session.commit()
    batch = jobs.start_batch(intake, coordinator)
    db.session.commit()
    seen = []
    real = jobs._save_progress

    def watch(batch_id, **values):
        real(batch_id, **values)
        if "processed" in values and "status" not in values:
            seen.append(values["processed"])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "_save_progress", watch)
        jobs.run_batch(batch.id)
    db.session.expire_all()
    done = db.session.get(IssueBatch, batch.id)
    assert (done.status, done.processed, done.issued, done.problems) == ("done", 3, 3, [])
    assert seen == [0, 1, 2, 3]  # the start, then a heartbeat with each certificate
