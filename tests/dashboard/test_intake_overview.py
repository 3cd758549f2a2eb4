"""The intake overview: hours of every teacher, who is at risk, the dates ahead."""

from __future__ import annotations

from datetime import timedelta

from course_portal.core.clock import portal_today
from course_portal.dashboard import services
from course_portal.progress.models import ModuleResult, ModuleSchedule, Outcome
from tests import factories


def _running_intake(db):
    """A 40-hour program half taught: module 1 (8 h) and 2 (12 h) past, module 3 (20 h) ahead."""
    today = portal_today()
    program = factories.make_program(code="IS", hours=(8, 12, 20))
    intake = factories.make_intake(
        program, title="Autumn 2026", applications_open_on=today - timedelta(days=100),
        applications_close_on=today - timedelta(days=70),
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30))
    m1, m2, m3 = program.modules
    for module, start, end in ((m1, -60, -40), (m2, -39, -10), (m3, 5, 30)):
        db.session.add(ModuleSchedule(intake_id=intake.id, module_id=module.id,
                                      starts_on=today + timedelta(days=start),
                                      ends_on=today + timedelta(days=end)))
    good = factories.make_application(
        teacher=factories.make_teacher(family_name_zh="陈", given_name_zh="静",
                                       family_name_latin="Chen", given_name_latin="Jing"),
        intake=intake, status="enrolled")
    behind = factories.make_application(
        teacher=factories.make_teacher(family_name_zh="赵", given_name_zh="雷",
                                       family_name_latin="Zhao", given_name_latin="Lei"),
        intake=intake, status="enrolled")
    for application, hours in ((good, (8, 12)), (behind, (8, 4))):
        for module, attended in zip((m1, m2), hours, strict=True):
            db.session.add(ModuleResult(application_id=application.id, module_id=module.id,
                                        attended_hours=attended, outcome=Outcome.PASSED))
    db.session.commit()
    return intake, good, behind


def test_at_risk_is_behind_the_rule_for_modules_past(app, db):
    intake, good, behind = _running_intake(db)
    overview = services.intake_overview(intake, portal_today())
    rows = {row.application.id: row for row in overview.rows}
    assert rows[good.id].ledger.hours_credited == 20
    assert rows[good.id].ledger.hours_total == 40
    assert not rows[good.id].at_risk
    # 12 of 20 hours past: 60% < 80%
    assert rows[behind.id].at_risk
    assert rows[behind.id].standing.attendance_so_far == 60
    assert [row.application.id for row in overview.at_risk] == [behind.id]
    kinds = [kind for _, kind, _ in overview.upcoming]
    assert kinds == ["module_starts", "intake_ends", "module_ends"]  # the same day: by kind


def test_overview_page(client, login_as, db):
    intake, good, behind = _running_intake(db)
    login_as("coordinator")
    html = client.get(f"/dashboard/intakes/{intake.id}").get_data(as_text=True)
    assert "20 of 40 hours" in html
    assert "1 teacher is behind the rule of 80% attendance" in html
    assert "ZHAO Lei" in html and "At risk" in html
    assert client.get("/dashboard/intakes/999999").status_code == 404


def test_after_the_intake_unscheduled_modules_count_as_past(app, db):
    from tests.dashboard.helpers import make_data_set

    data = make_data_set()
    absent = factories.make_application(intake=data.finished, status="not_completed")
    db.session.commit()
    overview = services.intake_overview(data.finished, portal_today())
    assert [row.application.id for row in overview.at_risk] == [absent.id]
    assert len(overview.rows) == 4
