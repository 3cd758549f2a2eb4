"""Fixtures: app, db, client, login_as; SQLite by default, PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from course_portal import create_app
from course_portal.extensions import db as _db
from tests import factories

# the developer's own settings must not leak into the suite
for _name in [n for n in os.environ if n.startswith("COURSE_PORTAL_")]:
    del os.environ[_name]

#: a cheap scrypt for tests; production uses werkzeug's default cost
TEST_PASSWORD_HASH = "scrypt:1024:8:1"


def base_config(database_url: str, instance_path: Path) -> dict:
    """Settings shared by every test app."""
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "OUTBOX_DISPATCH": "off",
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
        "MAIL_SERVER": "",
        "BASE_URL": "http://portal.test",
        "SERVER_NAME": None,
    }


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests made while a test holds an app context share its `g`, so the
    signed-in user and the language of one request would leak into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """TEST_DATABASE_URL (PostgreSQL in CI), or a SQLite file for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal.sqlite3")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, or skip the Redis-backed test when it is not set."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it)")
    return url


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Upgrade the test database to head once per run, through the real migrations."""
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        _wipe_schema()
        upgrade()
        _db.engine.dispose()
    return True


def _wipe_schema() -> None:
    """Drop everything a previous run left, so the upgrade starts from empty."""
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        from sqlalchemy import MetaData

        meta = MetaData()
        meta.reflect(bind=engine)
        meta.drop_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _empty_tables() -> None:
    """Remove every row, keeping the schema; committed rows from threads go too."""
    _db.session.remove()
    tables = [t for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def make_app(database_url, _schema, tmp_path):
    """Build an app with extra settings; every app built is cleaned up after the test."""
    built = []

    def _make(**overrides):
        config = base_config(database_url, tmp_path / "instance")
        config.update(overrides)
        application = create_app(config)
        application.test_client_class = FreshContextClient
        built.append(application)
        return application

    yield _make
    for application in built:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
    if built:
        with built[0].app_context():
            _empty_tables()
            _db.engine.dispose()


@pytest.fixture
def app(make_app):
    """The application under test, inside an application context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def db(app):
    """The Flask-SQLAlchemy handle, bound to the test database."""
    return _db


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def login_as(client, db):
    """Sign a new user of the given role in on the test client and return the user.

    The session is fully signed in: staff have two-step sign-in set up (see make_user) and the
    staff session clock starts now.
    """
    from course_portal.accounts.session import start_clock

    def _login(role: str = "teacher", **kwargs):
        user = factories.make_user(role=role, **kwargs)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            start_clock(session)
        return user

    return _login


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port, stopped after the test."""
    from tests.smtp import SMTPServer

    server = SMTPServer()
    server.start()
    yield server
    server.stop()
