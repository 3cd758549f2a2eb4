"""Bulk issuing throughput: certificate batches run by one and by two RQ workers (real PDFs).

Needs Redis at 127.0.0.1:6379 (database 14 is used and emptied); the row is skipped otherwise.
Each run queues one batch per intake for two intakes of the same programme (so both workers
take numbers from one registry counter), starts the workers in burst mode and times them until
the queue is empty, worker start-up included.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Row
from bench.generate import COORDINATOR_EMAIL, generate
from bench.pages import ENCRYPTION_KEYS, ROOT, server_env
from bench.render import time_standalone
from course_portal.certificates.specimen import specimen_snapshot

REDIS_URL = "redis://127.0.0.1:6379/14"
SCALE = 0.1
#: one worker at least this share of a plain WeasyPrint loop's certificates per second
TARGET_OF_PLAIN = 0.85
#: two workers on one programme at least this many times one worker
TARGET_TWO_WORKERS = 1.8


def redis_reachable() -> bool:
    """True when something answers on Redis's port on loopback."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _queue_batches(app, intake_ids: list[int]) -> int:
    """Start and enqueue one batch per intake; how many certificates they will try."""
    from rq import Queue
    from sqlalchemy import select

    from course_portal.accounts.models import User
    from course_portal.catalog.models import Intake
    from course_portal.certificates import jobs
    from course_portal.core.jobs import QUEUE_NAME, redis_connection
    from course_portal.extensions import db

    with app.app_context():
        Queue(QUEUE_NAME, connection=redis_connection()).empty()
        actor = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
        batches = [jobs.start_batch(db.session.get(Intake, i), actor) for i in intake_ids]
        db.session.commit()
        for batch in batches:
            jobs.enqueue_batch(batch)
        return sum(batch.total for batch in batches)


def _issuing_seconds(app, intake_ids: list[int]) -> float:
    """From the first certificate of these intakes to the last: the workers' start-up (the
    interpreter, the app, the engine) is not in the per-certificate figure."""
    from sqlalchemy import func, select

    from course_portal.certificates.models import Certificate
    from course_portal.enrollment.models import Application
    from course_portal.extensions import db

    with app.app_context():
        first, last = db.session.execute(
            select(func.min(Certificate.issued_at), func.max(Certificate.issued_at))
            .join(Application, Application.id == Certificate.application_id)
            .where(Application.intake_id.in_(intake_ids))).one()
    return (last - first).total_seconds() if first and last else 0.0


def _issued(app, intake_ids: list[int]) -> int:
    from sqlalchemy import func, select

    from course_portal.certificates.models import IssueBatch
    from course_portal.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(IssueBatch.issued), 0))
                                 .where(IssueBatch.intake_id.in_(intake_ids)))


def _candidate_intakes(app) -> tuple[list[int], bool]:
    """Four finished intakes with applications that can still get a certificate: two of one
    programme for the one-worker run, then two of another for the two workers, so that the two
    workers take numbers from one registry counter as on a deadline day; and whether each pair
    is of one programme (else the four with the most)."""
    from collections import defaultdict

    from sqlalchemy import select

    from course_portal.catalog.models import Intake
    from course_portal.certificates import services
    from course_portal.extensions import db

    by_program: dict[int, list[tuple[int, int]]] = defaultdict(list)
    with app.app_context():
        for intake in db.session.scalars(select(Intake)):
            count = len(services.issuable(intake))
            if count:
                by_program[intake.program_id].append((count, intake.id))
    pairs = [sorted(rows, reverse=True)[:2] for rows in by_program.values() if len(rows) >= 2]
    pairs.sort(key=lambda pair: -min(count for count, _id in pair))
    if len(pairs) >= 2:
        return [intake_id for pair in pairs[:2] for _count, intake_id in pair], True
    every = sorted((row for rows in by_program.values() for row in rows), reverse=True)
    return [intake_id for _count, intake_id in every[:4]], False


def bench_issuing() -> list[Row]:
    """Certificates per second with one and with two workers."""
    if not redis_reachable():
        return [Row("bulk issuing", "skipped: no Redis at 127.0.0.1:6379")]
    from course_portal import create_app

    work = tempfile.mkdtemp(prefix="bench-issuing-")
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work}/issuing.sqlite3"
    generate(database_url, SCALE, log=lambda _message: None)
    instance = os.path.join(work, "instance")
    app = create_app({"ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": instance,
                      "REDIS_URL": REDIS_URL, "OUTBOX_DISPATCH": "off",
                      "ENCRYPTION_KEYS": ENCRYPTION_KEYS})
    intakes, one_program = _candidate_intakes(app)
    if len(intakes) < 4:
        return [Row("bulk issuing", "skipped: fewer than 4 intakes with issuable applications")]
    env = server_env(database_url, instance)
    env["COURSE_PORTAL_REDIS_URL"] = REDIS_URL
    flask = str(Path(sys.executable).parent / "flask")
    rows, rates = [], {}
    for workers, pair in ((1, intakes[:2]), (2, intakes[2:4])):
        total = _queue_batches(app, pair)
        started = time.perf_counter()
        processes = [subprocess.Popen(  # noqa: S603 (our own venv's flask)
            [flask, "--app", "course_portal", "jobs", "worker", "--burst"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        for process in processes:
            process.wait(timeout=600)
        elapsed = time.perf_counter() - started
        issued = _issued(app, pair)
        working = _issuing_seconds(app, pair)
        rates[workers] = (issued - 1) / working if working and issued > 1 else 0.0
        rows.append(Row(f"bulk issuing, {workers} RQ worker{'s' if workers > 1 else ''}",
                        f"{issued}/{total} certificates, {rates[workers]:.1f}/s from the first "
                        f"to the last ({elapsed:.1f} s with start-up; 2 batches of "
                        f"{'one programme' if one_program else 'different programmes'})",
                        ok=None if issued == total else False))
    plain = 1000 / time_standalone(specimen_snapshot(), runs=10)["median"]
    of_plain = rates[1] / plain if plain else 0.0
    rows.append(Row("1 worker of a plain WeasyPrint loop",
                    f"{of_plain:.0%} ({plain:.1f} renders/s in this process)",
                    f">= {TARGET_OF_PLAIN:.0%}", of_plain >= TARGET_OF_PLAIN))
    two = rates[2] / rates[1] if rates[1] else 0.0
    rows.append(Row("two workers against one", f"{two:.2f}x", f">= {TARGET_TWO_WORKERS}x",
                    two >= TARGET_TWO_WORKERS if one_program else None))
    return rows
