"""The deployment files in deploy/: units that start real commands, a gunicorn config that loads,
an nginx sample that accepts the largest upload the app accepts."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from course_portal.config import Defaults

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
#: where the units expect the checkout and the virtualenv on the server
SERVER_SRC = "/srv/course-portal/src"
SERVER_VENV = "/srv/course-portal/.venv"
UNITS = sorted(DEPLOY.glob("*.service"))
TIMERS = sorted(DEPLOY.glob("*.timer"))


def read_unit(path: Path) -> configparser.ConfigParser:
    """A systemd unit file as sections of keys (systemd's syntax is close enough to INI)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_the_expected_units_are_there():
    names = {p.name for p in UNITS + TIMERS}
    assert {
        "course-portal.service", "course-portal-worker.service",
        "course-portal-enroll.service", "course-portal-enroll.timer",
        "course-portal-outbox.service", "course-portal-outbox.timer",
        "course-portal-scheduler.service",
    } <= names


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_service_starts_a_command_of_the_project(path, app):
    unit = read_unit(path)
    service = unit["Service"]
    assert service["WorkingDirectory"] == SERVER_SRC
    assert service["EnvironmentFile"] == "/etc/course-portal/env"
    argv = shlex.split(service["ExecStart"])
    program = argv[0]
    assert program.startswith(SERVER_VENV + "/bin/"), program
    # the same program exists in this checkout's virtualenv
    assert (Path(sys.executable).parent / Path(program).name).exists()
    if Path(program).name == "gunicorn":
        config = argv[argv.index("--config") + 1]
        assert (ROOT / config).is_file()
        module, _, attribute = argv[-1].partition(":")
        assert (ROOT / f"{module}.py").is_file() and attribute == "app"
    else:
        assert argv[1:3] == ["--app", "course_portal"]
        group, *rest = argv[3:]
        command = app.cli.commands[group]
        for name in rest:
            command = command.commands[name]  # KeyError: the unit names a command that is gone


@pytest.mark.parametrize("path", TIMERS, ids=lambda p: p.name)
def test_timer_has_its_service_and_a_schedule(path):
    timer = read_unit(path)["Timer"]
    assert (DEPLOY / path.name.replace(".timer", ".service")).is_file()
    assert {"OnCalendar", "OnUnitActiveSec"} & set(timer)


def test_timers_run_daily_enrollment_and_the_outbox_every_five_minutes():
    assert "*-*-* 00:10:00" in read_unit(DEPLOY / "course-portal-enroll.timer")["Timer"]["OnCalendar"]
    assert read_unit(DEPLOY / "course-portal-outbox.timer")["Timer"]["OnUnitActiveSec"] == "5min"


def test_gunicorn_config_is_accepted(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_PORTAL_")}
    env.update({
        "COURSE_PORTAL_SECRET_KEY": "deploy-test-" + "x1y2z3w4v5u6t7s8r9q0" * 2,
        "COURSE_PORTAL_ENCRYPTION_KEYS": '{"deploy-1": "ZGVwbG95LXRlc3Qta2V5LWZvci1lbmNyeXB0aW9uLTE"}',
        "COURSE_PORTAL_INSTANCE_PATH": str(tmp_path),
        "COURSE_PORTAL_BASE_URL": "https://apply.example.edu",
    })
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(  # noqa: S603 (our own venv's gunicorn)
        [str(gunicorn), "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _size_in_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_nginx_accepts_what_the_app_accepts():
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    sizes = re.findall(r"^\s*client_max_body_size\s+(\w+);", text, re.MULTILINE)
    assert sizes, "client_max_body_size is not set"
    assert all(_size_in_bytes(size) >= Defaults.MAX_CONTENT_LENGTH for size in sizes)
    assert re.search(r"^\s*proxy_request_buffering\s+on;", text, re.MULTILINE)
    assert re.search(r"proxy_pass\s+http://course_portal;", text)
    assert re.search(r"server\s+127\.0\.0\.1:8000", text)


def test_nginx_serves_the_package_static_folder():
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    alias = re.search(r"location /static/ \{\s*alias (\S+);", text).group(1)
    assert alias == f"{SERVER_SRC}/course_portal/static/"
    assert (ROOT / "course_portal" / "static").is_dir()
