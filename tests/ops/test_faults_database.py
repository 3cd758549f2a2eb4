"""The database going away while requests are in flight: a retry page, nothing half-written, recovery.

The shared PostgreSQL server cannot be restarted from a test, so a restart is simulated the way
the application sees one: every backend connection of the test database is terminated
(pg_terminate_backend), while requests are running. On SQLite, the same promise is tested
with the fault SQLite has: another process holding the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import traceback
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import create_engine, event, func, select, text

from course_portal.core.outbox import OutboxMessage
from course_portal.enrollment.models import Application, ApplicationEvent, Document
from course_portal.extensions import db
from tests import factories
from tests.enrollment.test_pages_teacher import all_files, application_form, sign_in

#: what the retry page says, in English
RETRY_WORDS = "Please try again in a few seconds"

TERMINATE_OTHERS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def postgresql_only(app) -> None:
    """Skip on SQLite, saying so; on PostgreSQL (CI runs the suite there too) always run."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminating backends needs PostgreSQL; CI runs this on PostgreSQL")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stored_files() -> list[Path]:
    root = Path(current_app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def admin_engine():
    """A connection of its own, outside the app's pool, like a DBA's psql session."""
    return create_engine(db.engine.url, poolclass=None, isolation_level="AUTOCOMMIT")


def kill_every_other_backend() -> None:
    """What a database restart does to every connection the app holds, idle or not."""
    killer = admin_engine()
    try:
        with killer.connect() as admin:
            assert admin.scalar(TERMINATE_OTHERS) >= 1
    finally:
        killer.dispose()


@pytest.fixture
def fault_app(make_app):
    """The app with production's engine options (pre-ping on), inside an app context."""
    app = make_app()
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with app.app_context():
        yield app


@pytest.fixture
def setting(fault_app):
    """A signed-in teacher with a complete profile, and an open intake."""
    teacher = factories.make_teacher(email="zhao.lei@example.edu.cn")
    intake = factories.make_intake(factories.make_program())
    db.session.commit()
    client = fault_app.test_client()
    sign_in(client, teacher)
    ids = teacher.id, intake.id
    # the test's own session lets go of its connection, as a finished request does
    db.session.remove()
    return client, *ids


def assert_nothing_stored(teacher_id: int) -> None:
    db.session.remove()
    assert count(Application, Application.teacher_id == teacher_id) == 0
    assert count(Document) == 0
    assert count(ApplicationEvent) == 0
    assert count(OutboxMessage) == 0
    assert stored_files() == [], "a file of the failed request was left behind"


def assert_submitted_whole(teacher_id: int, intake_id: int) -> None:
    db.session.remove()
    application = db.session.scalar(select(Application).where(
        Application.teacher_id == teacher_id, Application.intake_id == intake_id))
    assert application.status == "submitted"
    assert len(application.documents) == 3
    assert count(ApplicationEvent, ApplicationEvent.application_id == application.id) >= 1
    assert len(stored_files()) == 3


def assert_retry_page(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert RETRY_WORDS in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_connection_killed_in_the_middle_of_an_application_leaves_nothing(fault_app, setting):
    """The backend dies between the application row and its documents: 503, no trace, recovery."""
    postgresql_only(fault_app)
    client, teacher_id, intake_id = setting
    killer = admin_engine()
    armed = {"on": True, "killed": 0}

    @event.listens_for(db.engine, "before_cursor_execute")
    def kill_own_backend(conn, cursor, statement, parameters, context, executemany):
        if armed["on"] and statement.lstrip().upper().startswith("INSERT INTO DOCUMENTS"):
            armed["on"] = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with killer.connect() as admin:
                armed["killed"] = admin.scalar(text("SELECT count(pg_terminate_backend(:pid))"),
                                               {"pid": pid})

    try:
        response = client.post(f"/intakes/{intake_id}/apply",
                                data=application_form("send", files=all_files()))
        assert armed["killed"] == 1, "the fault was not injected"
        assert_retry_page(response)
        assert_nothing_stored(teacher_id)

        # the same app, no restart: pressing the button again works
        response = client.post(f"/intakes/{intake_id}/apply",
                               data=application_form("send", files=all_files()))
        assert response.status_code == 302
        assert_submitted_whole(teacher_id, intake_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", kill_own_backend)
        killer.dispose()


def test_every_connection_killed_at_once_is_survived_without_a_restart(fault_app, setting):
    """As after a database restart: the idle pool is dead too; pre-ping replaces it."""
    postgresql_only(fault_app)
    client, teacher_id, intake_id = setting
    # leave connections in the pool that will all be dead
    for _ in range(3):
        assert client.get("/applications").status_code == 200
    kill_every_other_backend()

    response = client.post(f"/intakes/{intake_id}/apply",
                           data=application_form("send", files=all_files()))

    assert response.status_code == 302
    assert_submitted_whole(teacher_id, intake_id)


def test_kept_pages_are_served_again_right_after_every_connection_was_killed(fault_app, setting):
    """The page cache's own connections are not pinged: a dead one is replaced on the spot."""
    postgresql_only(fault_app)
    client, _teacher_id, _intake_id = setting
    for _ in range(3):
        assert client.get("/applications").status_code == 200
    kept = fault_app.extensions["page_cache"]
    hits = kept.hits
    assert hits >= 1
    kill_every_other_backend()

    response = client.get("/applications")

    assert response.status_code == 200
    assert kept.hits == hits + 1  # still from memory: the generation was read on a new connection


def test_requests_in_flight_while_backends_are_terminated_fail_cleanly(make_app):
    """Threads keep applying while every backend is terminated again and again.

    Each answer is a success or the retry page, never a 500; each application is there whole
    (submitted, three documents, their files) or not at all; pressing again always ends well.
    """
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 8})
    with app.app_context():
        postgresql_only(app)
        program = factories.make_program()
        intakes = [factories.make_intake(program) for _ in range(4)]
        teachers = [factories.make_teacher() for _ in range(4)]
        db.session.commit()
        intake_ids = [i.id for i in intakes]
        teacher_ids = [t.id for t in teachers]
        clients = []
        for teacher in teachers:
            client = app.test_client()
            sign_in(client, teacher)
            clients.append(client)
        db.session.remove()

    statuses: list[int] = []
    errors: list[str] = []

    def apply_everywhere(client) -> None:
        try:
            for intake_id in intake_ids:
                for _attempt in range(20):
                    response = client.post(f"/intakes/{intake_id}/apply",
                                           data=application_form("send", files=all_files()))
                    statuses.append(response.status_code)
                    if response.status_code == 503:
                        assert RETRY_WORDS in response.get_data(as_text=True)
                        continue  # the teacher presses the button again
                    assert response.status_code == 302, response.get_data(as_text=True)[:500]
                    break
                else:
                    raise AssertionError(f"intake {intake_id}: never accepted after the faults")
        except BaseException:  # noqa: BLE001 (reported by the test below)
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=apply_everywhere, args=(c,)) for c in clients]
    with app.app_context():
        killer = admin_engine()
    terminated = 0
    try:
        for thread in threads:
            thread.start()
        # four "restarts", a fraction of a second apart, while the teachers keep pressing
        for _restart in range(4):
            time.sleep(0.25)
            with killer.connect() as admin:
                terminated += admin.scalar(TERMINATE_OTHERS)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        killer.dispose()

    assert not any(t.is_alive() for t in threads), "a request hung"
    assert errors == [], errors[0]
    assert terminated > 0
    assert set(statuses) <= {302, 503}, statuses
    assert 503 in statuses, "no request was in flight when the backends were terminated"
    with app.app_context():
        applications = db.session.scalars(select(Application)).all()
        assert sorted((a.teacher_id, a.intake_id) for a in applications) == sorted(
            (t, i) for t in teacher_ids for i in intake_ids)
        for application in applications:
            assert application.status == "submitted"
            assert len(application.documents) == 3
        assert count(ApplicationEvent) >= len(applications)
        assert len(stored_files()) == 3 * len(applications), "orphan or missing files"


def test_a_locked_sqlite_database_answers_the_retry_page_and_recovers(make_app, database_url):
    """SQLite's fault: another process holds the write lock past the busy timeout."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's; PostgreSQL is covered by the tests above")
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True,
                                              "connect_args": {"timeout": 0.2}})
    with app.app_context():
        teacher = factories.make_teacher()
        intake = factories.make_intake(factories.make_program())
        db.session.commit()
        client = app.test_client()
        sign_in(client, teacher)
        teacher_id, intake_id = teacher.id, intake.id
        db.session.remove()
        holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process is writing, and slowly

            response = client.post(f"/intakes/{intake_id}/apply",
                                   data=application_form("send", files=all_files()))

            assert_retry_page(response)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert_nothing_stored(teacher_id)

        response = client.post(f"/intakes/{intake_id}/apply",
                               data=application_form("send", files=all_files()))
        assert response.status_code == 302
        assert_submitted_whole(teacher_id, intake_id)


def test_errors_that_a_retry_cannot_fix_stay_500s(make_app):
    """A broken query is a bug with an incident number, not a 'try again' page."""
    app = make_app()

    @app.get("/test/bad-sql")
    def bad_sql():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    response = app.test_client().get("/test/bad-sql")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "incident" in page and RETRY_WORDS not in page
