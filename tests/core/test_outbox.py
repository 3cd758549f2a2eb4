"""The email outbox against a real SMTP server: what is committed leaves once, nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from flask import Blueprint
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select, update

from course_portal.core.outbox import OutboxMessage, queue_email, send_pending
from course_portal.db import utcnow
from course_portal.extensions import db

TEACHER = "wang.fang@example.edu.cn"
VICTIM = "victim@example.com"

#: Chinese and Russian in one subject: both must survive the trip through SMTP
SUBJECT = "报名已确认 · Заявка подтверждена"

#: email templates for these tests only, put in front of the real ones by a loader
TEST_TEMPLATES = {
    "email/outbox_test.txt": "{{ subject }}\n\n{{ greeting }}, {{ name }}!\n\n{{ line }}\n",
}


def use_test_templates(app) -> None:
    """Let queue_email find the test templates without shipping them in templates/."""
    app.jinja_loader = ChoiceLoader([DictLoader(TEST_TEMPLATES), app.jinja_loader])


def queue_test_email(to: str = TEACHER, subject: str = SUBJECT, **context) -> OutboxMessage:
    context.setdefault("greeting", "您好")
    context.setdefault("name", "王芳")
    context.setdefault("line", "Ваша заявка на программу «Инвестиционная экосистема» принята.")
    return queue_email(to, "outbox_test", locale="zh", kind="test.outbox", subject=subject, **context)


def add_row(to: str = TEACHER, subject: str = "Plain subject", body: str = "Body.\n") -> int:
    """An outbox row written directly, as a service would leave it."""
    message = OutboxMessage(to_address=to, subject=subject, body_text=body, kind="test.row")
    db.session.add(message)
    db.session.flush()
    return message.id


def fresh(message_id: int) -> OutboxMessage:
    """The row as the database has it now."""
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def make_due(message_id: int) -> None:
    """Pretend the back-off has passed."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


@pytest.fixture
def mail_app(make_app, mail_server):
    """An app mailing through the recording server, inside an app context."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port, MAIL_TIMEOUT=5)
    use_test_templates(app)
    with app.app_context():
        yield app


@pytest.fixture
def down_app(make_app, closed_port):
    """An app whose mail server refuses connections."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port, MAIL_TIMEOUT=5)
    use_test_templates(app)
    with app.app_context():
        yield app


def outbox_cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["outbox", *args])
    assert result.exit_code == 0, result.output
    return result.output


# --- a committed message leaves, once, intact --------------------------------------------------


def test_committed_message_arrives_with_recipient_subject_and_body(mail_app, mail_server):
    message_id = queue_test_email().id
    db.session.commit()

    assert send_pending() == {"sent": 1, "failed": 0, "kept": 0}

    [envelope] = mail_server.envelopes
    assert envelope.rcpt_tos == [TEACHER]
    assert envelope.mail_from == "noreply@localhost"
    # headers travel as 7-bit ASCII (RFC 2047), which every mail server accepts
    assert envelope.raw.split(b"\r\n\r\n", 1)[0].isascii()
    received = envelope.message
    assert received["To"] == TEACHER
    assert received["Subject"] == SUBJECT
    assert received["From"] == mail_app.config["MAIL_DEFAULT_SENDER"]
    body = received.get_content()
    assert "您好, 王芳!" in body
    assert "«Инвестиционная экосистема»" in body
    # the subject line is not repeated in the body
    assert SUBJECT not in body
    row = fresh(message_id)
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_until is None

    # sending again sends nothing more
    assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    assert len(mail_server.envelopes) == 1


def test_flask_outbox_send_delivers_everything_due_and_status_counts_it(mail_app, mail_server):
    queue_test_email(to="one@example.edu.cn")
    queue_test_email(to="two@example.edu.cn")
    db.session.commit()

    assert "sent 2, failed 0, kept 0" in outbox_cli(mail_app, "send")

    assert sorted(e.rcpt_tos[0] for e in mail_server.envelopes) == [
        "one@example.edu.cn",
        "two@example.edu.cn",
    ]
    assert "pending 0, sent 2, failed 0" in outbox_cli(mail_app, "status")


def test_message_queued_in_a_rolled_back_transaction_is_never_sent(mail_app, mail_server):
    queue_test_email()
    db.session.rollback()

    assert count_rows() == 0
    assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    assert "sent 0, failed 0, kept 0" in outbox_cli(mail_app, "send")
    assert mail_server.envelopes == []


# --- the mail server is down -------------------------------------------------------------------


def test_server_down_keeps_the_message_and_retries_later_exactly_once(down_app, mail_server):
    message_id = queue_test_email().id
    db.session.commit()
    before = utcnow()

    assert send_pending() == {"sent": 0, "failed": 1, "kept": 0}

    row = fresh(message_id)
    assert row.sent_at is None and row.failed_at is None
    assert row.attempts == 1
    assert "refused" in row.last_error.lower()
    assert row.next_attempt_at >= before + timedelta(seconds=55)
    assert row.claimed_until is None
    # not due yet: a second run right away does not hammer the server
    assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    assert fresh(message_id).attempts == 1

    # the server is back and the back-off has passed
    down_app.config["MAIL_PORT"] = mail_server.port
    make_due(message_id)
    assert send_pending() == {"sent": 1, "failed": 0, "kept": 0}
    assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}

    [envelope] = mail_server.envelopes
    assert envelope.message["Subject"] == SUBJECT
    row = fresh(message_id)
    assert row.sent_at is not None and row.attempts == 2


def test_cli_send_with_server_down_reports_the_failure_and_loses_nothing(down_app):
    queue_test_email()
    db.session.commit()

    result = down_app.test_cli_runner().invoke(args=["outbox", "send"])
    # a failing exit status, so the timer that runs it shows the failure
    assert result.exit_code == 1
    assert "sent 0, failed 1, kept 0" in result.output
    assert "pending 1, sent 0, failed 0" in outbox_cli(down_app, "status")


def test_after_max_attempts_the_message_is_marked_failed(down_app, mail_server, caplog):
    down_app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    message_id = queue_test_email().id
    db.session.commit()
    delays = []

    for _ in range(3):
        make_due(message_id)
        started = utcnow()
        assert send_pending()["failed"] == 1
        delays.append(fresh(message_id).next_attempt_at - started)

    row = fresh(message_id)
    assert row.attempts == 3
    assert row.failed_at is not None and row.sent_at is None
    # the back-off grew before giving up
    assert delays[1] > delays[0] + timedelta(seconds=30)
    assert any("giving up on message" in r.getMessage() for r in caplog.records)
    assert "pending 0, sent 0, failed 1" in outbox_cli(down_app, "status")

    # a failed message is not retried, even with the server back
    down_app.config["MAIL_PORT"] = mail_server.port
    make_due(message_id)
    assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    assert mail_server.envelopes == []


# --- races --------------------------------------------------------------------------------------


def _hold_one_sender_mid_send(mail_app, mail_server, senders: int = 2):
    """Start `senders` senders at once; the first message to reach the server is held there
    until the caller releases it. Returns (release, threads, results, errors, one_finished)."""
    release = threading.Event()
    mail_server.recorder.hold_first = release
    barrier = threading.Barrier(senders)
    results, errors = [], []
    one_finished = threading.Event()

    def sender():
        with mail_app.app_context():
            try:
                barrier.wait(timeout=30)
                results.append(send_pending())
                one_finished.set()
            except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
                errors.append(exc)
                one_finished.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    return release, threads, results, errors, one_finished


def test_two_senders_at_once_never_send_a_message_twice(mail_app, mail_server):
    """Both senders start together; one is stopped inside its first message's data while the
    other works through the whole list, then the first finishes: no interleaving is left to
    the machine's speed, and no timeout can run out."""
    recipients = [f"teacher{n}@example.edu.cn" for n in range(24)]
    for to in recipients:
        add_row(to=to, subject=f"Message for {to}")
    db.session.commit()
    db.session.remove()

    release, threads, results, errors, one_finished = _hold_one_sender_mid_send(
        mail_app, mail_server)
    assert mail_server.recorder.holding.wait(30), "no message reached the server"
    assert one_finished.wait(60), "the free sender did not finish"
    release.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    delivered = Counter(e.rcpt_tos[0] for e in mail_server.envelopes)
    assert delivered == Counter(recipients), "some message was sent twice or not at all"
    # the held sender sent the one it held, the other sender every other one
    assert sorted(r["sent"] for r in results) == [1, len(recipients) - 1]
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)


def test_a_message_stays_claimed_for_as_long_as_its_send_may_take(mail_app, mail_server):
    """A claim that lapsed while a slow server kept its sender waiting would let a second
    sender deliver the same message: the claim outlasts the longest send."""
    from course_portal.core.outbox import claim_seconds, send_deadline_seconds

    config = mail_app.config
    assert claim_seconds(config) > send_deadline_seconds(config) >= config["MAIL_DATA_TIMEOUT"]
    message_id = add_row(to="held@example.edu.cn")
    db.session.commit()
    db.session.remove()

    release, threads, results, errors, _ = _hold_one_sender_mid_send(
        mail_app, mail_server, senders=1)
    assert mail_server.recorder.holding.wait(30)
    # a second sender comes by when the held send would be cut at the latest
    latest = utcnow() + timedelta(seconds=send_deadline_seconds(config))
    with time_machine.travel(latest, tick=False):
        assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    release.set()
    threads[0].join(timeout=60)

    assert errors == [] and results == [{"sent": 1, "failed": 0, "kept": 0}]
    assert [e.rcpt_tos for e in mail_server.envelopes] == [["held@example.edu.cn"]]
    assert fresh(message_id).attempts == 1


def test_a_server_slow_to_take_the_message_gets_it_once(make_app, mail_server):
    """The server answers the message's data later than MAIL_TIMEOUT: it may have taken it
    already, so the sender waits MAIL_DATA_TIMEOUT for the answer instead of counting a
    failure whose retry would deliver it a second time."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port, MAIL_TIMEOUT=1)
    mail_server.recorder.delay = 1.5
    with app.app_context():
        message_id = add_row(to="slow@example.edu.cn")
        db.session.commit()
        assert send_pending() == {"sent": 1, "failed": 0, "kept": 0}
        make_due(message_id)
        assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
        assert fresh(message_id).attempts == 1
    assert [e.rcpt_tos for e in mail_server.envelopes] == [["slow@example.edu.cn"]]


def test_a_server_slow_to_say_goodbye_gets_each_message_once(make_app, mail_server):
    """The message is accepted at the end of DATA: a QUIT that times out is not a failure, or
    the retry would deliver the message a second time."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port, MAIL_TIMEOUT=1)
    mail_server.recorder.quit_delay = 1.5
    with app.app_context():
        message_id = add_row(to="slow@example.edu.cn")
        db.session.commit()
        assert send_pending()["sent"] == 1
        make_due(message_id)
        assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
        row = fresh(message_id)
        assert row.sent_at is not None and row.attempts == 1 and row.last_error in ("", None)
    assert [e.rcpt_tos for e in mail_server.envelopes] == [["slow@example.edu.cn"]]


def test_every_attempt_at_a_message_carries_the_same_message_id(down_app, mail_server):
    """A server that took a message whose answer never came gets the retry with the same
    Message-ID, so the receiving side can tell it is the same message."""
    message_id = add_row(to="again@example.edu.cn")
    db.session.commit()
    assert send_pending()["failed"] == 1
    down_app.config["MAIL_PORT"] = mail_server.port
    make_due(message_id)
    assert send_pending()["sent"] == 1
    (envelope,) = mail_server.envelopes
    created = fresh(message_id).created_at.strftime("%Y%m%d%H%M%S%f")
    assert envelope.message["Message-ID"] == f"<outbox-{message_id}.{created}@course-portal>"


# --- header injection ---------------------------------------------------------------------------


def _header_names(envelope) -> list[str]:
    lines = envelope.raw_headers.split("\r\n")
    return [line.split(":", 1)[0].lower() for line in lines if line and not line[0].isspace()]


def test_line_breaks_in_a_subject_do_not_add_headers(mail_app, mail_server):
    queue_test_email(subject=f"Welcome\r\nBcc: {VICTIM}")
    add_row(subject=f"Reset your password\r\nBcc: {VICTIM}\nX-Injected: yes")
    db.session.commit()

    assert send_pending()["sent"] == 2

    envelopes = mail_server.envelopes
    assert [e.rcpt_tos for e in envelopes] == [[TEACHER], [TEACHER]]
    for envelope in envelopes:
        names = _header_names(envelope)
        assert "bcc" not in names and "x-injected" not in names
        assert names.count("subject") == 1
        assert "\n" not in envelope.message["Subject"]
    assert envelopes[0].message["Subject"].startswith("Welcome")
    assert envelopes[1].message["Subject"] == f"Reset your password Bcc: {VICTIM} X-Injected: yes"


def test_an_address_with_a_line_break_or_a_list_is_refused(mail_app, mail_server):
    with pytest.raises(ValueError, match="single email address"):
        queue_test_email(to=f"{TEACHER}\r\nBcc: {VICTIM}")
    with pytest.raises(ValueError, match="single email address"):
        queue_test_email(to=f"{TEACHER}, {VICTIM}")
    db.session.rollback()

    # a bad row that got in some other way is given up on, and the rest still leave
    bad = add_row(to=f"{TEACHER}, {VICTIM}")
    worse = add_row(to=f"{TEACHER}\r\nBcc: {VICTIM}")
    good = add_row(to="good@example.edu.cn")
    db.session.commit()

    assert send_pending() == {"sent": 1, "failed": 2, "kept": 0}

    assert [e.rcpt_tos for e in mail_server.envelopes] == [["good@example.edu.cn"]]
    for message_id in (bad, worse):
        row = fresh(message_id)
        assert row.failed_at is not None and row.sent_at is None
        assert "address" in row.last_error
    assert fresh(good).sent_at is not None


# --- no mail server ----------------------------------------------------------------------------


def test_without_a_mail_server_messages_are_kept_pending(make_app):
    app = make_app(MAIL_SERVER="")
    use_test_templates(app)
    with app.app_context():
        first = queue_test_email(to="one@example.edu.cn").id
        second = queue_test_email(to="two@example.edu.cn").id
        db.session.commit()

        output = outbox_cli(app, "send")

        assert "sent 0, failed 0, kept 2" in output
        assert "COURSE_PORTAL_MAIL_SERVER is not set" in output
        for message_id in (first, second):
            row = fresh(message_id)
            assert row.sent_at is None and row.failed_at is None and row.attempts == 0
        assert "pending 2, sent 0, failed 0" in outbox_cli(app, "status")


# --- dispatch after a request's commit ----------------------------------------------------------


def app_with_mail_view(make_app, mail_server, **settings):
    """A fresh app with a view that queues a message, then commits, raises or does neither."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_server.port, MAIL_TIMEOUT=5, **settings)
    use_test_templates(app)
    bp = Blueprint("outbox_test", __name__)

    @bp.post("/test/mail/<outcome>")
    def queue(outcome):
        queue_test_email()
        if outcome == "commit":
            db.session.commit()
        elif outcome == "raise":
            raise RuntimeError("the service failed after queueing")
        return "done"

    app.register_blueprint(bp)
    return app


def test_inline_dispatch_sends_before_the_response_returns(make_app, mail_server):
    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="inline")

    response = app.test_client().post("/test/mail/commit")

    assert response.status_code == 200
    [envelope] = mail_server.envelopes
    assert envelope.rcpt_tos == [TEACHER]
    assert envelope.message["Subject"] == SUBJECT


def test_a_request_that_fails_or_never_commits_sends_nothing(make_app, mail_server):
    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="inline")
    client = app.test_client()

    assert client.post("/test/mail/raise").status_code == 500
    assert client.post("/test/mail/uncommitted").status_code == 200

    with app.app_context():
        assert count_rows() == 0
        assert send_pending() == {"sent": 0, "failed": 0, "kept": 0}
    assert mail_server.envelopes == []


def test_thread_dispatch_sends_soon_after_the_commit(make_app, mail_server):
    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="thread")

    assert app.test_client().post("/test/mail/commit").status_code == 200

    [envelope] = mail_server.wait_for(1)
    assert envelope.rcpt_tos == [TEACHER]
    with app.app_context():
        deadline = time.monotonic() + 10
        while db.session.scalar(select(OutboxMessage.sent_at)) is None:
            assert time.monotonic() < deadline, "the sender thread did not record the sending"
            time.sleep(0.05)
            db.session.rollback()


def test_off_dispatch_leaves_sending_to_the_command(make_app, mail_server):
    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="off")

    assert app.test_client().post("/test/mail/commit").status_code == 200
    time.sleep(0.2)
    assert mail_server.envelopes == []

    with app.app_context():
        assert "sent 1, failed 0, kept 0" in outbox_cli(app, "send")
    assert len(mail_server.envelopes) == 1


def test_rq_dispatch_without_redis_sends_in_place(make_app, mail_server):
    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="rq", REDIS_URL="")

    assert app.test_client().post("/test/mail/commit").status_code == 200

    assert len(mail_server.envelopes) == 1


@pytest.mark.redis
def test_rq_dispatch_queues_a_job_that_flask_jobs_worker_sends(
    make_app, mail_server, redis_url, tmp_path
):
    from rq import Queue

    from course_portal import ROOT
    from course_portal.core.jobs import QUEUE_NAME, redis_connection

    app = app_with_mail_view(make_app, mail_server, OUTBOX_DISPATCH="rq", REDIS_URL=redis_url)
    with app.app_context():
        queue = Queue(QUEUE_NAME, connection=redis_connection())
        queue.empty()

    assert app.test_client().post("/test/mail/commit").status_code == 200

    assert mail_server.envelopes == []
    assert queue.count == 1
    # the worker an operator runs, in its own process, configured through the environment
    settings = {
        "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_server.port),
        # the test app's key, so the worker opens the staff's two-step secrets
        "ENCRYPTION_KEYS": json.dumps(app.config["ENCRYPTION_KEYS"]),
    }
    env = {**os.environ, **{f"COURSE_PORTAL_{k}": v for k, v in settings.items()}}
    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker", "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert worker.returncode == 0, worker.stderr
    assert [e.rcpt_tos for e in mail_server.envelopes] == [[TEACHER]]
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.sent_at)) is not None


def test_jobs_worker_without_redis_says_jobs_run_in_place(make_app):
    app = make_app(REDIS_URL="")

    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])

    assert result.exit_code != 0
    assert "COURSE_PORTAL_REDIS_URL is not set" in result.output
