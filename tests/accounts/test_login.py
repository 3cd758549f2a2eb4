"""Sign-in and sign-out: one answer for every failure, safe redirects, remember-me, rate limits."""

from __future__ import annotations

import logging

import pytest
from markupsafe import escape
from sqlalchemy import select

from course_portal.accounts.models import User
from tests import factories
from tests.accounts.helpers import link_in, outbox, path_of, sign_in, text, without_tokens

PASSWORD = factories.PASSWORD


@pytest.fixture
def teacher(db):
    """A confirmed teacher with the factory password."""
    user = factories.make_user(email="wang.fang@example.edu.cn")
    db.session.commit()
    return user


def test_teacher_signs_in_and_sees_their_profile(client, db, teacher):
    response = sign_in(client, "Wang.Fang@Example.edu.cn ", PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = text(client.get("/profile"))
    assert "王小明" in page and "wang.fang@example.edu.cn" in page
    db.session.refresh(teacher)
    assert teacher.last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(client, db, teacher, caplog):
    caplog.set_level(logging.WARNING, logger="course_portal")
    wrong = sign_in(client, "wang.fang@example.edu.cn", "not the password at all")
    unknown = sign_in(client, "nobody@example.edu.cn", "not the password at all")

    assert wrong.status_code == unknown.status_code == 200
    assert "Email or password is incorrect." in text(wrong)
    assert without_tokens(text(wrong)).replace("wang.fang@example.edu.cn", "X") == without_tokens(
        text(unknown)
    ).replace("nobody@example.edu.cn", "X")
    assert client.get("/profile").status_code == 302
    failures = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failures) == 2
    assert "'wang.fang@example.edu.cn'" in failures[0]
    assert all("not the password" not in line for line in failures)


def test_unknown_email_still_checks_a_password(client, db, monkeypatch):
    from course_portal.accounts import services

    calls = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))

    sign_in(client, "nobody@example.edu.cn", "whatever password")

    assert len(calls) == 1  # the same slow hash as for a real account


def test_disabled_account_gets_the_generic_answer(client, db):
    factories.make_user(email="gone@example.edu.cn", enabled=False)
    db.session.commit()

    response = sign_in(client, "gone@example.edu.cn", PASSWORD)

    assert "Email or password is incorrect." in text(response)
    assert client.get("/profile").status_code == 302


def test_unconfirmed_account_is_told_to_confirm_and_gets_a_new_link(client, db):
    factories.make_user(email="new@example.edu.cn", confirmed=False)
    db.session.commit()

    response = sign_in(client, "new@example.edu.cn", PASSWORD)

    assert "Please confirm your email address first" in text(response)
    assert client.get("/profile").status_code == 302
    [message] = outbox("account.confirm", to="new@example.edu.cn")
    client.get(path_of(link_in(message, "/confirm/")))
    assert client.get("/profile").status_code == 200


def test_unconfirmed_account_with_a_wrong_password_learns_nothing(client, db):
    factories.make_user(email="new@example.edu.cn", confirmed=False)
    db.session.commit()

    response = sign_in(client, "new@example.edu.cn", "wrong password here")

    assert "Email or password is incorrect." in text(response)
    assert outbox() == []


def test_sign_in_starts_a_new_session(client, db, teacher):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["locale"] = "zh"

    sign_in(client, "wang.fang@example.edu.cn", PASSWORD)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent
        assert session["locale"] == "zh"  # the language choice is not a secret


def test_remember_me_sets_a_cookie_for_teachers_only(make_app, db):
    app = make_app()
    with app.app_context():
        factories.make_user(email="teacher@example.edu.cn")
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    teacher = app.test_client()
    sign_in(teacher, "teacher@example.edu.cn", PASSWORD, remember=True)
    staff = app.test_client()
    sign_in(staff, "coordinator@example.com", PASSWORD, remember=True)

    assert teacher.get_cookie("remember_token") is not None
    assert staff.get_cookie("remember_token") is None
    assert staff.get("/profile").status_code == 200  # signed in, for this session only


def test_remember_me_signs_a_teacher_back_in_until_they_sign_out(client, db, teacher):
    sign_in(client, "wang.fang@example.edu.cn", PASSWORD, remember=True)
    client.delete_cookie("session")  # the browser was closed

    assert client.get("/profile").status_code == 200

    client.post("/logout")
    client.delete_cookie("session")
    assert client.get("/profile").status_code == 302
    assert client.get_cookie("remember_token") is None


def test_logout_is_post_only(client, db, login_as):
    login_as("teacher")

    assert client.get("/logout").status_code == 405
    assert client.get("/profile").status_code == 200
    response = client.post("/logout", follow_redirects=True)
    assert "You have signed out." in text(response)
    assert client.get("/profile").status_code == 302


def test_logout_keeps_the_language(client, db, login_as):
    login_as("teacher", locale="ru")
    client.post("/logout")
    assert '<html lang="ru">' in text(client.get("/"))


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/profile", "/profile"),
        ("/programs/IE?x=1", "/programs/IE?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:x=y", "/%0d%0aSet-Cookie:x=y"),
    ],
)
def test_next_stays_on_the_site(client, db, teacher, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "wang.fang@example.edu.cn", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_a_protected_page_sends_to_sign_in_and_back(client, db, teacher):
    first = client.get("/profile")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?next=")

    response = client.post(login_url, data={"email": "wang.fang@example.edu.cn", "password": PASSWORD})

    assert response.headers["Location"] == "/profile"


HOSTILE = ["a\x00b@example.com", "x" * 10_000, "<script>alert(1)</script>", "{{ 7*7 }}",
           "a\u202e@example.com", "a\u200b@example.com"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_email_at_sign_in_gets_a_message(client, db, value):
    response = sign_in(client, value, PASSWORD)
    page = text(response)
    assert response.status_code == 200
    assert 'class="error"' in page
    assert str(escape(value.lower())) in page


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_password_at_sign_in_is_just_wrong(client, db, teacher, value):
    response = sign_in(client, "wang.fang@example.edu.cn", value)
    assert response.status_code == 200
    page = text(response)
    assert "Email or password is incorrect." in page or 'class="error"' in page
    assert client.get("/profile").status_code == 302


def test_email_with_a_line_break_is_refused_and_logs_stay_one_line(client, db, caplog):
    caplog.set_level(logging.WARNING, logger="course_portal")
    sign_in(client, "x@example.com\nINFO forged line", "whatever password")
    for record in caplog.records:
        assert "\n" not in record.getMessage()


# --- rate limits ------------------------------------------------------------------------


def test_too_many_attempts_on_one_account_are_refused(make_app, db):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
                   LOGIN_LIMIT_PER_IP="100 per minute")
    with app.app_context():
        factories.make_user(email="wang.fang@example.edu.cn")
        factories.make_user(email="li.na@example.edu.cn")
        db.session.commit()
    client = app.test_client()

    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        response = sign_in(client, "wang.fang@example.edu.cn", "wrong password",
                           environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200

    blocked = sign_in(client, " WANG.FANG@example.edu.cn", PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.0.0.4"})
    other = sign_in(client, "li.na@example.edu.cn", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.4"})

    assert blocked.status_code == 429
    assert "Too many attempts" in text(blocked)
    assert blocked.headers.get("Retry-After")
    assert other.status_code == 302
    assert app.test_client().get("/login").status_code == 200  # the page itself stays open


def test_too_many_attempts_from_one_address_are_refused(make_app, db):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="3 per minute",
                   LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    with app.app_context():
        factories.make_user(email="wang.fang@example.edu.cn")
        db.session.commit()
    client = app.test_client()

    for n in range(3):
        sign_in(client, f"guess{n}@example.edu.cn", "wrong password",
                environ_base={"REMOTE_ADDR": "10.0.0.9"})
    blocked = sign_in(client, "wang.fang@example.edu.cn", PASSWORD,
                      environ_base={"REMOTE_ADDR": "10.0.0.9"})
    elsewhere = sign_in(client, "wang.fang@example.edu.cn", PASSWORD,
                        environ_base={"REMOTE_ADDR": "10.0.0.10"})

    assert blocked.status_code == 429
    assert elsewhere.status_code == 302


def test_registration_and_reset_requests_are_limited(make_app, db):
    app = make_app(RATELIMIT_ENABLED=True, REGISTER_LIMIT="2 per hour", RESET_LIMIT="2 per hour")
    client = app.test_client()

    codes = [client.post("/register", data={"email": f"x{n}@example.com"}).status_code
             for n in range(3)]
    resets = [client.post("/password/reset", data={"email": f"y{n}@example.com"}).status_code
              for n in range(3)]

    assert codes == [200, 200, 429]
    assert resets == [302, 302, 429]
    assert client.get("/register").status_code == 200


@pytest.mark.parametrize("path", ["/password/reset", "/register"])
def test_mail_to_one_address_is_limited_across_client_addresses(make_app, db, path):
    app = make_app(RATELIMIT_ENABLED=True, RESET_LIMIT="2 per hour", REGISTER_LIMIT="2 per hour")
    client = app.test_client()

    codes = [
        client.post(path, data={"email": "victim@example.com"},
                    environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code
        for n in range(3)
    ]

    assert codes[2] == 429 and 429 not in codes[:2]


def test_staff_sign_in_works_too(client, db):
    factories.make_user(role="admin", email="admin@example.com")
    db.session.commit()
    sign_in(client, "admin@example.com", PASSWORD)
    page = text(client.get("/profile"))
    assert "Administrator" in page
    assert db.session.scalar(select(User).where(User.email == "admin@example.com")).last_login_at
