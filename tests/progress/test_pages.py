"""The teacher's progress page, the coordinator's record with history, rules and schedule."""

from __future__ import annotations

from datetime import timedelta

from course_portal.progress.grid import hours_key, load_roster, outcome_key, save_grid
from course_portal.progress.models import ModuleSchedule
from course_portal.progress.services import rules_for
from tests import factories
from tests.progress.helpers import cells_for


def _teacher_client(client, application):
    with client.session_transaction() as session:
        session["_user_id"] = application.teacher.get_id()
        session["_fresh"] = True
    return client


def test_the_teacher_sees_hours_credited_modules_and_whats_next(
        client, db, intake, enrolled, coordinator):
    application = enrolled[0]
    m1, m2, m3 = intake.program.modules
    today = intake.starts_on + timedelta(days=60)
    db.session.add_all([
        ModuleSchedule(intake_id=intake.id, module_id=m1.id, starts_on=intake.starts_on,
                       ends_on=intake.starts_on + timedelta(days=20)),
        ModuleSchedule(intake_id=intake.id, module_id=m2.id, starts_on=today - timedelta(days=5),
                       ends_on=today + timedelta(days=5)),
    ])
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "8",
                                    outcome_key(application.id, m1.id): "passed"}, coordinator)
    db.session.commit()
    _teacher_client(client, application)

    page = client.get(f"/progress/{application.id}").get_data(as_text=True)

    assert "8 of 40 hours credited" in page
    assert "20% of 40 hours (80% required)" in page
    assert "Attendance so far: 100%." in page
    assert '<progress class="progress-bar" max="40" value="8"' in page
    assert "Module 1" in page and "Passed" in page
    assert "Next:" in page and "module 2, Module 2" in page
    assert "On track." in page
    assert "Dates to be announced" in page  # module 3 has no dates yet
    listing = client.get("/progress").get_data(as_text=True)
    assert "Intellectual Systems" in listing and "8 of 40 hours credited" in listing


def test_another_teachers_progress_is_not_found(client, login_as, enrolled):
    login_as("teacher")

    assert client.get(f"/progress/{enrolled[0].id}").status_code == 404
    assert client.get("/progress/999999").status_code == 404


def test_a_coordinator_opens_the_teachers_record_not_the_teachers_page(client, login_as, enrolled):
    login_as("coordinator")

    assert client.get(f"/progress/{enrolled[0].id}").status_code == 403
    assert client.get(f"/progress/manage/applications/{enrolled[0].id}").status_code == 200


def test_a_submitted_application_has_no_progress_page(client, db, intake):
    application = factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    _teacher_client(client, application)

    assert client.get(f"/progress/{application.id}").status_code == 404


def test_the_record_shows_who_changed_which_result_from_what_to_what(
        client, db, login_as, intake, enrolled):
    coordinator = login_as("coordinator")
    application = enrolled[0]
    m1 = intake.program.modules[0]
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "6",
                                    outcome_key(application.id, m1.id): "failed"}, coordinator)
    save_grid(load_roster(intake), {outcome_key(application.id, m1.id): "passed"}, coordinator)
    db.session.commit()

    page = client.get(f"/progress/manage/applications/{application.id}").get_data(as_text=True)

    assert "History of results" in page
    assert coordinator.name in page
    assert "Failed → Passed" in page
    assert "0 → 6" in page
    assert "Not eligible for the certificate yet" in page


def test_teachers_see_only_their_nav_link(client, login_as):
    login_as("teacher")

    page = client.get("/progress").get_data(as_text=True)

    assert 'href="/progress">My progress</a>' in page
    assert "Your progress appears here" in page


def test_the_intakes_page_links_each_roster(client, login_as, intake):
    login_as("coordinator")

    page = client.get(f"/manage/programs/{intake.program_id}/intakes").get_data(as_text=True)

    assert f'href="/progress/manage/intakes/{intake.id}/roster">Roster' in page


def test_a_coordinator_sets_the_rules(client, db, login_as, program):
    login_as("coordinator")

    response = client.post(f"/progress/manage/programs/{program.id}/rules", data={
        "min_attendance_percent": "75", "final_kind": "score", "max_score": "100",
        "pass_mark": ""})
    assert "Enter the pass mark" in response.get_data(as_text=True)

    response = client.post(f"/progress/manage/programs/{program.id}/rules", data={
        "min_attendance_percent": "75", "final_kind": "score", "max_score": "100",
        "pass_mark": "60"})

    assert response.status_code == 302
    rules = rules_for(program)
    assert (rules.min_attendance_percent, rules.final_kind, rules.pass_mark) == (75, "score", 60)


def test_a_coordinator_sets_the_schedule_within_the_intake(client, db, login_as, intake):
    login_as("coordinator")
    m1, m2, m3 = intake.program.modules
    day = intake.starts_on
    data = {
        "modules-0-module_id": m1.id, "modules-0-starts_on": day.isoformat(),
        "modules-0-ends_on": (day + timedelta(days=10)).isoformat(),
        "modules-1-module_id": m2.id, "modules-1-starts_on": (day + timedelta(days=11)).isoformat(),
        "modules-1-ends_on": (day - timedelta(days=1)).isoformat(),
        "modules-2-module_id": m3.id, "modules-2-starts_on": "", "modules-2-ends_on": "",
    }

    response = client.post(f"/progress/manage/intakes/{intake.id}/schedule", data=data)
    assert "The module cannot end before it starts." in response.get_data(as_text=True)

    data["modules-1-ends_on"] = (day + timedelta(days=20)).isoformat()
    response = client.post(f"/progress/manage/intakes/{intake.id}/schedule", data=data)

    assert response.status_code == 302
    rows = db.session.query(ModuleSchedule).order_by(ModuleSchedule.starts_on).all()
    assert [(r.module_id, r.starts_on) for r in rows] == [
        (m1.id, day), (m2.id, day + timedelta(days=11))]


def test_the_grid_of_a_scored_program_takes_scores(client, db, login_as, intake, enrolled):
    login_as("coordinator")
    from course_portal.progress import records
    records.save_rules(intake.program, None, 80, "score", 100, 60)
    db.session.commit()
    cells = cells_for(enrolled[0], intake.program.modules)
    cells.pop(f"f-{enrolled[0].id}")
    cells[f"s-{enrolled[0].id}"] = "101"

    page = client.post(f"/progress/manage/intakes/{intake.id}/roster", data=cells).get_data(as_text=True)

    assert "Enter a whole number from 0 to 100." in page
