"""Fixtures for the hostile-input suite: one app per module, a client, signing in any role.

Hundreds of small requests: building an app and emptying every table for each one would
cost more than the requests (a TRUNCATE on PostgreSQL alone is ~50 ms). Each test creates the
rows it needs with fresh names, so the tests of a module share one app and one database and
the tables are emptied once, when the module is done.
"""

from __future__ import annotations

import pytest

from course_portal import create_app
from course_portal.extensions import db as _db
from tests import factories
from tests.conftest import FreshContextClient, base_config, empty_tables


@pytest.fixture(scope="module")
def hostile_app(database_url, _schema, tmp_path_factory):
    """The app of this module, inside an application context; its rows go at the end."""
    instance = tmp_path_factory.mktemp("hostile-instance")
    config = base_config(database_url, instance)
    config["UPLOAD_FOLDER"] = str(instance / "uploads")
    application = create_app(config)
    application.test_client_class = FreshContextClient
    with application.app_context():
        yield application
        empty_tables()
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def web(hostile_app):
    """A fresh test client (no cookies) of the module's app."""
    yield hostile_app.test_client()
    _db.session.rollback()


def sign_in(client, user) -> None:
    """Put the user's session on the client, as a sign-in (with its second step) would."""
    from course_portal.accounts.session import start_clock

    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        start_clock(session)


def make_role(role: str | None):
    """A committed user of the role (a complete teacher profile for teachers), or None."""
    if role is None:
        return None
    if role == "teacher":
        user = factories.make_teacher()
    else:
        user = factories.make_user(role=role)
    _db.session.commit()
    return user
