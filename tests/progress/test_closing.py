"""Closing an intake: enrolled teachers complete or not by the rules, through transition()."""

from __future__ import annotations

import pytest

from course_portal.enrollment.errors import TransitionRefused
from course_portal.enrollment.services import transition
from course_portal.progress import records
from course_portal.progress.errors import ProgressError
from course_portal.progress.grid import load_roster, save_grid
from course_portal.progress.models import ModuleResult
from tests import factories
from tests.enrollment.helpers import count_status, history, outbox, seats_taken, status_in_db
from tests.progress.helpers import cells_for


def _enrolled(intake, count=2):
    return [factories.make_application(intake=intake, status="enrolled") for _ in range(count)]


def test_closing_completes_those_who_meet_the_rules_and_mails_everyone(
        db, ended_intake, coordinator):
    done, short = _enrolled(ended_intake)
    modules = ended_intake.program.modules
    cells = cells_for(done, modules)
    cells.update(cells_for(short, modules, hours=[8, 12, 4]))  # 24 of 40: 60%
    save_grid(load_roster(ended_intake), cells, coordinator)
    seats = seats_taken(ended_intake)

    outcome = records.close_intake(ended_intake, coordinator)

    assert outcome.completed == [done.id] and outcome.not_completed == [short.id]
    assert status_in_db(done) == "completed" and status_in_db(short) == "not_completed"
    last = history(short)[-1]
    assert (last.from_status, last.to_status, last.actor_id) == (
        "enrolled", "not_completed", coordinator.id)
    assert last.reason == "attendance 60% of 80% required"
    assert outbox(to=done.teacher.email, kind="application.completed")
    [mail] = outbox(to=short.teacher.email, kind="application.not_completed")
    assert "attendance 60% of 80% required" in mail.body_text
    assert mail.subject.endswith("has ended without completion")
    # a finished intake keeps its seats: nobody is promoted from the waiting list
    assert seats_taken(ended_intake) == seats


def test_the_reason_is_in_the_teachers_language(db, ended_intake):
    teacher = factories.make_teacher(locale="zh")
    application = factories.make_application(teacher=teacher, intake=ended_intake,
                                             status="enrolled")

    records.close_intake(ended_intake, actor=None)

    assert status_in_db(application) == "not_completed"
    assert outbox(to=teacher.email, kind="application.not_completed")


def test_an_intake_still_running_cannot_be_closed(db, intake, enrolled, coordinator):
    try:
        records.close_intake(intake, coordinator)
    except ProgressError as error:
        assert "close it from that day on" in error.text()
    else:
        raise AssertionError("closed an intake that has not ended")
    assert count_status(intake, "enrolled") == 3


def test_results_of_a_closed_intake_no_longer_change(db, ended_intake, coordinator):
    [application] = _enrolled(ended_intake, 1)
    records.close_intake(ended_intake, coordinator)
    cells = cells_for(application, ended_intake.program.modules)

    try:
        save_grid(load_roster(ended_intake), cells, coordinator)
    except ProgressError as error:
        assert "intake is closed" in error.text()
    else:
        raise AssertionError("changed a closed intake's results")
    assert db.session.query(ModuleResult).count() == 0


def test_completed_is_final(db, ended_intake, coordinator):
    [application] = _enrolled(ended_intake, 1)
    records.close_intake(ended_intake, coordinator)

    for target in ("enrolled", "completed", "withdrawn"):
        with pytest.raises(TransitionRefused):
            transition(application, target, coordinator)


def test_a_teacher_cannot_close_an_intake(db, ended_intake):
    teacher = factories.make_teacher()
    try:
        records.close_intake(ended_intake, teacher)
    except ProgressError:
        pass
    else:
        raise AssertionError("a teacher closed an intake")


def test_the_button_closes_the_intake(client, db, login_as, ended_intake):
    login_as("coordinator")
    [application] = _enrolled(ended_intake, 1)
    db.session.commit()

    page = client.get(f"/progress/manage/intakes/{ended_intake.id}/roster").get_data(as_text=True)
    assert "Close the intake" in page
    response = client.post(f"/progress/manage/intakes/{ended_intake.id}/close", follow_redirects=True)

    assert "The intake is closed: 0 completed, 1 did not complete." in response.get_data(
        as_text=True)
    assert status_in_db(application) == "not_completed"


def test_the_command_closes_the_intake(app, db, ended_intake):
    [application] = _enrolled(ended_intake, 1)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["progress", "close-intake", str(ended_intake.id)])

    assert result.exit_code == 0, result.output
    assert "0 completed, 1 not completed" in result.output
    db.session.expire_all()
    assert status_in_db(application) == "not_completed"
    result = app.test_cli_runner().invoke(args=["progress", "close-intake", "999999"])
    assert result.exit_code != 0 and "no intake with id 999999" in result.output
    result = app.test_cli_runner().invoke(args=["progress", "close-ended"])
    assert "nothing to close" in result.output
