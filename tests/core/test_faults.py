"""Faults the suite causes on purpose: a database connection killed mid-request or while idle
in the pool, and a disk that fills up while a teacher's document is being written.

Each test asserts what a person would notice: the page they get, what was kept of what they
sent, and that pressing the button again works, on the same running app.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import create_engine, event, func, select, text

from course_portal.catalog.models import Intake
from course_portal.core.audit import AuditEvent
from course_portal.core.outbox import OutboxMessage
from course_portal.enrollment import documents
from course_portal.enrollment.models import Application, ApplicationEvent, Document
from course_portal.extensions import db
from tests import factories
from tests.enrollment.test_pages_teacher import (
    MOTIVATION,
    PDF,
    all_files,
    application_form,
    file,
    sign_in,
)

#: the PostgreSQL leg of CI sets TEST_DATABASE_URL; terminating a backend needs a server
on_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql:", "postgres:")),
    reason="pg_terminate_backend needs PostgreSQL (TEST_DATABASE_URL); CI's PostgreSQL leg runs it",
)

#: what the portal's retry page says, in English (core.errors, templates/errors/503.html)
RETRY_WORDS = "Please try again in a few seconds"
#: how long a terminated backend may take to leave pg_stat_activity
BACKEND_EXIT_SECONDS = 10


# --- helpers --------------------------------------------------------------------------------


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def page(response) -> str:
    return response.get_data(as_text=True)


def admin_engine():
    """A connection outside the app's pool, like a DBA's psql session."""
    return create_engine(db.engine.url, poolclass=None, isolation_level="AUTOCOMMIT")


def terminate(admin, pids: set[int]) -> int:
    """pg_terminate_backend each pid, and wait until they are really gone; how many were."""
    killed = admin.scalar(text(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE pid = ANY(:pids)"), {"pids": sorted(pids)})
    deadline = time.monotonic() + BACKEND_EXIT_SECONDS
    while admin.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                       {"pids": sorted(pids)}):
        assert time.monotonic() < deadline, f"backends {pids} did not exit"
        time.sleep(0.02)
    return killed


def backend_pid(dbapi_connection) -> int | None:
    info = getattr(dbapi_connection, "info", None)
    return getattr(info, "backend_pid", None)


class PoolWatch:
    """The backend pid of every connection the app's engine hands out and takes back."""

    def __init__(self, engine):
        self.engine = engine
        self.idle: set[int] = set()
        self.used: list[int] = []
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, dbapi_connection, record, proxy):
        pid = backend_pid(dbapi_connection)
        self.idle.discard(pid)
        self.used.append(pid)

    def _checkin(self, dbapi_connection, record):
        pid = backend_pid(dbapi_connection)
        if pid is not None:
            self.idle.add(pid)

    def close(self):
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "checkin", self._checkin)


def assert_retry_page(response) -> None:
    """The portal's own 503 page: no traceback, no driver error, a Retry-After."""
    assert response.status_code == 503, page(response)[:500]
    assert response.headers["Retry-After"].isdigit()
    body = page(response)
    assert RETRY_WORDS in body
    for leak in ("Traceback", "OperationalError", "psycopg", "terminating connection"):
        assert leak not in body


# --- 1. a connection killed in the middle of a request, and one killed while idle ----------


@pytest.fixture
def review_setting(app, db, login_as, client):
    """Four submitted applications to a five-seat intake; a coordinator signed in."""
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    intake = factories.make_intake(factories.make_program(), capacity=5)
    applications = [factories.make_application(intake=intake, status="submitted")
                    for _ in range(4)]
    login_as("coordinator")
    db.session.commit()
    ids = sorted(a.id for a in applications)
    intake_id = intake.id
    # the test's own session lets go of its connection, as a finished request does
    db.session.remove()
    return client, intake_id, ids


def decision_rows(ids: list[int]) -> dict:
    """Everything a bulk approval writes, as counts."""
    db.session.remove()
    return {
        "approved": count(Application, Application.id.in_(ids), Application.status == "approved"),
        "history": count(ApplicationEvent, ApplicationEvent.application_id.in_(ids),
                         ApplicationEvent.to_status == "approved"),
        "audit": count(AuditEvent, AuditEvent.action == "application.approved"),
        "emails": count(OutboxMessage),
        "seats": db.session.scalar(select(func.sum(Intake.seats_taken))),
    }


@on_postgresql
def test_a_connection_killed_half_way_through_a_bulk_approval_leaves_nothing_half_done(
        app, review_setting):
    """The coordinator approves four; the backend dies at the third history row.

    The coordinator gets the portal's retry page, none of the four is approved (no status,
    history row, seat, email or audit row of the decision), and pressing the button again on
    the same running app approves all four, each once.
    """
    client, _intake_id, ids = review_setting
    before = decision_rows(ids)
    assert before == {"approved": 0, "history": 0, "audit": 0, "emails": 0, "seats": 0}
    killer = admin_engine()
    seen = {"history_inserts": 0, "killed": 0, "pid": None}

    def kill_on_third_history_row(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO APPLICATION_EVENTS"):
            seen["history_inserts"] += 1
            if seen["history_inserts"] == 3 and not seen["killed"]:
                seen["pid"] = pid = backend_pid(conn.connection.dbapi_connection)
                with killer.connect() as admin:
                    seen["killed"] = terminate(admin, {pid})

    event.listen(db.engine, "before_cursor_execute", kill_on_third_history_row)
    watch = PoolWatch(db.engine)
    try:
        response = client.post("/review", data={"ids": ids, "approve": "1"})
    finally:
        event.remove(db.engine, "before_cursor_execute", kill_on_third_history_row)
    try:
        assert seen["killed"] == 1, "the fault was not injected"
        assert_retry_page(response)
        assert decision_rows(ids) == before, "part of the approval was kept"

        # the same app, no restart: the coordinator presses the button again
        used_before = len(watch.used)
        response = client.post("/review", data={"ids": ids, "approve": "1"})
        assert response.status_code == 302
        assert "4 approved." in page(client.get(response.headers["Location"]))
        assert seen["pid"] not in watch.used[used_before:], "the dead connection was reused"
    finally:
        watch.close()
        killer.dispose()
    assert decision_rows(ids) == {"approved": 4, "history": 4, "audit": 4, "emails": 4,
                                  "seats": 4}


def approve_one(client, application_id: int):
    return client.post(f"/review/applications/{application_id}/decide",
                       data={"approve": "Approve", "seen_status": "submitted", "reason": ""})


@on_postgresql
def test_connections_killed_while_idle_in_the_pool_are_replaced_before_the_next_request(
        app, review_setting):
    """Between two requests the database drops the app's idle connections (a restart, an idle
    timeout, a DBA): the next request is served as if nothing happened."""
    client, _intake_id, ids = review_setting
    watch = PoolWatch(db.engine)
    killer = admin_engine()
    try:
        assert client.get(f"/review/applications/{ids[0]}").status_code == 200
        idle = set(watch.idle)
        assert idle, "the request left no connection in the pool"
        with killer.connect() as admin:
            assert terminate(admin, idle) == len(idle)
        used_before = len(watch.used)

        response = approve_one(client, ids[0])

        assert response.status_code == 302, page(response)[:500]
        new = set(watch.used[used_before:])
        assert new and not new & idle, "a dead connection served the request"
    finally:
        watch.close()
        killer.dispose()
    rows = decision_rows(ids)
    assert (rows["approved"], rows["history"], rows["seats"]) == (1, 1, 1)


@on_postgresql
def test_without_pre_ping_the_same_idle_kill_would_reach_the_user(make_app):
    """The control for the test above: it is pool_pre_ping that saves that request.

    With it off, the request that draws a dead connection gets the retry page (the user would
    notice); the one after works, because the failure invalidated the pool's connections.
    """
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False})
    with app.app_context():
        intake = factories.make_intake(factories.make_program(), capacity=5)
        application = factories.make_application(intake=intake, status="submitted")
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        application_id = application.id
        client = app.test_client()
        from course_portal.accounts.session import start_clock

        with client.session_transaction() as session:
            session["_user_id"] = coordinator.get_id()
            session["_fresh"] = True
            start_clock(session)
        db.session.remove()
        watch = PoolWatch(db.engine)
        killer = admin_engine()
        try:
            assert client.get(f"/review/applications/{application_id}").status_code == 200
            idle = set(watch.idle)
            with killer.connect() as admin:
                assert terminate(admin, idle) == len(idle) >= 1

            assert_retry_page(approve_one(client, application_id))
            assert approve_one(client, application_id).status_code == 302
        finally:
            watch.close()
            killer.dispose()


# --- 2. the disk fills up while a document is written ---------------------------------------


def stored_files() -> list[Path]:
    """Every file under the upload folder, hidden temporary ones too."""
    root = Path(current_app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def files_of_rows() -> list[Path]:
    """The file each Document row names."""
    db.session.remove()
    root = Path(current_app.config["UPLOAD_FOLDER"])
    return sorted(root / str(d.application_id) / d.stored_name
                  for d in db.session.scalars(select(Document)))


class FullDisk:
    """documents.py's open(): from the `after`-th file on, half the bytes reach the disk, then
    ENOSPC, as a filling disk does."""

    def __init__(self, after: int = 0):
        self.after = after
        self.opened = 0
        self.failed = 0

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115 (returned to the caller)
        if "w" not in mode:
            return handle
        self.opened += 1
        if self.opened <= self.after:
            return handle
        disk = self
        real_write = handle.write

        class Filling:
            def __getattr__(self, name):
                return getattr(handle, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()
                return False

            def write(self, data):
                real_write(data[: len(data) // 2])
                handle.flush()
                disk.failed += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        return Filling()


@pytest.fixture
def teacher_form(app, db, client):
    """A signed-in teacher with a complete profile, and the apply page of an open intake."""
    teacher = factories.make_teacher(email="wang.fang@example.edu.cn")
    intake = factories.make_intake(factories.make_program())
    db.session.commit()
    sign_in(client, teacher)
    ids = teacher.id, f"/intakes/{intake.id}/apply"
    db.session.remove()
    return client, *ids


#: what the teacher reads under a file the portal could not store
STORAGE_WORDS = "could not store this file"


def test_a_disk_full_while_writing_a_document_is_a_message_on_the_form(
        monkeypatch, teacher_form):
    """Saving a draft with a diploma while the disk is full: the form comes back with what was
    typed and a message under the file; no row, no file, no half-written temporary file."""
    client, teacher_id, url = teacher_form
    disk = FullDisk()
    monkeypatch.setattr(documents, "open", disk, raising=False)

    response = client.post(url, data=application_form(
        "save", funding_source="other", funding_other="深圳市教育基金会",
        files={"diploma": file(PDF, "我的文凭.pdf")}))

    assert disk.failed == 1, "the fault was not injected"
    assert response.status_code == 200, page(response)[:500]
    body = page(response)
    assert STORAGE_WORDS in body
    assert "Incident" not in body and "incident" not in body
    assert MOTIVATION in body and 'value="深圳市教育基金会"' in body
    assert count(Document) == 0
    assert stored_files() == [], "a partial or temporary file was left in the upload folder"

    # space is freed; the teacher chooses the file again and submits
    monkeypatch.undo()
    response = client.post(url, data=application_form("send", files=all_files()))
    assert response.status_code == 302, page(response)[:500]
    db.session.remove()
    application = db.session.scalar(select(Application).where(
        Application.teacher_id == teacher_id))
    assert application.status == "submitted"
    assert application.funding_other == ""  # the second form said home university
    assert len(application.documents) == 3
    assert stored_files() == files_of_rows() and len(stored_files()) == 3


def test_a_disk_that_fills_after_the_first_of_three_files_keeps_only_whole_ones(
        monkeypatch, teacher_form):
    """Submitting three documents, the disk fills after the first: the application is not
    submitted, each file the portal could not store says so, and every file on disk is a
    whole one with its row; the missing two are uploaded again and the application goes."""
    client, teacher_id, url = teacher_form
    disk = FullDisk(after=1)
    monkeypatch.setattr(documents, "open", disk, raising=False)

    response = client.post(url, data=application_form("send", files=all_files()))

    assert disk.failed == 2
    assert response.status_code == 200, page(response)[:500]
    body = page(response)
    assert body.count(STORAGE_WORDS) == 2
    assert MOTIVATION in body
    db.session.remove()
    application = db.session.scalar(select(Application).where(
        Application.teacher_id == teacher_id))
    assert application.status == "draft"
    assert [d.kind.value for d in application.documents] == ["diploma"]
    assert stored_files() == files_of_rows() and len(stored_files()) == 1
    assert stored_files()[0].read_bytes() == PDF

    monkeypatch.undo()
    files = all_files()
    del files["diploma"]
    response = client.post(url, data=application_form("send", files=files))
    assert response.status_code == 302, page(response)[:500]
    db.session.remove()
    application = db.session.get(Application, application.id)
    assert application.status == "submitted" and len(application.documents) == 3
    assert stored_files() == files_of_rows() and len(stored_files()) == 3


# --- 3. a worker told to stop (the end of a burst, a deploy) stops --------------------------


@pytest.mark.redis
def test_a_worker_whose_listener_already_saw_its_unsubscribe_still_stops_at_once(redis_url):
    """The race that hung `flask jobs worker --burst` for a minute after its last job, forced.

    RQ's command listener reads the reply to the worker's UNSUBSCRIBE before the worker has
    set the thread's stop flag, and goes back to waiting for messages; the worker then joins
    it. With RQ's 60 s wait the join took a minute; the portal's worker looks every second.
    """
    import threading

    from redis import Redis
    from rq import Queue

    from course_portal.core.jobs import LISTENER_WAKE_SECONDS, worker_class

    connection = Redis.from_url(redis_url)
    worker = worker_class()([Queue("faults-listener", connection=connection)],
                            connection=connection)
    worker.subscribe()
    listener = worker.pubsub_thread
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 5
    while worker.pubsub.subscribed:  # the listener has read the reply
        assert time.monotonic() < deadline, "the listener never read the UNSUBSCRIBE reply"
        time.sleep(0.01)
    time.sleep(0.1)  # and is back waiting for the next message

    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=LISTENER_WAKE_SECONDS + 3)

    assert not stopping.is_alive(), "the worker hangs while its listener waits"
    assert not listener.is_alive()
    connection.close()
