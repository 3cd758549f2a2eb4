"""A deadline day on loopback: teachers sign in, browse, save drafts, upload and submit while
coordinators approve into the few seats left; bounded in time, then the seats are counted.

Threads with http.client against gunicorn (no locust needed). Reports throughput, p95 per kind of
request and errors; passes when there is no 5xx, no overbooked seat and no duplicate application.
Settings: BENCH_DATABASE_URL (default a SQLite file), DEADLINE_SECONDS (20), DEADLINE_TEACHERS (12
threads), DEADLINE_WORKERS (gunicorn workers, 4).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy import create_engine, func, select, update

from bench import Row
from bench.generate import BENCH_PASSWORD, COORDINATOR_EMAIL, generate
from bench.pages import CACHE_OFF, Server, percentile_ms, staff_code

#: a tiny valid PDF: what the upload checks accept
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
       b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
SCALE = 0.05
SEATS_LEFT = 3
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _csrf(body: bytes) -> str:
    match = CSRF.search(body)
    return (match.group(1) or match.group(2)).decode() if match else ""


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """One browser: a cookie, and every request's kind, status and latency recorded."""

    def __init__(self, server: Server, record):
        self.server = server
        self.cookie = ""
        self.record = record

    def call(self, kind: str, method: str, path: str, body=None, content_type: str = ""):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            status, response_headers, data = self.server.request(method, path, body, headers)
        except OSError:
            self.record(kind, 599, time.perf_counter() - started)
            raise
        self.record(kind, status, time.perf_counter() - started)
        match = re.search(r"(session=[^;]+)", response_headers.get("Set-Cookie", ""))
        if match:
            self.cookie = match.group(1)
        return status, data

    def login(self, email: str) -> bool:
        _, body = self.call("login", "GET", "/login")
        form = f"email={email}&password={BENCH_PASSWORD}&csrf_token={_csrf(body)}"
        status, _ = self.call("login", "POST", "/login", form, "application/x-www-form-urlencoded")
        if status == 302 and email == COORDINATOR_EMAIL:  # staff type their two-step code too
            _, body = self.call("login", "GET", "/login/code")
            form = f"code={staff_code()}&csrf_token={_csrf(body)}"
            status, _ = self.call("login", "POST", "/login/code", form,
                                  "application/x-www-form-urlencoded")
        return status == 302


def _teacher(server, record, pairs, lock, stop, program_code):
    while not stop.is_set():
        with lock:
            if not pairs:
                return
            email, intake_id = pairs.pop()
        client = Client(server, record)
        if not client.login(email):
            continue
        client.call("browse", "GET", "/")
        client.call("browse", "GET", f"/programs/{program_code}")
        _, body = client.call("apply form", "GET", f"/intakes/{intake_id}/apply")
        fields = {"csrf_token": _csrf(body), "motivation": "我想参加这个项目。",
                  "funding_source": "home_university", "save": "1"}
        body, content_type = _multipart(fields, {})
        client.call("save draft", "POST", f"/intakes/{intake_id}/apply", body, content_type)
        _, page = client.call("apply form", "GET", f"/intakes/{intake_id}/apply")
        fields = {"csrf_token": _csrf(page), "motivation": "我想参加这个项目。",
                  "funding_source": "home_university", "consent": "y", "send": "1"}
        files = {kind: (f"{kind}.pdf", PDF) for kind in ("diploma", "passport", "cv")}
        body, content_type = _multipart(fields, files)
        # the teacher double-clicks "Submit": two requests at once
        both = [threading.Thread(target=client.call, args=(
            "upload+submit", "POST", f"/intakes/{intake_id}/apply", body, content_type))
            for _ in range(2)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()
        client.call("browse", "GET", "/applications")


def _coordinator(server, record, intake_ids, stop):
    client = Client(server, record)
    if not client.login(COORDINATOR_EMAIL):
        return
    rng = random.Random()
    while not stop.is_set():
        intake_id = rng.choice(intake_ids)
        _, body = client.call("queue", "GET", f"/review?intake={intake_id}&status=submitted")
        ids = re.findall(rb"/review/applications/(\d+)", body)
        if not ids:
            time.sleep(0.2)
            continue
        application_id = int(rng.choice(ids))
        _, page = client.call("review", "GET", f"/review/applications/{application_id}")
        form = (f"csrf_token={_csrf(page)}&seen_status=submitted&reason=&approve=1")
        client.call("approve", "POST", f"/review/applications/{application_id}/decide", form,
                    "application/x-www-form-urlencoded")


def bench_deadline() -> list[Row]:
    """The deadline-day load with the kept-page cache on, then with it off (what every reader
    gets right after a write, as on a deadline day): each run on fresh data, seats checked."""
    return _deadline_run("cache on", {}) + _deadline_run("cache off", CACHE_OFF)


def _deadline_run(mode: str, settings: dict[str, str]) -> list[Row]:
    """Run the deadline-day load once and check the seats afterwards; rows named by mode."""
    import shutil

    seconds = int(os.environ.get("DEADLINE_SECONDS", "20"))
    n_teachers = int(os.environ.get("DEADLINE_TEACHERS", "12"))
    workers = int(os.environ.get("DEADLINE_WORKERS", "4"))
    work = tempfile.mkdtemp(prefix="bench-deadline-")
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work}/deadline.sqlite3"
    data = generate(database_url, SCALE, log=lambda _message: None)

    from course_portal.accounts.models import User
    from course_portal.catalog.models import Intake
    from course_portal.enrollment.models import SEAT_HOLDING, Application

    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url)
    today = date.today()
    with engine.connect() as conn:
        open_ids = [i for (i,) in conn.execute(
            select(Intake.id).where(Intake.applications_close_on >= today,
                                    Intake.applications_open_on <= today))]
        applied = set(conn.execute(select(Application.teacher_id, Application.intake_id)).all())
        teachers = conn.execute(select(User.id, User.email).where(User.role == "teacher")).all()
    # three seats left in each open intake: the coordinators' approvals race for them
    with engine.begin() as conn:
        conn.execute(update(Intake).where(Intake.id.in_(open_ids))
                     .values(capacity=Intake.seats_taken + SEATS_LEFT))
    rng = random.Random(9)
    pairs = [(email, intake_id) for uid, email in teachers for intake_id in open_ids
             if (uid, intake_id) not in applied]
    rng.shuffle(pairs)

    samples: dict[str, list[float]] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()

    def record(kind: str, status: int, elapsed: float) -> None:
        with lock:
            samples[kind].append(elapsed)
            statuses[status] += 1

    # every teacher signs in from 127.0.0.1: the per-address limit would refuse most of them
    server = Server(database_url, workers, os.path.join(work, "instance"),
                    {"COURSE_PORTAL_LOGIN_LIMIT_PER_IP": "100000 per minute", **settings})
    stop = threading.Event()
    try:
        threads = [threading.Thread(target=_teacher, args=(
            server, record, pairs, lock, stop, data.program_code)) for _ in range(n_teachers)]
        threads += [threading.Thread(target=_coordinator, args=(server, record, open_ids, stop))
                    for _ in range(2)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()

    with engine.connect() as conn:
        overbooked = conn.execute(select(func.count()).select_from(Intake).where(
            Intake.seats_taken > Intake.capacity)).scalar()
        held = dict(conn.execute(
            select(Application.intake_id, func.count()).where(
                Application.status.in_([s.value for s in SEAT_HOLDING]))
            .group_by(Application.intake_id)).all())
        counters = dict(conn.execute(select(Intake.id, Intake.seats_taken)).all())
        capacity = dict(conn.execute(select(Intake.id, Intake.capacity)).all())
        duplicates = conn.execute(
            select(Application.teacher_id, Application.intake_id)
            .group_by(Application.teacher_id, Application.intake_id)
            .having(func.count() > 1)).all()
        submitted = conn.execute(select(func.count()).select_from(Application).where(
            Application.intake_id.in_(open_ids), Application.status != "draft")).scalar()
        approved = conn.execute(select(func.count()).select_from(Application).where(
            Application.intake_id.in_(open_ids), Application.status == "approved")).scalar()
    engine.dispose()
    shutil.rmtree(work, ignore_errors=True)
    mismatched = [i for i in counters if counters[i] != held.get(i, 0)]
    over = [i for i in capacity if held.get(i, 0) > capacity[i]]

    total = sum(len(v) for v in samples.values())
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    rows = [Row(f"deadline load, {mode}", f"{total} requests in {elapsed:.0f} s = {total / elapsed:.0f} req/s, "
                                 f"{n_teachers} teachers + 2 coordinators, {workers} workers, "
                                 f"{database_url.split(':', 1)[0]}")]
    for kind, values in sorted(samples.items()):
        rows.append(Row(f"  {kind}", f"{len(values)} requests, p50 "
                                     f"{statistics.median(values) * 1000:.0f} ms, p95 "
                                     f"{percentile_ms(values, 0.95):.0f} ms"))
    rows.append(Row("statuses", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))))
    rows.append(Row("5xx and connection errors", str(server_errors), "0", server_errors == 0))
    rows.append(Row("overbooked intakes", str(overbooked + len(over)), "0",
                    overbooked + len(over) == 0))
    rows.append(Row("seat counters matching seat-holding rows", f"{len(counters) - len(mismatched)}"
                    f"/{len(counters)}", "all", not mismatched))
    rows.append(Row("duplicate applications", str(len(duplicates)), "0", not duplicates))
    rows.append(Row("open intakes after the load", f"{submitted} applications sent, {approved} "
                                                   f"approved, seats {sum(counters[i] for i in open_ids)}"
                                                   f"/{sum(capacity[i] for i in open_ids)}"))
    return [rows[0], *(Row(f"{mode}: {row.measure.strip()}", row.value, row.target, row.ok)
                       for row in rows[1:])]
