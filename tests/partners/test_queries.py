"""The liaison's list costs the same number of queries at 5 and at 100 rows."""

from __future__ import annotations

from course_portal.extensions import db as _db
from course_portal.progress.models import FinalAssessment, ModuleResult, Outcome
from tests import factories
from tests.partners.helpers import make_liaison, sign_in
from tests.queries import statements_sent


def _rows(partner, count: int) -> None:
    """count applications of the partner's teachers over two programs, half of them enrolled
    with results, with a teacher of another university for each."""
    programs = [factories.make_program(hours=(8, 12)), factories.make_program(hours=(10, 10, 4))]
    intakes = [factories.make_intake(program, capacity=200) for program in programs]
    other = factories.make_partner()
    for n in range(count):
        intake = intakes[n % 2]
        application = factories.make_application(
            teacher=factories.make_teacher(partner=partner), intake=intake,
            status=("submitted", "enrolled")[n % 2], complete=False)
        factories.make_application(teacher=factories.make_teacher(partner=other), intake=intake,
                                   status="enrolled", complete=False)
        if application.status == "enrolled":
            for module in intake.program.modules:
                _db.session.add(ModuleResult(application_id=application.id, module_id=module.id,
                                             attended_hours=module.hours,
                                             outcome=Outcome.PASSED))
            _db.session.add(FinalAssessment(application_id=application.id,
                                            outcome=Outcome.PASSED))
    _db.session.commit()


def _queries(client, partner, count: int, url: str) -> int:
    _rows(partner, count)
    client.get(url)  # warm: the session's user is loaded
    with statements_sent(select_only=True) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_the_list_costs_the_same_queries_at_5_and_100_rows(client, db):
    partner = factories.make_partner()
    sign_in(client, make_liaison(partner))

    small = _queries(client, partner, 5, "/partner/")
    large = _queries(client, partner, 95, "/partner/")  # 100 teachers, 4 pages of 25

    assert small == large


def test_the_export_costs_the_same_queries_at_5_and_100_rows(client, db):
    partner = factories.make_partner()
    sign_in(client, make_liaison(partner))

    small = _queries(client, partner, 5, "/partner/teachers.csv")
    large = _queries(client, partner, 95, "/partner/teachers.csv")

    assert small == large
