"""Bulk issuing throughput: certificate batches run by one and by two RQ workers (real PDFs).

Needs Redis at 127.0.0.1:6379 (database 14 is used and emptied); the row is skipped otherwise.
Each run queues one batch per intake for two intakes of the same programme (so both workers
take numbers from one registry counter) and starts the workers in burst mode. The rate is
the certificates' own, from their issuing times: while each batch runs for one worker, and
while both batches run for two, so that neither the workers' start-up (2-3 s, and one worker
starting later than the other) nor the next job's start counts.

The plain WeasyPrint loop renders the HTML of the very certificates the one worker issued,
right after it, in a process state like the worker's (start-up frozen out of the garbage
collector), and counts the same way: renders over the time they took, not a median.
"""

from __future__ import annotations

import gc
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


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, those of this process and its waited-for
    children): what the others ran meanwhile is the difference of the differences."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # less idle, iowait
    ours = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), (ours.user + ours.system + ours.children_user
                                             + ours.children_system)


def _others_cores(before: tuple[float, float], seconds: float) -> float:
    """How many cores other processes (another engineer's, say) kept busy on average since
    before: a run that shared the machine is read with that in mind."""
    after = _cpu_seconds()
    if not seconds or not after[0]:
        return 0.0
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / seconds


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


def _issuing_times(app, intake_ids: list[int]) -> dict[int, list]:
    """When each certificate of these intakes was issued, by intake, in order."""
    from sqlalchemy import select

    from course_portal.certificates.models import Certificate
    from course_portal.enrollment.models import Application
    from course_portal.extensions import db

    times: dict[int, list] = {intake_id: [] for intake_id in intake_ids}
    with app.app_context():
        for intake_id, issued_at in db.session.execute(
                select(Application.intake_id, Certificate.issued_at)
                .join(Application, Application.id == Certificate.application_id)
                .where(Application.intake_id.in_(intake_ids)).order_by(Certificate.issued_at)):
            times[intake_id].append(issued_at)
    return times


def one_worker_rate(times: dict[int, list]) -> float:
    """Certificates per second of batches run one after the other: within each batch, from
    its first certificate to its last (the next job's start is not the certificates')."""
    spans = [(len(t) - 1, (t[-1] - t[0]).total_seconds()) for t in times.values() if len(t) > 1]
    seconds = sum(span for _count, span in spans)
    return sum(count for count, _span in spans) / seconds if seconds else 0.0


def together_rate(times: dict[int, list]) -> float:
    """Certificates per second of batches run at once, while all of them were issuing: from
    the last batch's first certificate to the first batch's last."""
    if any(len(t) < 2 for t in times.values()):
        return 0.0
    start = max(t[0] for t in times.values())
    end = min(t[-1] for t in times.values())
    issued = sum(1 for t in times.values() for moment in t if start < moment <= end)
    seconds = (end - start).total_seconds()
    return issued / seconds if seconds > 0 and issued else 0.0


def _issued_html(app, intake_ids: list[int], base_url: str) -> list[str]:
    """The HTML of the certificates these intakes received, as their worker rendered it: from
    the frozen snapshot, with the worker's verification address and the images it printed."""
    from sqlalchemy import select

    from course_portal.certificates.models import Certificate
    from course_portal.certificates.pdf import render_html
    from course_portal.certificates.pdfs import _frozen_images
    from course_portal.certificates.services import VERIFY_PATH
    from course_portal.certificates.snapshot import CertificateSnapshot
    from course_portal.enrollment.models import Application
    from course_portal.extensions import db

    pages = []
    with app.app_context():
        for frozen, code in db.session.execute(
                select(Certificate.snapshot, Certificate.verification_code)
                .join(Application, Application.id == Certificate.application_id)
                .where(Application.intake_id.in_(intake_ids)).order_by(Certificate.id)):
            snapshot = CertificateSnapshot.from_dict(frozen)
            pages.append(render_html(snapshot, base_url.rstrip("/") + VERIFY_PATH.format(code=code),
                                     images=_frozen_images(snapshot) or {}))
    return pages


def plain_rate(pages: list[str]) -> float:
    """Renders per second of a plain WeasyPrint loop over these pages: the stylesheet and the
    font configuration built once, each page one HTML(...).write_pdf() with the portal's PDF
    options, as the worker's process is: warmed up, what it loaded frozen out of the garbage
    collector's walks (core.jobs.worker_command)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from course_portal.certificates.fetcher import STATIC_DIR
    from course_portal.certificates.pdf import PDF_OPTIONS, STYLESHEET

    base_url = STATIC_DIR.as_uri() + "/"
    fonts = FontConfiguration()
    css = CSS(filename=str(STYLESHEET), base_url=base_url, font_config=fonts)

    def render(page: str) -> bytes:
        return HTML(string=page, base_url=base_url).write_pdf(
            stylesheets=[css], font_config=fonts, **PDF_OPTIONS)

    for page in pages[:3]:
        render(page)
    gc.collect()
    gc.freeze()
    try:
        started = time.perf_counter()
        for page in pages:
            render(page)
        return len(pages) / (time.perf_counter() - started)
    finally:
        gc.unfreeze()


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
    plain = 0.0
    for workers, pair in ((1, intakes[:2]), (2, intakes[2:4])):
        total = _queue_batches(app, pair)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        processes = [subprocess.Popen(  # noqa: S603 (our own venv's flask)
            [flask, "--app", "course_portal", "jobs", "worker", "--burst"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        for process in processes:
            process.wait(timeout=600)
        elapsed = time.perf_counter() - started
        others = _others_cores(cpu_before, elapsed)
        issued = _issued(app, pair)
        times = _issuing_times(app, pair)
        rates[workers] = one_worker_rate(times) if workers == 1 else together_rate(times)
        rows.append(Row(f"bulk issuing, {workers} RQ worker{'s' if workers > 1 else ''}",
                        f"{issued}/{total} certificates, {rates[workers]:.1f}/s "
                        f"{'within each batch' if workers == 1 else 'while both batches ran'} "
                        f"({elapsed:.1f} s with start-up; 2 batches of "
                        f"{'one programme' if one_program else 'different programmes'}; "
                        f"other processes kept {others:.1f} of {os.cpu_count()} cores busy)",
                        ok=None if issued == total else False))
        if workers == 1:
            # now, before the machine's speed drifts: the same pages the worker rendered
            plain = plain_rate(_issued_html(app, pair, env["COURSE_PORTAL_BASE_URL"]))
    of_plain = rates[1] / plain if plain else 0.0
    rows.append(Row("1 worker of a plain WeasyPrint loop",
                    f"{of_plain:.0%} ({plain:.1f} renders/s of the same pages in this process)",
                    f">= {TARGET_OF_PLAIN:.0%}", of_plain >= TARGET_OF_PLAIN))
    two = rates[2] / rates[1] if rates[1] else 0.0
    rows.append(Row("two workers against one", f"{two:.2f}x", f">= {TARGET_TWO_WORKERS}x",
                    two >= TARGET_TWO_WORKERS if one_program else None))
    return rows
