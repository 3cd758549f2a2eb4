"""The roster grid: one request, one transaction; bad cells marked and kept; constant queries."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from course_portal.progress.grid import (
    ROSTER_PER_PAGE,
    final_key,
    hours_key,
    load_roster,
    outcome_key,
    save_grid,
)
from course_portal.progress.models import ModuleResult, ResultChange
from course_portal.progress.services import eligibility
from tests import factories
from tests.progress.helpers import cells_for
from tests.queries import statements_sent


def _stamp(client, intake) -> str:
    page = client.get(f"/progress/manage/intakes/{intake.id}/roster").get_data(as_text=True)
    return re.search(r'name="stamp"[^>]*value="(\d+)"', page).group(1)


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_roster_shows_every_teacher_and_module(client, login_as, intake, enrolled):
    login_as("coordinator")

    response = client.get(f"/progress/manage/intakes/{intake.id}/roster")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for application in enrolled:
        for module in intake.program.modules:
            assert f'name="{hours_key(application.id, module.id)}"' in page
            assert f'name="{outcome_key(application.id, module.id)}"' in page
        assert f'name="{final_key(application.id)}"' in page
    assert "CHEN Li" in page and "roster.js" in page
    assert "Completion needs 80% attendance" in page


def test_a_whole_grid_is_saved_in_one_request(client, db, login_as, intake, enrolled):
    coordinator = login_as("coordinator")
    modules = intake.program.modules
    cells = {"stamp": _stamp(client, intake)}
    for application in enrolled:
        cells.update(cells_for(application, modules))

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster", data=cells)

    assert response.status_code == 302
    assert _count(db, ModuleResult) == 9
    for application in enrolled:
        assert eligibility(application).eligible
    changes = db.session.scalars(select(ResultChange)).all()
    assert {c.actor_id for c in changes} == {coordinator.id}
    # hours and result for 9 cells, the final assessment for 3 teachers
    assert len(changes) == 9 * 2 + 3


def test_bad_cells_come_back_marked_with_what_was_typed_and_nothing_is_written(
        client, db, login_as, intake, enrolled):
    login_as("coordinator")
    first, second, third = enrolled
    m1, m2, _m3 = intake.program.modules
    cells = {"stamp": _stamp(client, intake)}
    for application in enrolled:
        cells.update(cells_for(application, intake.program.modules))
    cells[hours_key(first.id, m1.id)] = "9"          # the module has 8
    cells[hours_key(second.id, m2.id)] = "-1"
    cells[outcome_key(third.id, m1.id)] = "excellent"
    cells[hours_key(third.id, m2.id)] = "=1+1"

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster", data=cells)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 cells need attention" in page
    assert "At most 8 hours: the module has 8." in page
    assert "Hours cannot be negative." in page
    assert "Choose passed, failed or not yet." in page
    assert f'name="{hours_key(first.id, m1.id)}" value="9"' in page
    assert f'name="{hours_key(third.id, m2.id)}" value="=1+1"' in page
    assert '<option value="excellent" selected>excellent</option>' in page
    # the good cells keep what was typed too
    assert f'name="{hours_key(second.id, m1.id)}" value="8"' in page
    assert page.count('aria-invalid="true"') == 4
    assert _count(db, ModuleResult) == 0
    assert _count(db, ResultChange) == 0


def test_only_changes_are_audited_with_old_and_new_values(db, intake, enrolled, coordinator):
    application = enrolled[0]
    m1 = intake.program.modules[0]
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "6"}, coordinator)
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "6",
                                    outcome_key(application.id, m1.id): "passed"}, coordinator)
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "7"}, coordinator)

    changes = db.session.scalars(select(ResultChange).order_by(ResultChange.id)).all()

    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("attended_hours", "0", "6"),
        ("outcome", "pending", "passed"),
        ("attended_hours", "6", "7"),
    ]


def test_a_save_from_an_older_page_is_refused_and_kept(client, db, login_as, intake, enrolled):
    login_as("coordinator")
    application = enrolled[0]
    m1 = intake.program.modules[0]
    stamp = _stamp(client, intake)
    other = factories.make_user(role="coordinator")
    save_grid(load_roster(intake), {hours_key(application.id, m1.id): "5"}, other)
    db.session.commit()

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster",
                           data={"stamp": stamp, hours_key(application.id, m1.id): "8"})

    page = response.get_data(as_text=True)
    assert "Someone else saved results of this intake" in page
    assert f'name="{hours_key(application.id, m1.id)}" value="8"' in page
    assert eligibility(application).hours_credited == 0
    db.session.expire_all()
    assert db.session.scalar(select(ModuleResult.attended_hours)) == 5


def _enroll(intake, count):
    return [factories.make_application(teacher=factories.make_teacher(), intake=intake,
                                       status="enrolled") for _ in range(count)]


def test_the_roster_query_count_does_not_grow_with_the_teachers(client, db, login_as, program):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy
    login_as("coordinator")
    small = factories.make_intake(program, title="Small", capacity=40)
    large = factories.make_intake(program, title="Large", capacity=80)
    for intake, count in ((small, 2), (large, 60)):
        for application in _enroll(intake, count):
            save_grid(load_roster(intake), cells_for(application, program.modules), None)
    db.session.commit()

    counts = {}
    for intake in (small, large):
        with statements_sent() as statements:
            response = client.get(f"/progress/manage/intakes/{intake.id}/roster")
        assert response.status_code == 200
        counts[intake.title] = len(statements)

    assert counts["Small"] == counts["Large"], counts


def test_a_large_roster_comes_in_pages_saved_one_at_a_time(client, db, login_as, program):
    login_as("coordinator")
    intake = factories.make_intake(program, title="Large", capacity=80)
    enrolled = _enroll(intake, ROSTER_PER_PAGE + 7)
    db.session.commit()
    by_name = load_roster(intake).applications  # the order the pages follow
    first_page, second_page = by_name[:ROSTER_PER_PAGE], by_name[ROSTER_PER_PAGE:]
    url = f"/progress/manage/intakes/{intake.id}/roster"

    page_one = client.get(url).get_data(as_text=True)
    page_two = client.get(url + "?page=2").get_data(as_text=True)

    assert len(enrolled) == ROSTER_PER_PAGE + 7
    assert f"Teachers 1–{ROSTER_PER_PAGE} of {ROSTER_PER_PAGE + 7}" in page_one
    assert f'name="{final_key(first_page[0].id)}"' in page_one
    assert f'name="{final_key(second_page[0].id)}"' not in page_one
    assert f"Teachers {ROSTER_PER_PAGE + 1}–{ROSTER_PER_PAGE + 7} of" in page_two
    assert f'name="{final_key(second_page[-1].id)}"' in page_two
    assert 'rel="prev"' in page_two
    assert f'href="/progress/manage/intakes/{intake.id}/roster?page=1"' in page_two

    cells = cells_for(second_page[0], program.modules)
    cells["stamp"] = _stamp_of(page_two)
    response = client.post(url + "?page=2", data=cells)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/roster?page=2")
    assert eligibility(second_page[0]).eligible
    assert _count(db, ModuleResult) == len(program.modules)  # page one's teachers untouched
    assert client.get(url + "?page=99").status_code == 200  # past the end: the last page


def _stamp_of(page: str) -> str:
    return re.search(r'name="stamp"[^>]*value="(\d+)"', page).group(1)


def test_saving_the_grid_takes_the_same_queries_for_any_size(db, program, coordinator):
    counts = {}
    for title, count in (("Small", 2), ("Large", 30)):
        intake = factories.make_intake(program, title=title, capacity=40)
        applications = _enroll(intake, count)
        cells = {}
        for application in applications:
            cells.update(cells_for(application, program.modules))
        roster = load_roster(intake)
        with statements_sent() as statements:
            save_grid(roster, cells, coordinator)
        counts[title] = len(statements)

    assert counts["Small"] == counts["Large"], counts
def test_teachers_cannot_open_the_roster(client, login_as, intake):
    login_as("teacher")

    assert client.get(f"/progress/manage/intakes/{intake.id}/roster").status_code == 403
    assert client.post(f"/progress/manage/intakes/{intake.id}/roster").status_code == 403


def test_an_expired_form_keeps_what_was_typed_and_writes_nothing(make_app, db, intake, enrolled):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    coordinator = factories.make_user(role="coordinator")
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = coordinator.get_id()
        session["_fresh"] = True
    m1 = intake.program.modules[0]
    key = hours_key(enrolled[0].id, m1.id)

    response = client.post(f"/progress/manage/intakes/{intake.id}/roster",
                           data={"csrf_token": "stale", key: "7"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This form had expired" in page
    assert f'name="{key}" value="7"' in page
    assert _count(db, ModuleResult) == 0


def test_a_name_with_markup_is_printed_as_text_in_the_rows(client, login_as, intake):
    """The rows are written in Python (progress/roster_cells.py): a name made of markup and
    template syntax shows as the characters typed, in the link, the labels and the badge."""
    hostile = '<script>alert(1)</script>{{ 7*7 }}"'
    factories.make_application(
        teacher=factories.make_teacher(family_name_latin=hostile, given_name_latin="Li",
                                       family_name_zh="<b>王</b>"),
        intake=intake, status="enrolled")
    login_as("coordinator")

    # the passport form is written FAMILY Given: compared without case
    page = client.get(f"/progress/manage/intakes/{intake.id}/roster").get_data(
        as_text=True).lower()

    assert "<script>alert(1)" not in page and "<b>王</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in page
    assert "&lt;b&gt;王&lt;/b&gt;" in page
    assert "49" not in page.split("<tbody>")[1].split("</tbody>")[0]
