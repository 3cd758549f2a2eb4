"""Eligibility and the ledger read from the database, with the program's rules."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_portal.progress import records
from course_portal.progress.grid import (
    final_key,
    hours_key,
    load_roster,
    outcome_key,
    save_grid,
    score_key,
)
from course_portal.progress.services import (
    RESULT_PASSED,
    RESULT_PENDING,
    build_ledger,
    eligibility,
    hours_ledger,
    judge,
    rules_for,
)
from tests.progress.helpers import cells_for


def test_nothing_recorded_yet_is_pending_with_every_reason(enrolled):
    verdict = eligibility(enrolled[0])

    assert not verdict.eligible
    assert verdict.result == RESULT_PENDING
    assert verdict.hours_credited == 0
    assert verdict.hours_total == 40
    assert verdict.reasons[0] == "attendance 0% of 80% required"
    assert "module 2 not assessed yet" in verdict.reasons
    assert verdict.reasons[-1] == "final assessment not taken yet"


def test_default_rules_are_eighty_percent_and_pass_fail(program):
    rules = rules_for(program)

    assert rules.min_attendance_percent == 80
    assert rules.min_attendance_share == 0.8
    assert rules.final_kind == "pass_fail"


def test_everything_passed_is_eligible_with_the_hours(db, intake, enrolled, coordinator):
    application = enrolled[0]
    modules = intake.program.modules
    save_grid(load_roster(intake), cells_for(application, modules, hours=[8, 10, 16]),
              actor=coordinator)

    verdict = eligibility(application)
    ledger = hours_ledger(application)

    assert verdict.eligible, verdict.reasons
    assert verdict.result == RESULT_PASSED
    assert verdict.hours_credited == 34 == ledger.hours_credited
    assert verdict.attendance_share == 34 / 40
    assert [line.credited for line in ledger.lines] == [8, 10, 16]


def test_a_scored_final_is_judged_against_the_pass_mark(db, intake, enrolled, coordinator):
    records.save_rules(intake.program, coordinator, min_attendance_percent=50,
                       final_kind="score", max_score=100, pass_mark=60)
    application = enrolled[0]
    cells = cells_for(application, intake.program.modules)
    cells[score_key(application.id)] = "59"
    save_grid(load_roster(intake), cells, actor=coordinator)

    assert eligibility(application).reasons == ["final assessment not passed"]

    save_grid(load_roster(intake), {score_key(application.id): "60"}, actor=coordinator)

    assert eligibility(application).eligible
    # lowering the pass mark later judges the same score again
    records.save_rules(intake.program, coordinator, min_attendance_percent=50,
                       final_kind="score", max_score=100, pass_mark=70)
    assert not eligibility(application).eligible


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_what_the_grid_stores_is_judged_as_the_rules_say(db, intake, enrolled, coordinator, data):
    application = enrolled[0]
    modules = intake.program.modules
    hours = [data.draw(st.integers(0, m.hours)) for m in modules]
    outcomes = [data.draw(st.sampled_from(["pending", "passed", "failed"])) for _ in modules]
    final = data.draw(st.sampled_from(["pending", "passed", "failed"]))
    cells = {}
    for module, given_hours, outcome in zip(modules, hours, outcomes, strict=True):
        cells[hours_key(application.id, module.id)] = str(given_hours)
        cells[outcome_key(application.id, module.id)] = outcome
    cells[final_key(application.id)] = final

    save_grid(load_roster(intake), cells, coordinator)

    expected = judge(build_ledger(
        [(m.id, m.position, m.hours, m.title_en) for m in modules],
        {m.id: (h, o) for m, h, o in zip(modules, hours, outcomes, strict=True)},
        final_outcome=final))
    assert eligibility(application) == expected
