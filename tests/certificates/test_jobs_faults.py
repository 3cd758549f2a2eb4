"""A process issuing a batch of certificates killed with SIGKILL halfway: no number used twice,
the batch page stops saying "running", and the batch is resumed to the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from course_portal import ROOT
from course_portal.certificates import jobs
from course_portal.certificates.models import BatchStatus, Certificate, IssueBatch
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import counter, make_completed, make_finished_intake

#: teachers in the batch: enough that the kill lands in the middle
TEACHERS = 16
#: what a test waits for at most, in seconds
PATIENCE = 90
#: BATCH_STALL_SECONDS in these tests
STALL = 2


def setting(app) -> tuple[int, int, int, int]:
    """An intake of teachers who all completed it, a coordinator and a queued batch."""
    with app.app_context():
        intake = make_finished_intake()
        for n in range(TEACHERS):
            make_completed(intake, given_name_latin=f"Teacher{n:02d}")
        coordinator = factories.make_user(role="coordinator")
        batch = jobs.start_batch(intake, coordinator)
        db.session.commit()
        return intake.id, intake.program_id, coordinator.get_id(), batch.id


def process_env(app, tmp_path, **extra) -> dict[str, str]:
    """The settings of a separate process of the portal, through the environment."""
    settings = {"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "worker-instance"),
                "DATABASE_URL": app.config["DATABASE_URL"], "OUTBOX_DISPATCH": "off",
                # the same key as the test's app, so it opens the staff's two-step secrets
                "ENCRYPTION_KEYS": json.dumps(app.config["ENCRYPTION_KEYS"]), **extra}
    return {**os.environ, **{f"COURSE_PORTAL_{k}": v for k, v in settings.items()}}


def batch_row(app, batch_id: int) -> IssueBatch:
    with app.app_context():
        batch = db.session.get(IssueBatch, batch_id)
        db.session.expunge(batch)
        return batch


def descendants(pid: int) -> list[int]:
    """The process's children, grandchildren, ... (RQ's work horse runs in a group of its own)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started, as a crash or the OOM killer would."""
    for pid in [*descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def kill_when_some_are_issued(app, process: subprocess.Popen, batch_id: int) -> int:
    """SIGKILL the process (and its work horse) once a few certificates are issued, not all."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        issued = batch_row(app, batch_id).issued
        if issued >= 3:
            kill_hard(process)
            break
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    else:
        kill_hard(process)
        raise AssertionError("no certificate was issued in time")
    issued = batch_row(app, batch_id).issued
    assert 3 <= issued < TEACHERS, "the kill did not land in the middle of the batch"
    return issued


def assert_registry_sound(app, program_id: int, expected: int | None = None) -> list[int]:
    """Numbers 1..n, each once, one valid certificate per teacher, the counter at n."""
    with app.app_context():
        rows = db.session.execute(
            select(Certificate.sequence, Certificate.registry_number, Certificate.application_id)
            .order_by(Certificate.sequence)).all()
        sequences = [r.sequence for r in rows]
        assert sequences == list(range(1, len(rows) + 1)), "a number is missing or used twice"
        assert len({r.registry_number for r in rows}) == len(rows)
        assert len({r.application_id for r in rows}) == len(rows), "a teacher got two"
        year = db.session.scalar(select(func.max(Certificate.year)))
        if rows:
            assert counter(program_id, year) == len(rows)
        if expected is not None:
            assert len(rows) == expected
        return sequences


def sign_in(client, user_id: str) -> None:
    """A coordinator fully signed in (two-step sign-in is set up by the factory)."""
    from course_portal.accounts.session import start_clock

    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        start_clock(session)


def test_a_killed_job_process_is_resumed_from_the_command_line(make_app, tmp_path):
    """No Redis: the batch runs in the process that started it; that process is killed."""
    app = make_app(BATCH_STALL_SECONDS=STALL)
    _, program_id, coordinator_id, batch_id = setting(app)
    script = ("import sys\nfrom course_portal import create_app\n"
              "from course_portal.certificates.jobs import run_batch\n"
              "with create_app().app_context():\n    run_batch(int(sys.argv[1]))\n")
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(batch_id)], cwd=ROOT, env=process_env(app, tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    issued = kill_when_some_are_issued(app, process, batch_id)

    assert_registry_sound(app, program_id)
    assert batch_row(app, batch_id).status == BatchStatus.RUNNING  # what the dead job left
    with app.app_context():
        # it might only be slow: within BATCH_STALL_SECONDS a second run is not started
        too_soon = app.test_cli_runner().invoke(
            args=["certificates", "resume-batch", str(batch_id)])
    assert too_soon.exit_code != 0 and "not stalled" in too_soon.output
    time.sleep(STALL + 0.3)  # past BATCH_STALL_SECONDS without a heartbeat

    with app.app_context():
        result = app.test_cli_runner().invoke(args=["certificates", "resume-batch", str(batch_id)])

    assert result.exit_code == 0, result.output
    assert f"batch {batch_id}: done, {TEACHERS} of {TEACHERS} issued" in result.output
    assert assert_registry_sound(app, program_id, expected=TEACHERS)[issued - 1] == issued
    # finished: resuming again is refused, and nothing more is issued
    with app.app_context():
        again = app.test_cli_runner().invoke(args=["certificates", "resume-batch", str(batch_id)])
    assert again.exit_code != 0 and "nothing to resume" in again.output
    assert_registry_sound(app, program_id, expected=TEACHERS)


@pytest.mark.redis
def test_a_killed_rq_worker_leaves_a_batch_the_page_shows_stopped_and_resumes(
        make_app, redis_url, tmp_path):
    from rq import Queue

    from course_portal.core.jobs import QUEUE_NAME, redis_connection

    app = make_app(REDIS_URL=redis_url, BATCH_STALL_SECONDS=STALL)
    intake_id, program_id, coordinator_id, batch_id = setting(app)
    with app.app_context():
        queue = Queue(QUEUE_NAME, connection=redis_connection())
        queue.empty()
        jobs.enqueue_batch(db.session.get(IssueBatch, batch_id))
    env = process_env(app, tmp_path, REDIS_URL=redis_url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,)

    # the worker and the work horse it forked for the job die together, as in a crash
    issued = kill_when_some_are_issued(app, worker, batch_id)
    # the batch's count is saved just after each certificate's own commit, so the kill may land
    # between the two: the registry then holds one more than the page counted, never fewer
    assert len(assert_registry_sound(app, program_id)) in (issued, issued + 1)

    client = app.test_client()
    sign_in(client, coordinator_id)
    page = f"/certificates/manage/batches/{batch_id}"
    alive = client.get(page)
    assert "Refresh" in alive.headers  # within BATCH_STALL_SECONDS it may still be working
    time.sleep(STALL + 0.3)
    stopped = client.get(page)
    text = stopped.get_data(as_text=True)
    assert "Refresh" not in stopped.headers, "the page would wait for a dead job forever"
    assert "Stopped" in text and "Resume issuing" in text

    resumed = client.post(f"{page}/resume")
    assert resumed.status_code == 302
    assert batch_row(app, batch_id).status == BatchStatus.QUEUED
    # a coordinator pressing the button twice queues nothing more
    client.post(f"{page}/resume")
    assert queue.count == 1
    finisher = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker", "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=PATIENCE, check=False)
    assert finisher.returncode == 0, finisher.stderr

    done = client.get(page)
    assert "Refresh" not in done.headers
    assert f"{TEACHERS} certificates issued" in done.get_data(as_text=True)
    batch = batch_row(app, batch_id)
    assert (batch.status, batch.issued, batch.total) == (BatchStatus.DONE, TEACHERS, TEACHERS)
    assert_registry_sound(app, program_id, expected=TEACHERS)
    with app.app_context():
        assert queue.count == 0 and intake_id
