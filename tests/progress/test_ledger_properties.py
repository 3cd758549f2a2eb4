"""Property-based tests of the hours ledger and eligibility rules (no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from course_portal.progress.models import Outcome
from course_portal.progress.services import (
    RESULT_NOT_PASSED,
    RESULT_PASSED,
    RESULT_PENDING,
    build_ledger,
    judge,
)

outcomes = st.sampled_from(list(Outcome))


@st.composite
def programs(draw, min_modules=0):
    """Modules with hours, results with any attended hours (even out of range), and rules."""
    hours = draw(st.lists(st.integers(1, 80), min_size=min_modules, max_size=10))
    modules = [(i + 1, i + 1, h, f"Module {i + 1}") for i, h in enumerate(hours)]
    results = {
        module_id: (draw(st.integers(-20, 120)), draw(outcomes))
        for module_id, *_ in modules
        if draw(st.booleans())
    }
    final = draw(outcomes)
    percent = draw(st.integers(0, 100))
    return modules, results, final, percent


def ledger_of(program):
    modules, results, final, percent = program
    return build_ledger(modules, results, final_outcome=final, min_attendance_percent=percent)


@given(programs())
def test_credited_hours_stay_between_zero_and_the_total(program):
    ledger = ledger_of(program)

    assert 0 <= ledger.hours_credited <= ledger.hours_total
    assert 0 <= ledger.hours_attended <= ledger.hours_total
    assert ledger.hours_credited <= ledger.hours_attended
    for line in ledger.lines:
        assert 0 <= line.credited <= line.attended <= line.hours
    assert 0.0 <= ledger.attendance_share <= 1.0


@given(programs(min_modules=1), st.data())
def test_more_attended_hours_never_credit_less(program, data):
    modules, results, final, percent = program
    module_id = data.draw(st.sampled_from([m[0] for m in modules]))
    attended, outcome = results.get(module_id, (0, Outcome.PENDING))
    more = dict(results)
    more[module_id] = (attended + data.draw(st.integers(1, 50)), outcome)

    before = ledger_of(program)
    after = ledger_of((modules, more, final, percent))

    assert after.hours_credited >= before.hours_credited
    assert after.hours_attended >= before.hours_attended
    assert after.attendance_share >= before.attendance_share
    # more attendance never takes eligibility away
    assert judge(after).eligible or not judge(before).eligible


@given(programs())
def test_eligible_exactly_when_the_rules_hold(program):
    modules, results, final, percent = program
    ledger = ledger_of(program)
    total = sum(h for _, _, h, _ in modules)
    attended = sum(max(0, min(results.get(m, (0, None))[0], h)) for m, _, h, _ in modules)
    all_passed = all(results.get(m, (0, Outcome.PENDING))[1] == Outcome.PASSED
                     for m, *_ in modules)
    rules_hold = (total > 0 and attended * 100 >= percent * total and all_passed
                  and final == Outcome.PASSED)

    verdict = judge(ledger)

    assert verdict.eligible == rules_hold
    assert (verdict.reasons == []) == verdict.eligible
    assert (verdict.result == RESULT_PASSED) == verdict.eligible
    assert verdict.hours_credited == ledger.hours_credited
    assert verdict.hours_total == total


@given(programs())
def test_anything_failed_means_not_passed(program):
    modules, results, final, _percent = program
    verdict = judge(ledger_of(program))
    failed = final == Outcome.FAILED or any(o == Outcome.FAILED for _, o in results.values())

    if failed:
        assert verdict.result == RESULT_NOT_PASSED
    assert verdict.result in {RESULT_PASSED, RESULT_NOT_PASSED, RESULT_PENDING}


def test_reasons_read_as_people_say_them():
    modules = [(1, 1, 40, "A"), (2, 2, 40, "B"), (3, 3, 20, "C")]
    results = {1: (40, Outcome.PASSED), 2: (22, Outcome.PASSED), 3: (0, Outcome.FAILED)}

    verdict = judge(build_ledger(modules, results, final_outcome=Outcome.FAILED))

    assert verdict.reasons == [
        "attendance 62% of 80% required",
        "module 3 not passed",
        "final assessment not passed",
    ]
    assert verdict.result == RESULT_NOT_PASSED
    assert verdict.hours_credited == 62
    assert verdict.attendance_share == 0.62


def test_attendance_is_not_rounded_up_to_the_rule():
    # 79.9% is not 80%: the comparison is exact, the shown figure rounded down
    modules = [(1, 1, 1000, "A")]
    verdict = judge(build_ledger(modules, {1: (799, Outcome.PASSED)},
                                 final_outcome=Outcome.PASSED))

    assert not verdict.eligible
    assert verdict.reasons == ["attendance 79% of 80% required"]


@given(st.text(max_size=40), st.integers(1, 200))
def test_any_typed_hours_are_a_valid_number_or_a_message(typed, module_hours):
    from course_portal.progress.grid import parse_hours

    value, message = parse_hours(typed, module_hours)

    assert (value is None) != (message is None)
    if value is not None:
        assert 0 <= value <= module_hours


@given(programs())
def test_the_roster_s_quick_verdict_is_the_full_one_without_its_words(program):
    """The roster judges without reasons; the result, the hours and eligibility never differ."""
    ledger = ledger_of(program)
    full, quick = judge(ledger), judge(ledger, with_reasons=False)

    assert quick.reasons == []
    assert (quick.eligible, quick.result, quick.hours_credited, quick.hours_total) == (
        full.eligible, full.result, full.hours_credited, full.hours_total)
    assert full.eligible == (full.reasons == [])
