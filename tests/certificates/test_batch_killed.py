"""An RQ worker and its work horse SIGKILLed in the middle of a certificate batch.

What the coordinator sees: the batch page first still says it is running (the worker might
only be slow), then, once BATCH_STALL_SECONDS have passed without a sign of life, "Stopped"
with the button to resume; pressing it (twice, as people do) queues the batch once, and a new
worker finishes it: one certificate per teacher, registry numbers 1..n without a gap.

The portal's clock is moved past the stall time with time-machine; nothing sleeps for it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from course_portal import ROOT
from course_portal.certificates import jobs
from course_portal.certificates.models import BatchStatus, Certificate
from course_portal.enrollment.models import Application
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.certificates.test_jobs_faults import (
    assert_registry_sound,
    batch_row,
    descendants,
    kill_hard,
    process_env,
    sign_in,
)

#: teachers in the batch
TEACHERS = 10
#: certificates issued before the kill
KILL_AFTER = 3
#: seconds a worker gets to issue KILL_AFTER certificates, or the burst worker to finish
PATIENCE = 45


def assert_dead(pid: int) -> None:
    """The process is gone (or a zombie waiting to be reaped): it issues nothing more."""
    deadline = time.monotonic() + 10
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        assert time.monotonic() < deadline, f"process {pid} survived SIGKILL (state {state})"
        time.sleep(0.02)


def kill_once_some_are_issued(app, worker: subprocess.Popen, batch_id: int) -> int:
    """SIGKILL the worker and its work horse once KILL_AFTER certificates are issued."""
    deadline = time.monotonic() + PATIENCE
    while batch_row(app, batch_id).issued < KILL_AFTER:
        if worker.poll() is not None:
            raise AssertionError("the worker exited: " + worker.stderr.read()[-2000:])
        if time.monotonic() > deadline:
            kill_hard(worker)
            raise AssertionError("the worker issued no certificate in time")
        time.sleep(0.02)
    horses = descendants(worker.pid)
    kill_hard(worker)
    assert horses, "no work horse was running the job"
    for pid in horses:
        assert_dead(pid)
    issued = batch_row(app, batch_id).issued
    assert KILL_AFTER <= issued < TEACHERS, "the kill did not land in the middle of the batch"
    return issued


def run_burst_worker(env: dict) -> subprocess.CompletedProcess:
    """A worker that takes what is queued and stops; what it said, if it hangs instead."""
    command = [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker",
               "--burst"]
    try:
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=PATIENCE, check=False)
    except subprocess.TimeoutExpired as exc:
        said = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise AssertionError(f"the burst worker hung for {PATIENCE} s: {said[-3000:]}") from None


def certificates_per_application(app, intake_id: int) -> dict[int, int]:
    """Each of the intake's applications and how many certificates it has."""
    with app.app_context():
        rows = db.session.execute(
            select(Application.id, func.count(Certificate.id))
            .outerjoin(Certificate, Certificate.application_id == Application.id)
            .where(Application.intake_id == intake_id)
            .group_by(Application.id)).all()
        return dict(rows)


@pytest.mark.redis
def test_a_batch_whose_worker_and_work_horse_were_killed_is_continued_to_the_end(
        make_app, redis_url, tmp_path):
    from rq import Queue

    from course_portal.core.jobs import QUEUE_NAME, redis_connection

    # the production stall time: the clock is moved past it, not waited for
    app = make_app(REDIS_URL=redis_url)
    stall = app.config["BATCH_STALL_SECONDS"]
    with app.app_context():
        intake = make_finished_intake()
        for n in range(TEACHERS):
            make_completed(intake, given_name_latin=f"Teacher{n:02d}")
        coordinator = factories.make_user(role="coordinator")
        db.session.commit()
        intake_id, program_id, coordinator_id = intake.id, intake.program_id, coordinator.get_id()
        queue = Queue(QUEUE_NAME, connection=redis_connection())
        queue.empty()
    client = app.test_client()
    sign_in(client, coordinator_id)

    env = process_env(app, tmp_path, REDIS_URL=redis_url)
    # the test's clock runs on from now and only forward (a session cookie signed "later"
    # is refused once the clock goes back); the workers keep the real one
    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "course_portal", "jobs", "worker"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # the coordinator starts the batch from the intake's page, as on any day
            started = client.post(f"/certificates/manage/intakes/{intake_id}/issue-all")
            assert started.status_code == 302, started.get_data(as_text=True)[:500]
            with app.app_context():
                batch_id = jobs.latest_batch(intake_id).id
            assert started.headers["Location"].endswith(
                f"/certificates/manage/batches/{batch_id}")
            issued = kill_once_some_are_issued(app, worker, batch_id)
        finally:
            if worker.poll() is None:
                kill_hard(worker)
        # the kill may land between a certificate's commit and the batch's count of it
        assert len(assert_registry_sound(app, program_id)) in (issued, issued + 1)
        assert batch_row(app, batch_id).status == BatchStatus.RUNNING  # what the dead job left

        page = f"/certificates/manage/batches/{batch_id}"
        still = client.get(page)
        assert "Refresh" in still.headers, "within the stall time the worker may only be slow"
        assert "Resume issuing" not in still.get_data(as_text=True)

        clock.shift(timedelta(seconds=stall + 5))
        stopped = client.get(page)
        text = stopped.get_data(as_text=True)
        assert "Refresh" not in stopped.headers, "the page would wait for a dead job forever"
        assert "Stopped: the background worker stopped answering" in text
        assert "Resume issuing" in text

        resumed = client.post(f"{page}/resume")
        assert resumed.status_code == 302
        assert batch_row(app, batch_id).status == BatchStatus.QUEUED
        # the button pressed a second time queues nothing more
        again = client.post(f"{page}/resume", follow_redirects=True)
        assert "there is nothing to resume" in again.get_data(as_text=True)
        with app.app_context():
            assert queue.count == 1

        finisher = run_burst_worker(env)
        assert finisher.returncode == 0, finisher.stderr[-2000:]

        done = client.get(page)
        assert "Refresh" not in done.headers
        assert f"Finished: {TEACHERS} certificates issued." in done.get_data(as_text=True)
    batch = batch_row(app, batch_id)
    assert (batch.status, batch.issued, batch.processed, batch.total) == (
        BatchStatus.DONE, TEACHERS, TEACHERS, TEACHERS)
    assert batch.problems == []
    per_application = certificates_per_application(app, intake_id)
    assert len(per_application) == TEACHERS
    assert set(per_application.values()) == {1}, "a teacher has none, or two"
    assert assert_registry_sound(app, program_id, expected=TEACHERS) == list(
        range(1, TEACHERS + 1))
    with app.app_context():
        assert queue.count == 0
