"""Key pages under load: gunicorn on loopback, wrk with 16 connections, ratios to a bare endpoint.

Settings (environment):
  BENCH_SCALE         data size, 1 = 20,000 applications (default 0.1, so `make bench` stays short)
  BENCH_DATABASE_URL  where the data go (wiped first); default a SQLite file in a temporary folder
  BENCH_WORKERS       gunicorn sync worker counts to measure, e.g. "2 4" (default "2 4")
  BENCH_SECONDS       wrk duration per page and round, after a second of warm-up (default 5)
  BENCH_ROUNDS        rounds over every page, the bare endpoint first in each (default 3)

A shared machine's speed drifts within a minute, and a page's p99 over 5 s can catch one stall
of the whole machine. So the pages are measured in rounds, each round going once through all
of them, bare endpoint included: a page's ratio in a round is to that round's bare endpoint,
and the table shows each figure's median over the rounds, with the range of p99 beside it.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench import Row
from bench.generate import (
    BENCH_PASSWORD,
    BENCH_TOTP_SECRET,
    COORDINATOR_EMAIL,
    ENCRYPTION_KEYS,
    Generated,
    generate,
)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
#: the bare endpoint, added only by bench/wsgi_app.py
BARE_PATH = "/__bench/bare"
#: the served app's settings that a bench run may change, also only in bench/wsgi_app.py
SETTINGS_PATH = "/__bench/settings"
SHOWN_SETTINGS = ("PAGE_CACHE_SECONDS", "REVIEW_DIGEST_DAYS", "ENV", "STEPS")
CONNECTIONS = 16
#: targets of issue 9, point 3
TARGET_RATIO = 0.20
TARGET_P99_MS = 50.0
#: the data size whose query counts are compared with the benchmark's
SMALL_SCALE = 0.005
#: requests per page timed in process through the test client
TIMED_REQUESTS = 5


@dataclass(frozen=True)
class Page:
    """A page to measure: its name, path, and who is signed in (None, teacher or coordinator)."""

    name: str
    path: str
    user: str | None = None


@dataclass
class Measured:
    """What wrk reported for one page."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Rounds:
    """One page's measurements, a round each, with the bare endpoint's in the same rounds."""

    measured: list[Measured]
    bare: list[Measured]

    @property
    def rps(self) -> float:
        return statistics.median(m.rps for m in self.measured)

    @property
    def ratio(self) -> float:
        """The median over the rounds of the page's throughput over that round's bare one."""
        return statistics.median(m.rps / b.rps for m, b in zip(self.measured, self.bare,
                                                               strict=True))

    @property
    def p50_ms(self) -> float:
        return statistics.median(m.p50_ms for m in self.measured)

    @property
    def p99_ms(self) -> float:
        return statistics.median(m.p99_ms for m in self.measured)

    @property
    def p99_range(self) -> tuple[float, float]:
        return min(m.p99_ms for m in self.measured), max(m.p99_ms for m in self.measured)

    @property
    def errors(self) -> int:
        return sum(m.errors for m in self.measured)


def pages_for(data: Generated, has_dashboard: bool) -> list[Page]:
    """The key pages of issue 9 with ids from the generated data."""
    pages = [
        Page("bare endpoint", BARE_PATH),
        Page("catalog /", "/"),
        Page("program page", f"/programs/{data.program_code}"),
        Page("teacher /applications", "/applications", "teacher"),
        Page("teacher /progress/<id>", f"/progress/{data.teacher_application_id}", "teacher"),
        Page("review queue", "/review", "coordinator"),
        Page("roster", f"/progress/manage/intakes/{data.roster_intake_id}/roster", "coordinator"),
        Page("verify /verify/<code>", f"/verify/{data.verification_code}"),
    ]
    if has_dashboard:
        pages.append(Page("dashboard", "/dashboard", "coordinator"))
    return pages


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile_ms(values: list[float], fraction: float) -> float:
    """The value (seconds in, milliseconds out) below which this fraction lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] * 1000


#: settings the bench's server gets unless the operator's environment sets them: production,
#: plain HTTP, no mail, and no per-address limit (the load comes from one address)
SERVER_DEFAULTS = {
    "COURSE_PORTAL_ENV": "production",
    "COURSE_PORTAL_BASE_URL": "http://127.0.0.1",
    "COURSE_PORTAL_HTTPS": "0",
    "COURSE_PORTAL_OUTBOX_DISPATCH": "off",
    "COURSE_PORTAL_VERIFY_RATE_LIMIT": "1000000 per minute",
    "COURSE_PORTAL_CALENDAR_RATE_LIMIT": "1000000 per minute",
    # the timed steps would write while pages are measured
    "COURSE_PORTAL_STEPS": "off",
}
#: a kept page is never served: what every reader gets right after any write
CACHE_OFF = {"COURSE_PORTAL_PAGE_CACHE_SECONDS": "0"}


def server_env(database_url: str, instance: str,
               settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the bench's gunicorn.

    The operator's COURSE_PORTAL_* settings reach the served app (`COURSE_PORTAL_X=… make
    bench` measures the portal with X), over SERVER_DEFAULTS; then the run's own settings
    (settings, e.g. CACHE_OFF); the database, instance folder and secret are always the
    bench's, since it generates the data it measures.
    """
    env = dict(os.environ)
    for name, value in SERVER_DEFAULTS.items():
        env.setdefault(name, value)
    env.update(settings or {})
    env.update({
        "COURSE_PORTAL_SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "COURSE_PORTAL_ENCRYPTION_KEYS": json.dumps(ENCRYPTION_KEYS),
        "COURSE_PORTAL_DATABASE_URL": database_url,
        "COURSE_PORTAL_INSTANCE_PATH": instance,
    })
    return env


class Server:
    """gunicorn serving bench.wsgi_app on a loopback port, stopped on exit."""

    def __init__(self, database_url: str, workers: int, instance: str,
                 settings: dict[str, str] | None = None):
        self.port = free_port()
        env = server_env(database_url, instance, settings)
        os.makedirs(instance, exist_ok=True)
        #: gunicorn's and the app's log, kept out of the table
        self.log_path = os.path.join(instance, "gunicorn.log")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        # the deployment's settings (preloaded app, frozen start-up objects), with the bench's
        # workers and port, no access log, and no worker recycled in the middle of a page
        self.process = subprocess.Popen(  # noqa: S603 (our own venv's gunicorn)
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(GUNICORN_CONF),
             "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--access-logfile", "/dev/null", "--max-requests", "0",
             "--chdir", str(ROOT), "bench.wsgi_app:app"],
            env=env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get(BARE_PATH)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            raise RuntimeError("gunicorn did not answer within 30 s:\n" + log.read()[-2000:])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def get(self, path: str, cookie: str = "") -> tuple[int, dict, bytes]:
        return self.request("GET", path, headers={"Cookie": cookie} if cookie else {})

    def login(self, email: str) -> str:
        """Sign in through the login form; the session cookie as a Cookie header value."""
        status, headers, body = self.get("/login")
        cookie = _cookie(headers)
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
            rb'name="csrf_token" value="([^"]+)"', body)
        form = {"email": email, "password": BENCH_PASSWORD}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, headers, _ = self.request(
            "POST", "/login", urllib.parse.urlencode(form),
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login of {email} answered {status}")
        cookie = _cookie(headers) or cookie
        if headers.get("Location", "").endswith("/login/code"):
            cookie = self._two_step(cookie)
        return cookie

    def _two_step(self, cookie: str) -> str:
        """Staff: type the authenticator's current code, as a person would."""
        _status, headers, body = self.get("/login/code", cookie)
        cookie = _cookie(headers) or cookie  # the page's CSRF secret lives in the session
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body)
        form = {"code": staff_code()}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, headers, _ = self.request(
            "POST", "/login/code", urllib.parse.urlencode(form),
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "/login" in headers.get("Location", "/login"):
            raise RuntimeError(f"the two-step code was refused ({status})")
        return _cookie(headers) or cookie

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


def _cookie(headers: dict) -> str:
    raw = headers.get("Set-Cookie", "")
    match = re.search(r"(session=[^;]+)", raw)
    return match.group(1) if match else ""


#: the last authenticator time step the bench typed (one coordinator, several sign-ins)
_last_step = [0]


def staff_code() -> str:
    """The code of the generated staff accounts' authenticator, never the same step twice.

    Each time step counts once per account: a second sign-in within 30 s types the next
    step's code (accepted one step early), a third waits for the step after.
    """
    import pyotp

    totp = pyotp.TOTP(BENCH_TOTP_SECRET)
    step = max(int(time.time()) // totp.interval, _last_step[0] + 1)
    while step > int(time.time()) // totp.interval + 1:
        time.sleep(1)
    _last_step[0] = step
    return totp.generate_otp(step)

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, cookie: str, seconds: int) -> Measured:
    """wrk on one URL: 2 threads, 16 connections, latency percentiles, after a second of the
    same load that is not measured: every worker has then rendered and kept the page once,
    so the figures are of the page served, not of each worker's first request."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    subprocess.run(command + ["-d1s", url], capture_output=True, check=True,  # noqa: S603
                   timeout=30)
    out = subprocess.run(command + [f"-d{seconds}s", url], capture_output=True,  # noqa: S603
                         text=True, check=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)", r"Socket errors:.*?timeout (\d+)"):
        match = re.search(pattern, out)
        errors += int(match.group(1)) if match else 0
    return Measured(rps, p50, p99, errors)


# --- query counts --------------------------------------------------------------------------


def query_counts(database_url: str, data: Generated, pages: list[Page],
                 timings: dict[str, float] | None = None) -> dict[str, int]:
    """SQL statements per page, through the Flask test client with a statement counter.

    With timings, also each page's milliseconds per request in this one process, unloaded:
    a figure that other work on a shared machine disturbs less than wrk's.
    """
    from sqlalchemy import event, select

    from course_portal import create_app
    from course_portal.accounts.models import User
    from course_portal.extensions import db

    app = create_app({
        "ENV": "testing", "TESTING": True, "DATABASE_URL": database_url,
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-queries-"), "OUTBOX_DISPATCH": "off",
        "ENCRYPTION_KEYS": ENCRYPTION_KEYS,
        "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
        # what a page costs to render and how many queries it takes, not a kept copy
        "PAGE_CACHE_SECONDS": 0,
    })
    app.add_url_rule(BARE_PATH, "bench_bare", lambda: "ok")
    # as gunicorn's master does before forking (deploy/gunicorn.conf.py): what start-up loaded
    # is not walked again by each collection, so the figure is the served page's
    gc.collect()
    gc.freeze()
    counts: dict[str, int] = {}
    with app.app_context():
        users = {
            "teacher": db.session.scalar(select(User).where(User.email == data.teacher_email)),
            "coordinator": db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL)),
        }
        ids = {role: user.get_id() for role, user in users.items()}
        db.session.remove()
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for page in pages:
            client = app.test_client()
            if page.user:
                with client.session_transaction() as session:
                    session["_user_id"] = ids[page.user]
                    session["_fresh"] = True
            client.get(page.path)  # warm: caches and first-use imports
            statements.clear()
            response = client.get(page.path)
            counts[page.name] = len(statements) if response.status_code == 200 else -1
            if timings is not None:
                started = time.perf_counter()
                for _ in range(TIMED_REQUESTS):
                    client.get(page.path)
                timings[page.name] = (time.perf_counter() - started) / TIMED_REQUESTS * 1000
    finally:
        event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()
    return counts


# --- the benchmark ---------------------------------------------------------------------------


def bench_pages() -> list[Row]:
    """Generate data, serve it with gunicorn, measure each page with wrk, compare to bare."""
    if not shutil.which("wrk"):
        return [Row("pages", "skipped: wrk is not installed (apt-get install wrk)")]
    scale = float(os.environ.get("BENCH_SCALE", "0.1"))
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    workers_list = [int(w) for w in os.environ.get("BENCH_WORKERS", "2 4").split()]
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
    work = tempfile.mkdtemp(prefix="bench-pages-")
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work}/bench.sqlite3"
    small_url = f"sqlite:///{work}/small.sqlite3"
    quiet = lambda _message: None  # noqa: E731

    started = time.perf_counter()
    small = generate(small_url, SMALL_SCALE, log=quiet)
    data = generate(database_url, scale, log=quiet)
    dialect = database_url.split(":", 1)[0]
    rows = [Row("data", f"{data.counts['intakes+applications'] - 60} applications, "
                        f"scale {scale}, {dialect}, generated in "
                        f"{time.perf_counter() - started:.1f} s")]

    has_dashboard = _has_dashboard()
    pages = pages_for(data, has_dashboard)
    in_process: dict[str, float] = {}
    queries_big = query_counts(database_url, data, pages, in_process)
    queries_small = query_counts(small_url, small, pages_for(small, has_dashboard))

    for workers in workers_list:
        # the same pages with the kept-page cache on and off, side by side in the same rounds:
        # a coordinator working the queue gets the uncached page after every write
        servers = {}
        try:
            for mode, settings in (("cache on", {}), ("cache off", CACHE_OFF)):
                servers[mode] = Server(database_url, workers,
                                       os.path.join(work, f"instance-{workers}-{mode[6:]}"),
                                       settings)
            rows += _measure_pages(servers, data, pages, workers, seconds, rounds,
                                   queries_small, queries_big, in_process)
        finally:
            for server in servers.values():
                server.stop()
    if not has_dashboard:
        rows.append(Row("dashboard", "skipped: no /dashboard route yet"))
    shutil.rmtree(work, ignore_errors=True)
    return rows


def _measure_pages(servers: dict[str, Server], data: Generated, pages: list[Page],
                   workers: int, seconds: int, rounds: int, queries_small: dict[str, int],
                   queries_big: dict[str, int], in_process: dict[str, float]) -> list[Row]:
    """Every page under wrk on every server (cache on, cache off), in rounds (see the module):
    in each round a page is measured on each server in turn, so both see the same machine."""
    rows: list[Row] = []
    cookies = {mode: {"teacher": server.login(data.teacher_email),
                      "coordinator": server.login(COORDINATOR_EMAIL)}
               for mode, server in servers.items()}
    served = []
    for page in pages:
        statuses = {mode: server.get(page.path, cookies[mode].get(page.user, ""))[0]
                    for mode, server in servers.items()}
        if all(status == 200 for status in statuses.values()):
            served.append(page)
        else:
            rows.append(Row(f"{workers}w {page.name}", f"answered {statuses}", "200", False))
    if not served or served[0].path != BARE_PATH:
        return rows + [Row(f"{workers}w pages", "not measured: the bare endpoint did not answer",
                           "200", False)]
    results = {(mode, page.name): Rounds([], []) for mode in servers for page in served}
    for _round in range(rounds):
        bare: dict[str, Measured] = {}
        for page in served:
            for mode, server in servers.items():
                jar = cookies[mode]
                if page.user:
                    # as a browser would: the session cookie of the last response, so a staff
                    # session's last-seen mark is as recent as a person's clicking keeps it
                    _status, headers, _body = server.get(page.path, jar[page.user])
                    jar[page.user] = _cookie(headers) or jar[page.user]
                m = run_wrk(server.url(page.path), jar.get(page.user, ""), seconds)
                bare.setdefault(mode, m)
                results[(mode, page.name)].measured.append(m)
                results[(mode, page.name)].bare.append(bare[mode])
    for page in served:
        for mode in servers:
            r = results[(mode, page.name)]
            q_small, q_big = queries_small.get(page.name), queries_big.get(page.name)
            ok = (r.errors == 0 and r.p99_ms <= TARGET_P99_MS
                  and (page.path == BARE_PATH or r.ratio >= TARGET_RATIO)
                  and q_small == q_big)
            low, high = r.p99_range
            rows.append(Row(
                f"{workers}w {mode} {page.name}",
                f"{r.rps:7.0f} req/s  p50 {r.p50_ms:5.1f} ms  p99 {r.p99_ms:5.1f} ms "
                f"({low:.0f}-{high:.0f})  {r.ratio:4.0%} of bare  queries {q_small} small / "
                f"{q_big} big  {in_process.get(page.name, 0):5.1f} ms uncached in process"
                + (f"  {r.errors} errors" if r.errors else ""),
                f">= {TARGET_RATIO:.0%}, p99 <= {TARGET_P99_MS:.0f} ms, same queries",
                ok,
            ))
    return rows


def _has_dashboard() -> bool:
    from course_portal import create_app

    app = create_app({"ENV": "testing", "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-map-"),
                      "ENCRYPTION_KEYS": ENCRYPTION_KEYS})
    return any(rule.rule == "/dashboard" for rule in app.url_map.iter_rules())
