"""Fixtures: app, db, client, login_as; SQLite by default, PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, make_url, text

from course_portal import create_app
from course_portal.extensions import db as _db
from tests import factories

# the developer's own settings must not leak into the suite
for _name in [n for n in os.environ if n.startswith("COURSE_PORTAL_")]:
    del os.environ[_name]

#: a cheap scrypt for tests; production uses werkzeug's default cost
TEST_PASSWORD_HASH = "scrypt:1024:8:1"


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per test run, not once per app.

    Almost every test builds an app, and werkzeug compiles Python code for each of the app's
    ~80 rules as it is added: that was two thirds of create_app()'s time. A builder depends
    only on the rule's parsed parts and defaults (it receives the rule itself as an argument),
    so the same rule in the next app can reuse it. A server builds its app once, so the
    portal itself does not need this.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return  # another werkzeug: leave it as it is
    builders: dict = {}

    def shared(self, append_unknown: bool = True):
        key = (
            self.rule,
            tuple(self._trace),
            tuple(sorted((self.defaults or {}).items(), key=lambda item: item[0])),
            tuple((name, type(conv).__name__) for name, conv in self._converters.items()),
            append_unknown,
        )
        try:
            return builders[key]
        except KeyError:
            builders[key] = builder = compile_builder(self, append_unknown)
            return builder
        except TypeError:  # a default that cannot be a key
            return compile_builder(self, append_unknown)

    shared.shared = True
    Rule._compile_builder = shared


_share_url_builders()


class _TemplateCodeCache(BytecodeCache):
    """Compiled templates kept in memory for the whole run, shared by every test app.

    Each app has its own Jinja environment, so without this every test compiled again each
    template it rendered. The key holds the template's source checksum, so an edited template
    is compiled afresh.
    """

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _TemplateCodeCache()}


#: the test apps' key for secrets at rest (core.encryption); 32 bytes, base64url
TEST_ENCRYPTION_KEY = "dGVzdC1rZXktZm9yLWVuY3J5cHRpb24tYXQtcmVzdCE"


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
        # a fixed key keeps what a test stored readable by every app the test builds
        "ENCRYPTION_KEYS": {"test-1": TEST_ENCRYPTION_KEY},
    }


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests made while a test holds an app context share its `g`, so the
    signed-in user and the language of one request would leak into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def worker_id() -> str:
    """This pytest-xdist worker's name ("gw0", "gw1", ...), or "" when tests run in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """TEST_DATABASE_URL (PostgreSQL in CI), or a SQLite file for this run.

    With pytest-xdist workers (make test runs one per core), each gets a database of its own
    on the same server, named after TEST_DATABASE_URL's with the worker's suffix ("_gw0"), and
    drops it at the end.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal.sqlite3")
        return
    if not worker_id():
        yield url
        return
    with scratch_database(url, worker_id()) as own:
        yield own


@contextmanager
def scratch_database(url: str, suffix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the one at url, dropped afterwards."""
    server = make_url(url).set(drivername="postgresql+psycopg")
    name = f"{server.database}_{suffix}"
    maintenance = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # a commit need not wait for the disk here: what other connections see is the same,
        # and the suite does not survive a server crash anyway
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, or skip the Redis-backed test when it is not set.

    Each pytest-xdist worker takes a Redis database of its own, counting down from the URL's
    (15, 14, 13, ...): a job one worker queues is never taken by another's RQ worker.
    """
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it)")
    if not worker_id():
        return url
    parts = urlsplit(url)
    first = int(parts.path.strip("/") or 0)
    own = (first - int(worker_id().removeprefix("gw"))) % 16
    return urlunsplit(parts._replace(path=f"/{own}"))


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Upgrade the test database to head once per run, through the real migrations."""
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        wipe_schema()
        upgrade()
        _db.engine.dispose()
    return True


def wipe_schema() -> None:
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


def empty_tables() -> None:
    """Remove every row, keeping the schema; committed rows from threads go too.

    Ids start again at 1 on both databases, as after a fresh upgrade. On PostgreSQL this is
    one round trip of DELETEs and sequence restarts: TRUNCATE of every table cost about
    0.4 s per test here, DELETE from a test's few rows about 3 ms.
    """
    from course_portal.dashboard.tallies import TALLY_TABLES

    _db.session.remove()
    # the tallies last: deleting the other tables' rows fires the triggers that write to them
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in TALLY_TABLES]
    tables += [_db.metadata.tables[name] for name in TALLY_TABLES]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            sequences = conn.scalars(text(
                "SELECT quote_ident(sequencename) FROM pg_sequences "
                "WHERE schemaname = current_schema()")).all()
            conn.exec_driver_sql("; ".join(
                [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608 (our own table names)
                + [f"SELECT setval('{name}', 1, false)" for name in sequences]))
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
            empty_tables()
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


@pytest.fixture
def count_queries(app):
    """The suite's statement counter (tests/queries.py): `with count_queries() as sent:`."""
    from tests.queries import statements_sent

    return statements_sent
