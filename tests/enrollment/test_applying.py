"""The teacher's side: drafts, one application per intake, the application window, submitting."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from course_portal.accounts.models import User
from course_portal.catalog.models import Intake
from course_portal.core.clock import portal_today
from course_portal.enrollment import drafts, services
from course_portal.enrollment.errors import EnrollmentError, StaleApplication
from course_portal.enrollment.models import (
    Application,
    ApplicationStatus,
    FundingSource,
)
from course_portal.extensions import db as _db
from tests import factories
from tests.enrollment.helpers import (
    history,
    outbox,
    run_at_once,
    status_in_db,
    tally,
    text_of,
)
from tests.enrollment.test_pages_teacher import all_files, application_form, sign_in, text

S = ApplicationStatus


def _on(monkeypatch, day: date) -> None:
    """Pretend the portal's today (Moscow) is `day`."""
    monkeypatch.setattr(services, "portal_today", lambda: day)
    monkeypatch.setattr(drafts, "portal_today", lambda: day)


def test_a_draft_keeps_what_was_typed(db, intake):
    """Saved twice: one draft, with the latest text; its creation is in the history."""
    teacher = factories.make_teacher()
    first = services.save_draft(teacher, intake, motivation="  First thoughts  ")
    second = services.save_draft(teacher, intake, motivation="Better words\r\non two lines",
                                 funding_source="moe_china", consent=True)
    assert first.id == second.id
    assert second.status == S.DRAFT
    assert second.motivation == "Better words\non two lines"
    assert second.funding_source == FundingSource.MOE_CHINA
    assert second.consent_at is not None
    [created] = history(second)
    assert (created.from_status, created.to_status, created.actor_id) == (None, S.DRAFT, teacher.id)
    assert outbox() == []  # drafts are nobody's business yet


def test_funding_other_needs_words_and_is_cleared_otherwise(db, intake):
    """'Other' asks who pays; choosing a listed source forgets the stale text."""
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake,
                                              funding_source=FundingSource.OTHER)
    problems = services.submission_problems(application)
    assert "funding_other" in problems
    services.save_draft(teacher, intake, funding_other="Harbin city grant")
    assert "funding_other" not in services.submission_problems(application)
    services.save_draft(teacher, intake, funding_source="self_funded")
    assert application.funding_other == ""


def test_an_unknown_funding_source_is_refused(db, intake):
    """A tampered form field gets a message on that field."""
    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(factories.make_teacher(), intake, funding_source="lottery")
    assert caught.value.fields == ["funding_source"]


def test_control_characters_are_refused_on_every_database(db, intake):
    """PostgreSQL refuses NUL bytes, SQLite keeps them: refused here for both."""
    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(factories.make_teacher(), intake, motivation="bad\x00byte")
    assert caught.value.fields == ["motivation"]


def test_one_application_per_teacher_and_intake(db, intake, coordinator):
    """After submitting, the same teacher cannot start another one for that intake."""
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake, status="submitted")
    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(teacher, intake, motivation="Again")
    assert "already applied" in text_of(caught.value)
    assert application.motivation != "Again"
    count = db.session.scalar(select(func.count()).select_from(Application)
                              .where(Application.teacher_id == teacher.id))
    assert count == 1


def test_the_database_holds_one_application_per_teacher_and_intake(db, intake):
    """Even code that skips the services cannot insert a second one."""
    teacher = factories.make_teacher()
    factories.make_application(teacher=teacher, intake=intake)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(Application(teacher_id=teacher.id, intake_id=intake.id))
        db.session.flush()
    db.session.rollback()


def test_coordinators_do_not_apply(db, intake, coordinator):
    """Only teachers have applications."""
    with pytest.raises(EnrollmentError):
        services.save_draft(coordinator, intake, motivation="Me too")


def test_submitting_a_complete_draft(db, intake):
    """The teacher is mailed, the coordinator's queue gets it, the time is kept."""
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake)
    services.submit(application, teacher)
    assert status_in_db(application) == S.SUBMITTED
    assert application.submitted_at is not None
    [mail] = outbox(to=teacher.email)
    assert mail.kind == "application.submitted"
    assert "Investment Ecosystem" in mail.subject


def test_an_incomplete_draft_says_everything_missing(db, intake):
    """All problems at once, each on its field, so the teacher fixes them in one go."""
    teacher = factories.make_user(role="teacher")  # profile without university or position
    application = factories.make_application(teacher=teacher, intake=intake, complete=False)
    with pytest.raises(EnrollmentError) as caught:
        services.submit(application, teacher)
    errors = caught.value.errors
    assert set(errors) == {None, "motivation", "funding_source", "consent",
                           "diploma", "passport", "cv"}
    assert "profile" in text_of(caught.value)
    assert status_in_db(application) == S.DRAFT
    assert outbox() == []


@pytest.mark.parametrize(("today_offset", "accepted"), [
    (-11, False),  # the window opens tomorrow
    (-10, True),   # the first day
    (20, True),    # the last day, in the portal's time zone
    (21, False),   # the day after closing
])
def test_the_application_window(db, program, monkeypatch, today_offset, accepted):
    """Submitting is possible from the opening day to the closing day, both included."""
    base = date(2027, 3, 1)
    intake = factories.make_intake(program, today=base)  # open base-10 .. base+20
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake)
    _on(monkeypatch, base + timedelta(days=today_offset))
    if accepted:
        services.submit(application, teacher)
        assert status_in_db(application) == S.SUBMITTED
    else:
        with pytest.raises(EnrollmentError) as caught:
            services.submit(application, teacher)
        assert "2027-02-19 to 2027-03-21" in text_of(caught.value)
        assert status_in_db(application) == S.DRAFT


def test_no_new_draft_outside_the_window(db, program, monkeypatch):
    """A closed intake does not take new applications."""
    intake = factories.make_intake(program, today=date(2027, 3, 1))
    _on(monkeypatch, date(2027, 4, 1))
    with pytest.raises(EnrollmentError):
        services.save_draft(factories.make_teacher(), intake, motivation="Late")
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_a_double_click_on_save_makes_one_draft(race_app):
    """Eight saves of the same new draft at once: one application, one history row, no error."""
    intake = factories.make_intake(factories.make_program())
    teacher = factories.make_teacher()
    _db.session.commit()
    teacher_id, intake_id = teacher.id, intake.id

    def job(start):
        me = _db.session.get(User, teacher_id)
        the_intake = _db.session.get(Intake, intake_id)
        start()
        services.save_draft(me, the_intake, motivation="Saved twice")

    outcomes = run_at_once(race_app, [job] * 8)

    assert tally(outcomes) == {"ok": 8}, outcomes
    [application] = _db.session.scalars(select(Application)).all()
    assert application.motivation == "Saved twice"
    assert len(history(application)) == 1


def test_a_double_click_on_submit_with_files_keeps_one_document_of_each_kind(race_app):
    """Two submissions of a draft with its three files at once (a double click), each having
    read the draft's documents before the other stored any: both answer, each kind is one
    document, and its file is on disk. The refused submission (no consents yet) keeps the
    draft; it used to end the second request in a unique-constraint error, a 500."""
    import io

    from sqlalchemy.orm import selectinload

    from course_portal.enrollment import documents
    from course_portal.enrollment.models import Document, DocumentKind

    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    intake = factories.make_intake(factories.make_program())
    teacher = factories.make_teacher()
    application = factories.make_application(teacher=teacher, intake=intake, complete=False)
    _db.session.commit()
    ids = teacher.id, intake.id, application.id

    def job(start):
        me = _db.session.get(User, ids[0])
        the_intake = _db.session.get(Intake, ids[1])
        # as the apply page loads the draft: with its documents
        draft = _db.session.get(Application, ids[2],
                                options=[selectinload(Application.documents)])
        assert draft.documents == []
        start()
        saved = services.save_draft(me, the_intake, motivation="Sent twice")
        for kind in DocumentKind:
            documents.store_document(saved, kind, f"{kind.value}.pdf", io.BytesIO(pdf), me)

    outcomes = run_at_once(race_app, [job] * 2)

    assert tally(outcomes) == {"ok": 2}, outcomes
    stored = _db.session.scalars(
        select(Document).where(Document.application_id == ids[2])).all()
    assert sorted(d.kind.value for d in stored) == sorted(k.value for k in DocumentKind)
    for document in stored:
        assert documents.open_document(document).read_bytes() == pdf


CLOSED_BY_COORDINATOR = "A course coordinator has closed applications to this intake."




def test_a_new_draft_in_a_closed_intake_says_a_coordinator_closed_it(db, intake):
    """Inside its dates but switched off: the dates are not the reason, so they are not given."""
    intake.is_open = False
    teacher = factories.make_teacher()

    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(teacher, intake, motivation="I teach finance.")

    message = text_of(caught.value)
    assert message == CLOSED_BY_COORDINATOR
    assert "accepted from" not in message
    assert db.session.scalar(select(Application.id)) is None


def test_submitting_a_draft_after_the_intake_was_closed_says_so(db, intake):
    application = factories.make_application(intake=intake, status="draft")
    intake.is_open = False

    with pytest.raises(EnrollmentError) as caught:
        services.submit(application, application.teacher)

    assert caught.value.errors[None] == [caught.value.message]
    assert text_of(caught.value) == CLOSED_BY_COORDINATOR
    assert status_in_db(application) == S.DRAFT


def test_outside_its_dates_an_open_intake_still_gives_them(db, program):
    today = portal_today()
    intake = factories.make_intake(program, applications_open_on=today - timedelta(days=30),
                                   applications_close_on=today - timedelta(days=1))
    application = factories.make_application(intake=intake, status="draft")

    with pytest.raises(EnrollmentError) as caught:
        services.submit(application, application.teacher)

    assert text_of(caught.value) == (
        f"Applications to this intake are accepted from {intake.applications_open_on} "
        f"to {intake.applications_close_on}.")


def test_the_apply_page_shows_the_closed_message_above_the_form(client, db, intake):
    teacher = factories.make_teacher()
    draft = factories.make_application(teacher=teacher, intake=intake, status="draft",
                                       complete=False)
    intake.is_open = False
    db.session.commit()
    sign_in(client, teacher)

    page = text(client.post(f"/intakes/{intake.id}/apply",
                            data=application_form("send", files=all_files())))

    assert CLOSED_BY_COORDINATOR in page
    assert "are accepted from" not in page
    assert status_in_db(draft) == S.DRAFT


def test_a_teacher_without_a_draft_reads_that_the_coordinator_closed_the_intake(client, db, intake):
    teacher = factories.make_teacher()
    intake.is_open = False
    db.session.commit()
    sign_in(client, teacher)

    page = text(client.get(f"/intakes/{intake.id}/apply"))

    assert CLOSED_BY_COORDINATOR in page
    assert "are accepted from" not in page


# --- a draft submitted from another tab ---------------------------------------------------


def _submitted_elsewhere(db, application, motivation: str) -> None:
    """What another tab's request did and committed while this one held the old copy."""
    with db.engine.begin() as other:
        other.execute(update(Application).where(Application.id == application.id)
                      .values(status=S.SUBMITTED, motivation=motivation))


def test_saving_a_draft_that_another_tab_submitted_changes_nothing(db, intake):
    """The session still holds the draft; the compare-and-set on the status refuses."""
    application = factories.make_application(intake=intake, status="draft",
                                             motivation="My first words.")
    teacher = application.teacher
    db.session.commit()
    assert application.status == S.DRAFT  # this request has read it
    _submitted_elsewhere(db, application, "What I submitted.")

    with pytest.raises(StaleApplication) as caught:
        services.save_draft(teacher, intake, motivation="Typed in the old tab.", consent=False)

    assert "already been submitted" in text_of(caught.value)
    db.session.rollback()
    db.session.refresh(application)
    assert application.status == S.SUBMITTED
    assert application.motivation == "What I submitted."
    assert application.consent_at is not None


def test_a_draft_known_to_be_submitted_is_refused_before_any_write(db, intake):
    application = factories.make_application(intake=intake, status="submitted")

    with pytest.raises(EnrollmentError) as caught:
        services.save_draft(application.teacher, intake, motivation="Changed.")

    assert "already applied to this intake" in text_of(caught.value)
    assert application.motivation != "Changed."


def test_a_draft_still_saves_and_a_bad_value_leaves_no_new_draft(db, intake):
    teacher = factories.make_teacher()
    with pytest.raises(EnrollmentError):
        services.save_draft(teacher, intake, funding_source="lottery")
    assert db.session.scalar(select(Application.id)) is None

    application = services.save_draft(teacher, intake, motivation="  Finance.  ",
                                      funding_source="other", funding_other="A foundation",
                                      consent=True)
    consented = application.consent_at
    services.save_draft(teacher, intake, funding_source="moe_china", consent=True)

    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.motivation == "Finance."
    assert stored.funding_source == "moe_china"
    assert stored.funding_other == ""  # only kept for "other"
    assert stored.consent_at == consented  # the first consent's time is kept
    assert [e.to_status for e in history(stored)] == [S.DRAFT]
