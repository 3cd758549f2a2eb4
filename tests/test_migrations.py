"""The migrations build exactly the models' schema on an empty database, and take it away again.

Runs on the test database's dialect: SQLite by default, PostgreSQL when TEST_DATABASE_URL is
set. Each test gets its own empty database, so the shared test database is never touched.
"""

from __future__ import annotations

from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect, text

from course_portal import create_app
from course_portal.extensions import db
from tests.conftest import base_config, scratch_database


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A new, empty database of the test dialect, dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    with scratch_database(database_url, "migrations") as url:
        yield url


@pytest.fixture
def migration_app(empty_database_url, tmp_path):
    """An app on the empty database, inside an app context."""
    app = create_app(base_config(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_of_an_empty_database_gives_exactly_the_models_schema(migration_app):
    assert table_names() == set()

    upgrade()

    assert table_names() == set(db.metadata.tables) | {"alembic_version"}
    diff = differences()
    assert diff == [], "the migrations and the models differ:\n" + pformat(diff)


def test_flask_db_check_finds_nothing_to_migrate(migration_app):
    upgrade()
    # the same comparison `flask db migrate` makes, through migrations/env.py
    check()  # exits when autogenerate would write a revision


def test_check_constraints_reach_the_database(migration_app):
    # autogenerate does not compare CHECK constraints: look for each one by name
    upgrade()
    inspector = inspect(db.engine)
    missing = []
    for table in db.metadata.sorted_tables:
        expected = {
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint) and c.name
        }
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        missing += [f"{table.name}.{name}" for name in sorted(expected - present)]
    assert missing == []


def test_the_migrations_have_one_head_and_upgrade_reaches_it(migration_app):
    upgrade()
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()

    assert len(heads) == 1, f"several heads {heads}: merge them (flask db merge heads)"
    assert set(current) == set(heads)


def test_downgrade_to_base_leaves_no_tables_and_upgrade_works_again(migration_app):
    upgrade()

    downgrade(revision="base")

    assert table_names() - {"alembic_version"} == set()

    upgrade()

    assert table_names() == set(db.metadata.tables) | {"alembic_version"}
    assert differences() == []


def test_an_enum_column_refuses_a_value_outside_its_enum(app, db):
    from sqlalchemy.exc import IntegrityError

    from tests import factories

    user = factories.make_user()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE users SET role = 'superuser' WHERE id = :id"), {"id": user.id})
        db.session.flush()
    db.session.rollback()
