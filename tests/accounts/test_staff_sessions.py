"""Staff sessions end after 30 idle minutes and 12 hours after sign-in; teachers' do not."""

from __future__ import annotations

import time

import pytest

from course_portal.accounts import session as sessions
from tests import factories
from tests.accounts.helpers import NEW_PASSWORD, sign_in, text

MINUTE = 60
HOUR = 3600


def set_clock(client, *, signed_in_ago: float, seen_ago: float) -> None:
    """Pretend the session started and was last used that many seconds ago."""
    now = time.time()
    with client.session_transaction() as session:
        session[sessions.SIGNED_IN_AT] = now - signed_in_ago
        session[sessions.SEEN_AT] = now - seen_ago


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_idle_for_more_than_30_minutes_are_asked_to_sign_in_again(client, db, login_as, role):
    login_as(role)
    set_clock(client, signed_in_ago=2 * HOUR, seen_ago=31 * MINUTE)

    response = client.get("/dashboard?status=submitted")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/dashboard?status%3Dsubmitted"
    page = text(client.get(response.headers["Location"]))
    assert "You were signed out after 30 minutes without activity. Please sign in again." in page
    assert client.get("/dashboard").headers["Location"].startswith("/login")


def test_each_page_keeps_a_staff_session_alive(client, db, login_as):
    login_as("coordinator")
    set_clock(client, signed_in_ago=3 * HOUR, seen_ago=29 * MINUTE)

    assert client.get("/dashboard").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[sessions.SEEN_AT] < 60
    # 29 more minutes later the session is still there: the clock restarted at the last page
    with client.session_transaction() as session:
        session[sessions.SEEN_AT] -= 29 * MINUTE
    assert client.get("/dashboard").status_code == 200


def test_staff_sessions_end_12_hours_after_sign_in_even_when_active(client, db, login_as):
    login_as("admin")
    set_clock(client, signed_in_ago=12 * HOUR + MINUTE, seen_ago=MINUTE)

    response = client.get("/profile", follow_redirects=True)

    assert "Staff sessions last at most 12 hours. Please sign in again." in text(response)
    assert client.get("/profile").status_code == 302


def test_the_limits_come_from_the_settings(make_app, db):
    app = make_app(STAFF_IDLE_MINUTES=5)
    with app.app_context():
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()
    client = app.test_client()
    sign_in(client, "coordinator@example.com", factories.PASSWORD)
    set_clock(client, signed_in_ago=6 * MINUTE, seen_ago=6 * MINUTE)

    response = client.get("/dashboard", follow_redirects=True)

    assert "after 5 minutes without activity" in text(response)


def test_teachers_stay_signed_in_however_long_they_wait(client, db, login_as):
    login_as("teacher")
    set_clock(client, signed_in_ago=11 * HOUR, seen_ago=3 * HOUR)

    assert client.get("/profile").status_code == 200


def test_signing_in_starts_the_clock(client, db):
    factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()
    before = time.time()

    sign_in(client, "coordinator@example.com", factories.PASSWORD)

    with client.session_transaction() as session:
        assert session[sessions.SIGNED_IN_AT] >= before
    assert client.get("/dashboard").status_code == 200


def test_a_password_change_does_not_extend_the_12_hours(client, db, login_as):
    login_as("coordinator")
    set_clock(client, signed_in_ago=11 * HOUR, seen_ago=MINUTE)

    response = client.post("/password/change", data={
        "current_password": factories.PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert time.time() - session[sessions.SIGNED_IN_AT] > 11 * HOUR - MINUTE
    assert client.get("/profile").status_code == 200
