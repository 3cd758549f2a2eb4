"""What the operator's log and the audit log say about sign-ins, refusals and account changes.

Failed sign-ins, 403s, CSRF failures, rate-limit hits and refused two-step codes are logged with
the user id and the address, and never a password, token, code or recovery code.
"""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
from sqlalchemy import select

from course_portal.accounts.actions import ACCOUNT_ACTIONS
from course_portal.accounts.models import User
from course_portal.core.audit import AuditEvent
from tests import factories
from tests.accounts.helpers import NEW_PASSWORD, sign_in, text

PASSWORD = factories.PASSWORD
WRONG = "hunter2 wrong password"
IP = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="course_portal")
    return caplog


def lines(caplog, contains: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if contains in r.getMessage()]


def events(db, action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def test_a_failed_sign_in_is_logged_and_audited_with_the_account_not_the_password(client, db, log):
    user = factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()

    sign_in(client, "coordinator@example.com", WRONG, environ_base=IP)
    sign_in(client, "nobody@example.com", WRONG, environ_base=IP)

    logged = lines(log, "failed login")
    assert logged[0] == f"failed login for account 'coordinator@example.com' user={user.id} ip=198.51.100.7"
    assert logged[1].endswith("user=unknown ip=198.51.100.7")
    assert WRONG not in log.text
    failed = events(db, "auth.sign_in_failed")
    assert [e.actor_id for e in failed] == [user.id, None]
    assert failed[0].ip == "198.51.100.7"
    assert all(WRONG not in str(e.details) and "nobody" not in str(e.details) for e in failed)


def test_a_403_is_logged_with_user_and_address_and_an_escaped_path(client, db, login_as, log):
    teacher = login_as("teacher")

    response = client.get("/dashboard", environ_base=IP)
    client.get("/dashboard%0AINFO%20forged", environ_base=IP)

    assert response.status_code == 403
    logged = lines(log, "403 GET")
    assert logged[0] == f"403 GET '/dashboard' user={teacher.id} ip=198.51.100.7"
    assert all("\n" not in r.getMessage() for r in log.records)


def test_csrf_failures_are_logged_on_plain_posts_and_on_form_pages(make_app, db, log):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = factories.make_user(email="wang.fang@example.edu.cn")
        db.session.commit()
        user_id, session_id = user.id, user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id

    refused = client.post("/logout", environ_base=IP)  # checked by CSRFProtect
    form = client.post("/password/change", data={"csrf_token": "forged",
                                                 "current_password": PASSWORD},
                       environ_base=IP)  # a form page: its form checks the token

    assert refused.status_code == 400
    assert "This form had expired" in text(form)
    logged = lines(log, "CSRF failure")
    assert logged[0].startswith(f"CSRF failure POST '/logout' user={user_id} ip=198.51.100.7: ")
    assert logged[1].startswith(f"CSRF failure POST '/password/change' user={user_id} ip=198.51.100.7")
    assert PASSWORD not in log.text and "forged" not in log.text


def test_a_rate_limit_hit_is_logged_with_the_address(make_app, db, log):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="2 per minute")
    client = app.test_client()

    codes = [sign_in(client, "x@example.com", WRONG, environ_base=IP).status_code
             for _ in range(3)]

    assert codes == [200, 200, 429]
    assert lines(log, "429 POST /login user=anonymous ip=198.51.100.7")
    assert WRONG not in log.text


def test_no_code_or_recovery_code_reaches_the_log(client, db, log, login_as):
    login_as("admin", two_factor=False, email="admin@example.com")
    client.get("/two-factor/setup")
    secret = db.session.scalar(select(User.totp_secret).where(User.email == "admin@example.com"))
    setup_code = pyotp.TOTP(secret).now()
    page = text(client.post("/two-factor/setup", data={"code": setup_code}))
    codes = re.findall(r"<code>([a-z0-9-]{11})</code>", page)
    client.post("/logout")
    sign_in(client, "admin@example.com", PASSWORD, two_factor=False, environ_base=IP)
    client.post("/login/code", data={"code": "zzzzz-zzzzz"}, environ_base=IP)
    client.post("/login/code", data={"code": codes[0]}, environ_base=IP)

    assert len(codes) == 10
    for secret_value in (secret, setup_code, *codes, "zzzzz-zzzzz", PASSWORD):
        assert secret_value not in log.text
        for event in events(db):
            assert secret_value not in str(event.details)
    assert lines(log, "two-factor code refused for user")
    assert [e.action for e in events(db)][-3:] == [
        "auth.two_factor_failed", "auth.recovery_code_used", "auth.signed_in"]


def test_every_account_action_recorded_has_a_label(app, db, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "--role", "coordinator", "--password", NEW_PASSWORD,
                        "irina@example.com"])
    sign_in(client, "irina@example.com", WRONG)
    sign_in(client, "irina@example.com", NEW_PASSWORD)
    client.get("/two-factor/setup")
    secret = db.session.scalar(select(User.totp_secret).where(User.email == "irina@example.com"))
    client.post("/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
    client.post("/password/change", data={"current_password": NEW_PASSWORD,
                                          "new_password": NEW_PASSWORD + "!",
                                          "new_password_confirm": NEW_PASSWORD + "!"})
    client.post("/logout")
    runner.invoke(args=["users", "reset-two-factor", "irina@example.com"])
    runner.invoke(args=["users", "disable", "irina@example.com"])

    recorded = [e.action for e in events(db)]

    assert recorded == ["user.created", "auth.sign_in_failed", "auth.signed_in",
                        "auth.two_factor_enabled", "auth.password_changed", "auth.signed_out_everywhere",
                        "auth.two_factor_reset", "user.disabled"]
    assert set(recorded) <= set(ACCOUNT_ACTIONS)
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", action) for action in ACCOUNT_ACTIONS)
