"""On PostgreSQL, the review queue's and the roster's queries read applications and results by index."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bench.generate import generate
from course_portal.catalog.models import Intake
from course_portal.enrollment import queue
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db
from course_portal.progress import grid
from tests.queries import statements_sent

#: 3,000 applications, 1,500 teachers, about 30,000 module results
SCALE = 0.15
#: the biggest tables: with real statistics, a filtered query must not read them whole
BIG = ("applications", "module_results")
#: tables that grow with every intake: an index must be able to serve the filter. On a small
#: table PostgreSQL rightly prefers a full scan (final_assessments at this scale), so these are
#: checked with enable_seqscan off, which falls back to a Seq Scan only when no index fits.
GROWING = (*BIG, "final_assessments")


@pytest.fixture
def generated(database_url, make_app):
    """A modest generated data set, analysed; the make_app fixture empties the tables after."""
    if not database_url.startswith("postgresql"):
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set TEST_DATABASE_URL); "
                    "SQLite's planner says little about how PostgreSQL will run the query")
    data = generate(database_url, SCALE, log=lambda _message: None)
    application = make_app()
    with application.app_context():
        yield data


def captured(work) -> list[tuple[str, object]]:
    """The SQL statements (with their parameters) that work() sends to the database."""
    with statements_sent(select_only=True, with_parameters=True) as statements:
        work()
    return statements


def plan(statement: str, parameters, seqscan: bool = True) -> str:
    """PostgreSQL's plan of the statement, as text."""
    connection = db.session.connection()
    connection.exec_driver_sql(f"SET enable_seqscan = {'on' if seqscan else 'off'}")
    try:
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        return "\n".join(row[0] for row in rows)
    finally:
        connection.exec_driver_sql("RESET enable_seqscan")


def seq_scans(plan_text: str, tables) -> set[str]:
    """Those of the tables that the plan reads in full."""
    return {t for t in re.findall(r"Seq Scan on (\w+)", plan_text) if t in tables}


def assert_indexed(statements) -> None:
    assert statements, "no query was captured"
    for statement, parameters in statements:
        text = plan(statement, parameters)
        assert not seq_scans(text, BIG), f"full scan in\n{statement}\n{text}"
        text = plan(statement, parameters, seqscan=False)
        assert not seq_scans(text, GROWING), f"no index serves\n{statement}\n{text}"


def test_review_queue_uses_indexes(generated):
    # the default view (what needs a decision) and one intake's applications, as coordinators use it
    intake_id = db.session.scalar(
        select(Application.intake_id).where(Application.status == ApplicationStatus.SUBMITTED)
    )
    for filters in (queue.QueueFilters(), queue.QueueFilters(intake_id=intake_id),
                    queue.QueueFilters(status=ApplicationStatus.APPROVED.value)):
        assert_indexed(captured(lambda f=filters: queue.queue_page(f)))


def test_roster_uses_indexes(generated):
    intake = db.session.get(Intake, generated.roster_intake_id)
    statements = captured(lambda: grid.load_roster(intake))
    assert any("module_results" in s for s, _ in statements)
    assert_indexed(statements)


def test_the_default_queue_walks_the_partial_index_of_what_needs_a_decision(generated):
    # pending applications are the newest: read through the submitted_at index, oldest first,
    # PostgreSQL went through nearly every other application before it found a page of them
    statements = captured(lambda: queue.queue_page(queue.QueueFilters()))
    (page_query,) = [(s, p) for s, p in statements if "ORDER BY" in s and "LIMIT" in s]
    assert "ix_applications_to_review" in plan(*page_query)
