"""The bench measures the portal an operator configures: COURSE_PORTAL_* settings reach the
gunicorn it starts, and the cache-off run really serves no kept page."""

from __future__ import annotations

import json

import pytest

from bench.pages import CACHE_OFF, SETTINGS_PATH, Server


@pytest.fixture
def bench_database(tmp_path):
    """An empty, upgraded SQLite database, as the bench's generator leaves one."""
    from bench.generate import wipe_and_upgrade
    from course_portal import create_app

    url = f"sqlite:///{tmp_path}/bench.sqlite3"
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        wipe_and_upgrade()
    return url


def _served_settings(server: Server) -> dict:
    status, _headers, body = server.get(SETTINGS_PATH)
    assert status == 200
    return json.loads(body)


def test_an_operators_setting_reaches_the_served_app_and_cache_off_wins(
        bench_database, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PORTAL_REVIEW_DIGEST_DAYS", "9")
    monkeypatch.setenv("COURSE_PORTAL_PAGE_CACHE_SECONDS", "45")
    cached = Server(bench_database, 1, str(tmp_path / "on"))
    try:
        on = _served_settings(cached)
    finally:
        cached.stop()
    uncached = Server(bench_database, 1, str(tmp_path / "off"), CACHE_OFF)
    try:
        off = _served_settings(uncached)
    finally:
        uncached.stop()

    assert on["REVIEW_DIGEST_DAYS"] == off["REVIEW_DIGEST_DAYS"] == "9"
    assert on["PAGE_CACHE_SECONDS"] == "45"
    assert off["PAGE_CACHE_SECONDS"] == "0"  # the run's own setting over the operator's
    assert on["ENV"] == "production" and on["STEPS"] == "off"
