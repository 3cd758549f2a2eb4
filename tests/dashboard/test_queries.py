"""The dashboard costs the same number of queries at 5 and at 100 applications."""

from __future__ import annotations

from course_portal.extensions import db as _db
from tests import factories
from tests.queries import statements_sent


def _applications(count: int) -> None:
    program = factories.make_program()
    intake = factories.make_intake(program, capacity=200)
    partners = [factories.make_partner() for _ in range(3)]
    for n in range(count):
        teacher = factories.make_teacher(partner=partners[n % 3])
        factories.make_application(teacher=teacher, intake=intake,
                                   status=("submitted", "enrolled", "completed")[n % 3],
                                   complete=False)
    _db.session.commit()


def _queries(client, app, count: int) -> int:
    _applications(count)
    client.get("/dashboard")  # warm: the session's user is loaded
    with statements_sent(select_only=True) as statements:
        assert client.get("/dashboard").status_code == 200
    return len(statements)


def test_same_query_count_at_5_and_100(client, app, db, login_as):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy
    login_as("coordinator")
    small = _queries(client, app, 5)
    large = _queries(client, app, 100 - 5)  # a second program and intake, 100 in all
    assert small == large


def _overview_queries(client, count: int) -> int:
    from course_portal.progress.models import ModuleResult, Outcome

    program = factories.make_program(hours=(8, 12))
    intake = factories.make_intake(program, capacity=200)
    for _ in range(count):
        application = factories.make_application(intake=intake, status="enrolled",
                                                 complete=False)
        for module in program.modules:
            _db.session.add(ModuleResult(application_id=application.id, module_id=module.id,
                                         attended_hours=4, outcome=Outcome.PASSED))
    _db.session.commit()
    url = f"/dashboard/intakes/{intake.id}"
    client.get(url)
    with statements_sent(select_only=True) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_intake_overview_query_count_does_not_grow_with_teachers(client, db, login_as):
    login_as("coordinator")
    assert _overview_queries(client, 3) == _overview_queries(client, 30)
