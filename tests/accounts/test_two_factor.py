"""Two-step sign-in for staff: the code after the password, setting it up, recovery codes, resets."""

from __future__ import annotations

import logging
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from course_portal.accounts import session as sessions
from course_portal.accounts.models import RecoveryCode, User
from course_portal.core.audit import AuditEvent
from tests import factories
from tests.accounts.helpers import current_code, sign_in, text

PASSWORD = factories.PASSWORD
CODE_PAGE = "/login/code"
RECOVERY = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


@pytest.fixture
def coordinator(db):
    """A coordinator with an authenticator set up (factories.TOTP_SECRET)."""
    user = factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()
    return user


def password_step(client, email="coordinator@example.com", **kwargs):
    return sign_in(client, email, PASSWORD, two_factor=False, **kwargs)


def actions(db) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def setup_page_codes(client, secret: str) -> list[str]:
    """Confirm the authenticator on the setup page and return the recovery codes shown."""
    response = client.post("/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    return RECOVERY.findall(text(response))


# --- signing in -------------------------------------------------------------------------


def test_staff_are_not_signed_in_until_the_code_is_right(client, db, coordinator):
    response = password_step(client)

    assert response.status_code == 302
    assert response.headers["Location"] == CODE_PAGE
    assert client.get("/dashboard").status_code == 302  # not signed in yet
    page = text(client.get(CODE_PAGE))
    assert "authenticator app" in page

    done = client.post(CODE_PAGE, data={"code": current_code(client, coordinator.email)})

    assert done.status_code == 302
    assert done.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert actions(db)[-1] == "auth.signed_in"


def test_a_wrong_code_is_refused_and_logged_without_the_code(client, db, coordinator, caplog):
    caplog.set_level(logging.INFO, logger="course_portal")
    password_step(client, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    right = pyotp.TOTP(factories.TOTP_SECRET).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post(CODE_PAGE, data={"code": wrong},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert response.status_code == 200
    assert "This code is not right" in text(response)
    assert client.get("/dashboard").status_code == 302
    lines = [r.getMessage() for r in caplog.records if "two-factor code refused" in r.getMessage()]
    assert lines == [f"two-factor code refused for user {coordinator.id} ip=203.0.113.9"]
    assert wrong not in caplog.text and right not in caplog.text
    assert "auth.two_factor_failed" in actions(db)


def test_the_same_code_does_not_sign_in_twice(client, db, coordinator, app):
    code = current_code(client, coordinator.email)
    password_step(client)
    assert client.post(CODE_PAGE, data={"code": code}).status_code == 302
    client.post("/logout")

    other = app.test_client()
    password_step(other)
    replay = other.post(CODE_PAGE, data={"code": code})

    assert replay.status_code == 200
    assert "used already" in text(replay)
    assert other.get("/dashboard").status_code == 302


def test_a_code_of_the_next_step_is_accepted_but_not_one_further(client, db, coordinator):
    totp = pyotp.TOTP(factories.TOTP_SECRET)
    password_step(client)
    later = client.post(CODE_PAGE, data={"code": totp.at(time.time() + 90)})
    assert later.status_code == 200  # three steps ahead: refused

    accepted = client.post(CODE_PAGE, data={"code": totp.at(time.time() + 30)})
    assert accepted.status_code == 302


def test_the_pending_sign_in_expires_after_five_minutes(client, db, coordinator):
    password_step(client)
    with client.session_transaction() as session:
        session[sessions.PENDING] = {**session[sessions.PENDING], "until": time.time() - 1}

    response = client.post(CODE_PAGE, data={"code": current_code(client, coordinator.email)},
                           follow_redirects=True)

    assert "Signing in took too long" in text(response)
    assert client.get("/dashboard").status_code == 302


def test_a_password_reset_meanwhile_ends_the_pending_sign_in(client, db, coordinator):
    password_step(client)
    coordinator.end_all_sessions()  # what a reset, a disable or a two-step reset do
    db.session.commit()

    response = client.post(CODE_PAGE, data={"code": current_code(client, coordinator.email)})

    assert response.headers["Location"] == "/login"
    assert client.get("/dashboard").status_code == 302


def test_the_code_page_without_a_password_first_sends_to_sign_in(client, db):
    response = client.get(CODE_PAGE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_a_recovery_code_signs_in_once(client, db, app):
    factories.make_user(role="admin", email="admin@example.com", two_factor=False)
    db.session.commit()
    sign_in(client, "admin@example.com", PASSWORD)
    client.get("/two-factor/setup")
    codes = setup_page_codes(client, db.session.scalar(
        select(User.totp_secret).where(User.email == "admin@example.com")))
    client.post("/logout")

    password_step(client, "admin@example.com")
    used = client.post(CODE_PAGE, data={"code": codes[3].upper().replace("-", " ")},
                       follow_redirects=True)
    assert "You signed in with a recovery code. 9 codes are left" in text(used)
    client.post("/logout")

    again = app.test_client()
    password_step(again, "admin@example.com")
    refused = again.post(CODE_PAGE, data={"code": codes[3]})
    assert refused.status_code == 200
    assert again.get("/dashboard").status_code == 302
    assert "auth.recovery_code_used" in actions(db)


def test_code_attempts_are_limited_per_account_across_addresses(make_app, db, caplog):
    app = make_app(RATELIMIT_ENABLED=True, TWO_FACTOR_LIMIT_PER_ACCOUNT="3 per minute",
                   TWO_FACTOR_LIMIT_PER_IP="100 per minute", LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    with app.app_context():
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()
    caplog.set_level(logging.WARNING, logger="course_portal")
    client = app.test_client()

    answers = []
    for n in range(4):
        address = {"REMOTE_ADDR": f"10.0.2.{n}"}
        password_step(client, environ_base=address)
        answers.append(client.post(CODE_PAGE, data={"code": "000000"},
                                   environ_base=address).status_code)

    assert answers == [200, 200, 200, 429]
    assert any(r.getMessage().startswith("429 POST /login/code") and "ip=10.0.2.3" in
               r.getMessage() for r in caplog.records)


# --- setting it up ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_without_two_step_sign_in_see_only_the_setup_page(client, db, login_as, role):
    login_as(role, two_factor=False)

    for path in ("/dashboard", "/review", "/profile", "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/two-factor/setup"
    page = text(client.get("/two-factor/setup"))
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn here
    assert "https://" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    assert client.post("/logout").status_code == 302  # signing out still works


def test_setting_it_up_shows_ten_recovery_codes_once(client, db, login_as):
    user = login_as("coordinator", two_factor=False)
    page = text(client.get("/two-factor/setup"))
    db.session.refresh(user)
    shown = re.search(r'class="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert shown == user.totp_secret  # the key for typing it in by hand
    assert user.totp_enabled_at is None

    codes = setup_page_codes(client, shown)

    assert len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_enabled_at is not None
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash)
                                    .where(RecoveryCode.user_id == user.id)))
    assert len(hashes) == 10 and not {c.replace("-", "") for c in codes} & hashes
    assert client.get("/dashboard").status_code == 200
    assert "Recovery codes left" in text(client.get("/two-factor"))
    assert "auth.two_factor_enabled" in actions(db)


def test_setup_with_a_wrong_code_leaves_it_off(client, db, login_as):
    user = login_as("admin", two_factor=False)
    client.get("/two-factor/setup")

    response = client.post("/two-factor/setup", data={"code": "12345"})

    assert "This code is not right" in text(response)
    db.session.refresh(user)
    assert user.totp_enabled_at is None
    assert client.get("/dashboard").headers["Location"] == "/two-factor/setup"


def test_teachers_are_not_asked_for_two_step_sign_in(client, db, login_as):
    login_as("teacher")
    assert client.get("/profile").status_code == 200
    assert client.get("/two-factor/setup").status_code == 403


def test_new_recovery_codes_replace_the_old_ones(client, db, login_as):
    login_as("admin", two_factor=False, email="admin@example.com")
    client.get("/two-factor/setup")
    old = setup_page_codes(client, db.session.scalar(
        select(User.totp_secret).where(User.email == "admin@example.com")))

    refused = client.post("/two-factor", data={"password": "not my password"})
    assert "This is not your current password." in text(refused)
    made = client.post("/two-factor", data={"password": PASSWORD})
    new = RECOVERY.findall(text(made))

    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    password_step(client, "admin@example.com")
    assert client.post(CODE_PAGE, data={"code": old[0]}).status_code == 200
    assert client.post(CODE_PAGE, data={"code": new[0]}).status_code == 302
    assert "auth.recovery_codes_regenerated" in actions(db)


# --- where staff land -------------------------------------------------------------------


def test_a_partner_liaison_lands_on_the_partner_pages_or_the_catalog(client, db, app):
    partner = factories.make_partner()
    factories.make_user(role="partner_liaison", email="liaison@example.edu.cn",
                        partner_university_id=partner.id)
    db.session.commit()

    response = sign_in(client, "liaison@example.edu.cn", PASSWORD)

    expected = "/"
    if "partners.home" in app.view_functions:
        with app.test_request_context():
            expected = app.url_for("partners.home")
    assert response.headers["Location"] == expected
    assert client.get("/profile").status_code == 200


# --- operators --------------------------------------------------------------------------


def test_an_admin_resets_two_step_sign_in_and_ends_the_sessions(app, db, coordinator):
    browser = app.test_client()
    sign_in(browser, "coordinator@example.com", PASSWORD)
    assert browser.get("/dashboard").status_code == 200

    result = app.test_cli_runner().invoke(
        args=["users", "reset-two-factor", "Coordinator@example.com"])

    assert result.exit_code == 0, result.output
    assert "sessions have ended" in result.output
    assert browser.get("/dashboard").status_code == 302
    again = app.test_client()
    assert sign_in(again, "coordinator@example.com", PASSWORD).headers["Location"] == "/dashboard"
    assert again.get("/dashboard").headers["Location"] == "/two-factor/setup"
    assert "auth.two_factor_reset" in actions(db)


def invoke(app, *args):
    """Run a flask command against this app (not the one the `app` fixture keeps current)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_two_factor_code_prints_a_working_code_in_development(make_app, db):
    app = make_app(ENV="development")
    with app.app_context():
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    result = invoke(app, "users", "two-factor-code", "coordinator@example.com")

    assert result.exit_code == 0, result.output
    client = app.test_client()
    password_step(client)
    assert client.post(CODE_PAGE, data={"code": result.output.strip()}).status_code == 302


@pytest.mark.parametrize("env", ["production", "testing"])
def test_two_factor_code_refuses_outside_development(make_app, db, env):
    app = make_app(ENV=env, SECRET_KEY="a-real-production-secret-key-0123456789abcdef")
    with app.app_context():
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    result = invoke(app, "users", "two-factor-code", "coordinator@example.com")

    assert result.exit_code != 0
    assert "only when ENV is development" in result.output
    assert not re.search(r"\b\d{6}\b", result.output)


def test_demo_staff_sign_in_with_the_printed_command(make_app, db):
    app = make_app(ENV="development")
    loaded = invoke(app, "demo-data")
    assert loaded.exit_code == 0, loaded.output
    assert "users two-factor-code coordinator@example.com" in loaded.output

    for email in ("coordinator@example.com", "admin@example.com"):
        code = invoke(app, "users", "two-factor-code", email).output.strip()
        client = app.test_client()
        sign_in(client, email, "demo-password-2026", two_factor=False)
        assert client.post(CODE_PAGE, data={"code": code}).headers["Location"] == "/dashboard"


@pytest.mark.parametrize(("target", "expected"), [
    ("/review?status=submitted", "/review?status=submitted"),
    ("//evil.example/x", "/dashboard"),
    ("https://evil.example/", "/dashboard"),
])
def test_the_page_asked_for_is_opened_after_the_code_and_only_on_this_site(
        client, db, coordinator, target, expected):
    response = sign_in(client, "coordinator@example.com", PASSWORD,
                       query_string={"next": target})

    assert response.headers["Location"] == expected


def test_two_browsers_racing_with_one_code_sign_in_once(app, db, coordinator):
    """Each browser has passed the password; both send the same code at the same moment."""
    import threading

    browsers = [app.test_client() for _ in range(4)]
    for browser in browsers:
        password_step(browser)
    code = current_code(browsers[0], coordinator.email)
    start = threading.Barrier(len(browsers))
    answers = []

    def send(browser):
        start.wait()
        answers.append(browser.post(CODE_PAGE, data={"code": code}).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) == [200, 200, 200, 302]
