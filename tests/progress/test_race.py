"""Two coordinators save the same roster at once: one wins, the other is told, nothing is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from course_portal.extensions import db
from course_portal.progress.grid import hours_key, load_roster, save_grid
from course_portal.progress.models import ModuleResult, ResultChange
from tests import factories
from tests.enrollment.helpers import run_at_once, tally


@pytest.fixture
def race_app(make_app):
    """An app whose pool has a connection for each thread."""
    application = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 6, "max_overflow": 2})
    with application.app_context():
        yield application


def test_two_saves_from_the_same_page_one_wins(race_app):
    program = factories.make_program(hours=(8, 12))
    intake = factories.make_intake(program, capacity=5)
    application = factories.make_application(intake=intake, status="enrolled")
    coordinators = [factories.make_user(role="coordinator") for _ in range(2)]
    db.session.commit()
    module_id = program.modules[0].id
    ids = (intake.id, application.id, [c.id for c in coordinators])
    db.session.remove()

    def job(index):
        def run(start):
            from course_portal.accounts.models import User
            from course_portal.catalog.models import Intake

            intake = db.session.get(Intake, ids[0])
            roster = load_roster(intake)
            actor = db.session.get(User, ids[2][index])
            start()
            save_grid(roster, {hours_key(ids[1], module_id): str(5 + index)}, actor,
                      stamp=roster.stamp)
        return run

    outcomes = run_at_once(race_app, [job(0), job(1)])

    counts = tally(outcomes)
    assert counts.get("ok") == 1, counts
    if db.engine.dialect.name == "postgresql":
        # the intake row lock queues the second save, which then sees the first one's history
        assert counts == {"ok": 1, "ProgressError": 1}
    assert db.session.scalar(select(func.count()).select_from(ModuleResult)) == 1
    [change] = db.session.scalars(select(ResultChange)).all()
    stored = db.session.scalar(select(ModuleResult.attended_hours))
    assert change.new_value == str(stored)
