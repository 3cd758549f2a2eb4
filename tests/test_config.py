"""Settings: defaults, then instance/config.py, then COURSE_PORTAL_* variables, then test settings."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from flask import session

from course_portal import create_app

#: a key good enough for production
REAL_KEY = secrets.token_urlsafe(48)
#: production's keys for secrets at rest
ENCRYPTION_KEYS = '{"2026-12": "' + base64.urlsafe_b64encode(os.urandom(32)).decode() + '"}'


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An empty instance folder, and no COURSE_PORTAL_* variable from the developer's shell."""
    folder = tmp_path / "instance"
    folder.mkdir()
    for name in [n for n in os.environ if n.startswith("COURSE_PORTAL_")]:
        monkeypatch.delenv(name)
    return folder


def write_instance_config(folder, text: str) -> None:
    (folder / "config.py").write_text(text, encoding="utf-8")


def build(folder, **settings):
    """create_app with the instance folder and only the given test settings."""
    return create_app({"INSTANCE_PATH": str(folder), **settings})


def test_each_source_overrides_the_one_before(instance, monkeypatch):
    write_instance_config(
        instance,
        'SECRET_KEY = "instance-' + REAL_KEY + '"\n'
        'MAIL_SERVER = "smtp.instance.example"\n'
        "MAIL_PORT = 2525\n"
        'BASE_URL = "https://instance.example"\n'
        "OUTBOX_MAX_ATTEMPTS = 4\n",
    )
    monkeypatch.setenv("COURSE_PORTAL_MAIL_PORT", "2526")
    monkeypatch.setenv("COURSE_PORTAL_BASE_URL", "https://env.example")
    monkeypatch.setenv("COURSE_PORTAL_REDIS_URL", "redis://env.example:6379/0")
    monkeypatch.setenv("COURSE_PORTAL_ENCRYPTION_KEYS", ENCRYPTION_KEYS)

    app = build(instance, BASE_URL="https://test.example")

    config = app.config
    assert config["MAIL_TIMEOUT"] == 10  # default, nobody set it
    assert config["OUTBOX_MAX_ATTEMPTS"] == 4  # instance over default
    assert config["MAIL_SERVER"] == "smtp.instance.example"  # instance, the environment is silent
    assert config["MAIL_PORT"] == 2526  # environment over instance, as a number
    assert config["REDIS_URL"] == "redis://env.example:6379/0"  # environment over default
    assert config["BASE_URL"] == "https://test.example"  # test settings over everything
    assert config["SECRET_KEY"] == "instance-" + REAL_KEY
    assert config["RATELIMIT_STORAGE_URI"] == "redis://env.example:6379/0"


def test_environment_values_take_the_type_of_the_setting(instance, monkeypatch):
    monkeypatch.setenv("COURSE_PORTAL_ENV", "development")
    monkeypatch.setenv("COURSE_PORTAL_MAIL_USE_TLS", "1")
    monkeypatch.setenv("COURSE_PORTAL_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("COURSE_PORTAL_LANGUAGES", '["zh", "en"]')
    monkeypatch.setenv("COURSE_PORTAL_REMEMBER_COOKIE_DURATION", "3600")

    config = build(instance).config

    assert config["ENV"] == "development"
    assert config["MAIL_USE_TLS"] is True
    assert config["RATELIMIT_ENABLED"] is False
    assert config["LANGUAGES"] == ["zh", "en"]
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=1)


# --- the secret key ------------------------------------------------------------------------------


def test_production_without_a_secret_key_refuses_to_start(instance):
    with pytest.raises(RuntimeError, match="COURSE_PORTAL_SECRET_KEY"):
        build(instance)


def test_production_is_the_default_environment(instance):
    # nothing says development: a forgotten setting must not open the door
    write_instance_config(instance, 'MAIL_SERVER = "smtp.example"\n')
    with pytest.raises(RuntimeError, match="COURSE_PORTAL_SECRET_KEY"):
        build(instance)


@pytest.mark.parametrize(
    "key",
    [
        "dev",
        "changeme",
        "development-only",
        "q7Zx0-Lk2Vb9_Wm4Rt6Yp1",  # random-looking but short
        "changeme" * 4,  # long enough, but a placeholder
        "x" * 64,
    ],
)
def test_production_refuses_a_weak_secret_key(instance, monkeypatch, key):
    monkeypatch.setenv("COURSE_PORTAL_SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="COURSE_PORTAL_SECRET_KEY"):
        build(instance)


def test_production_starts_with_a_real_key_from_the_environment(instance, monkeypatch):
    monkeypatch.setenv("COURSE_PORTAL_SECRET_KEY", REAL_KEY)
    monkeypatch.setenv("COURSE_PORTAL_BASE_URL", "https://apply.example.edu")
    monkeypatch.setenv("COURSE_PORTAL_ENCRYPTION_KEYS", ENCRYPTION_KEYS)

    app = build(instance)

    assert app.config["SECRET_KEY"] == REAL_KEY
    # production is served over HTTPS unless told otherwise
    assert app.config["HTTPS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_starts_with_a_real_key_from_the_instance_folder(instance):
    write_instance_config(instance, f'SECRET_KEY = "{REAL_KEY}"\n'
                                    'BASE_URL = "https://apply.example.edu"\n'
                                    f"ENCRYPTION_KEYS = {ENCRYPTION_KEYS}\n")

    assert build(instance).config["SECRET_KEY"] == REAL_KEY


def test_production_refuses_to_start_without_a_key_for_secrets_at_rest(instance, monkeypatch):
    monkeypatch.setenv("COURSE_PORTAL_SECRET_KEY", REAL_KEY)
    monkeypatch.setenv("COURSE_PORTAL_BASE_URL", "https://apply.example.edu")
    with pytest.raises(RuntimeError, match="COURSE_PORTAL_ENCRYPTION_KEYS is not set"):
        build(instance)
    monkeypatch.setenv("COURSE_PORTAL_ENCRYPTION_KEYS", '{"a": "too short"}')
    with pytest.raises(RuntimeError, match="is not 32 bytes"):
        build(instance)
    monkeypatch.setenv("COURSE_PORTAL_ENCRYPTION_KEYS", ENCRYPTION_KEYS[:-1] + ', "b": "'
                       + base64.urlsafe_b64encode(os.urandom(32)).decode() + '"}')
    with pytest.raises(RuntimeError, match="set ENCRYPTION_KEY_ID"):
        build(instance)
    monkeypatch.setenv("COURSE_PORTAL_ENCRYPTION_KEY_ID", "b")
    assert build(instance).config["ENCRYPTION_KEY_ID"] == "b"


def test_production_refuses_to_start_without_its_public_address(instance, monkeypatch):
    monkeypatch.setenv("COURSE_PORTAL_SECRET_KEY", REAL_KEY)
    with pytest.raises(RuntimeError, match="COURSE_PORTAL_BASE_URL is not set"):
        build(instance)


def test_development_links_follow_the_address_make_run_serves(instance, monkeypatch):
    # make run passes COURSE_PORTAL_BASE_URL=http://HOST:PORT unless it is set already
    monkeypatch.setenv("COURSE_PORTAL_BASE_URL", "http://127.0.0.1:8000")
    assert build(instance, ENV="development").config["BASE_URL"] == "http://127.0.0.1:8000"
    monkeypatch.delenv("COURSE_PORTAL_BASE_URL")
    assert build(instance, ENV="development").config["BASE_URL"] == "http://127.0.0.1:5000"
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "COURSE_PORTAL_BASE_URL=$${COURSE_PORTAL_BASE_URL:-http://$(HOST):$(PORT)}" in makefile


def test_development_runs_without_a_key_and_over_plain_http(instance):
    config = build(instance, ENV="development").config

    assert config["SECRET_KEY"]
    assert config["HTTPS"] is False
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_behind_https_keeps_the_instance_setting(instance):
    write_instance_config(instance, "HTTPS = True\n")

    config = build(instance, ENV="development").config

    assert config["HTTPS"] is True
    assert config["SESSION_COOKIE_SECURE"] is True


# --- the database ---------------------------------------------------------------------------------


def test_no_database_url_means_sqlite_in_the_instance_folder(instance):
    app = build(instance, ENV="testing", DATABASE_URL="")

    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(
        instance / "course_portal.sqlite3"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://portal:pa%40ss@db.example:5432/course_portal",
        "postgres://portal:pa%40ss@db.example:5432/course_portal",
    ],
)
def test_postgresql_urls_use_psycopg_3(instance, url):
    app = build(instance, ENV="testing", DATABASE_URL=url)

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == "postgresql+psycopg://portal:pa%40ss@db.example:5432/course_portal"
    with app.app_context():
        from course_portal.extensions import db

        assert db.engine.dialect.driver == "psycopg"
        assert db.engine.url.password == "pa@ss"


def test_an_explicit_driver_is_kept(instance):
    url = "sqlite:///" + str(instance / "other.sqlite3")
    assert build(instance, ENV="testing", DATABASE_URL=url).config["SQLALCHEMY_DATABASE_URI"] == url


# --- cookies ------------------------------------------------------------------------------------


def _session_cookie(app) -> str:
    @app.get("/test/session")
    def touch_session():
        session["seen"] = True
        return "ok"

    response = app.test_client().get("/test/session")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_https_makes_cookies_secure(instance):
    app = build(instance, ENV="testing", HTTPS=True)

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    cookie = _session_cookie(app)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_cookies_are_not_marked_secure(instance):
    app = build(instance, ENV="testing", HTTPS=False)

    assert app.config["REMEMBER_COOKIE_SECURE"] is False
    cookie = _session_cookie(app)
    assert "Secure" not in cookie and "HttpOnly" in cookie
