"""Password change and reset: sessions end, links work once and expire, links come from BASE_URL."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import select

from course_portal.accounts import services
from course_portal.accounts.models import AccountToken, User
from course_portal.db import utcnow
from tests import factories
from tests.accounts.helpers import (
    NEW_PASSWORD,
    link_in,
    outbox,
    path_of,
    sign_in,
    text,
    without_tokens,
)

PASSWORD = factories.PASSWORD


@pytest.fixture
def teacher(db):
    """A confirmed teacher with the factory password."""
    user = factories.make_user(email="wang.fang@example.edu.cn")
    db.session.commit()
    return user


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    """Post the password-change form."""
    return client.post("/password/change", data={
        "current_password": current,
        "new_password": new,
        "new_password_confirm": new if confirm is None else confirm,
    })


def ask_reset(client, email="wang.fang@example.edu.cn", **kwargs):
    """Post the reset-request form."""
    return client.post("/password/reset", data={"email": email}, **kwargs)


def reset_link() -> str:
    """The path of the newest reset link in the outbox."""
    return path_of(link_in(outbox("account.reset")[-1], "/password/reset/"))


# --- change -----------------------------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(app, db, teacher):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "wang.fang@example.edu.cn", PASSWORD)
    sign_in(phone, "wang.fang@example.edu.cn", PASSWORD, remember=True)
    assert phone.get("/profile").status_code == 200

    response = change(laptop)

    assert response.headers["Location"] == "/profile"
    assert laptop.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302
    phone.delete_cookie("session")
    assert phone.get("/profile").status_code == 302  # the remember-me cookie died too
    assert sign_in(app.test_client(), "wang.fang@example.edu.cn", PASSWORD).status_code == 200
    assert sign_in(app.test_client(), "wang.fang@example.edu.cn", NEW_PASSWORD).status_code == 302
    [notice] = outbox("account.password_changed")
    assert notice.to_address == "wang.fang@example.edu.cn"


def test_password_change_keeps_remember_me_on_this_device(client, db, teacher):
    sign_in(client, "wang.fang@example.edu.cn", PASSWORD, remember=True)
    change(client)
    client.delete_cookie("session")
    assert client.get("/profile").status_code == 200


def test_password_change_needs_the_current_password(client, db, teacher):
    sign_in(client, "wang.fang@example.edu.cn", PASSWORD)

    response = change(client, current="not my password")

    assert "This is not your current password." in text(response)
    db.session.refresh(teacher)
    assert services.check_password(teacher.password_hash, PASSWORD)
    assert client.get("/profile").status_code == 200


def test_password_change_refuses_a_short_or_mismatched_password(client, db, teacher):
    sign_in(client, "wang.fang@example.edu.cn", PASSWORD)
    page = text(change(client, new="short", confirm="shirt"))
    assert "The password needs at least 12 characters." in page
    assert "The two passwords differ." in page


def test_password_change_needs_sign_in(client, db):
    assert client.get("/password/change").headers["Location"].startswith("/login?next=")


def test_passwords_are_compared_after_nfkc_normalisation(client, db):
    fullwidth = "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ"
    factories.make_user(email="wide@example.edu.cn", password="x" * 12)
    db.session.commit()
    user = db.session.scalar(select(User).where(User.email == "wide@example.edu.cn"))
    user.password_hash = services.hash_password(fullwidth)
    db.session.commit()

    ascii_typed = unicodedata.normalize("NFKC", fullwidth)
    assert ascii_typed == "correct horse battery"
    assert sign_in(client, "wide@example.edu.cn", ascii_typed).status_code == 302


# --- reset ------------------------------------------------------------------------------


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(client, db, teacher):
    known = ask_reset(client, follow_redirects=True)
    unknown = ask_reset(client, "nobody@example.edu.cn", follow_redirects=True)

    assert without_tokens(text(known)) == without_tokens(text(unknown))
    assert "If an account has this address" in text(known)
    assert [m.to_address for m in outbox()] == ["wang.fang@example.edu.cn"]


def test_reset_link_sets_a_new_password_and_ends_every_session(app, db, teacher):
    other_device = app.test_client()
    sign_in(other_device, "wang.fang@example.edu.cn", PASSWORD)
    client = app.test_client()
    ask_reset(client)

    form = client.get(reset_link())
    response = client.post(reset_link(), data={"new_password": NEW_PASSWORD,
                                               "new_password_confirm": NEW_PASSWORD})

    assert form.status_code == 200 and "Choose a new password" in text(form)
    assert response.headers["Location"] == "/login"
    assert "Your password is changed" in text(client.get("/login"))
    assert other_device.get("/profile").status_code == 302
    assert sign_in(client, "wang.fang@example.edu.cn", NEW_PASSWORD).status_code == 302
    assert outbox("account.password_changed")


def test_reset_link_works_once(client, db, teacher):
    ask_reset(client)
    link = reset_link()
    client.post(link, data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})

    again = client.post(link, data={"new_password": "another long password",
                                    "new_password_confirm": "another long password"})

    assert again.status_code == 410
    assert "This link has already been used." in text(again)
    assert sign_in(client, "wang.fang@example.edu.cn", "another long password").status_code == 200


def test_using_a_reset_link_cancels_the_other_links(client, db, teacher):
    ask_reset(client)
    first = reset_link()
    ask_reset(client)
    second = reset_link()
    assert first != second

    client.post(second, data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})

    assert client.get(first).status_code == 410


def test_an_expired_reset_link_explains_itself(client, db, teacher):
    ask_reset(client)
    for token in db.session.scalars(select(AccountToken)):
        token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.get(reset_link())

    assert response.status_code == 410
    assert "This link has expired." in text(response)
    assert "Ask for a new link" in text(response)


def test_reset_link_expires_after_the_configured_time(client, db, teacher, app):
    ask_reset(client)
    token = db.session.scalar(select(AccountToken))
    lifetime = token.expires_at - token.created_at
    assert abs(lifetime.total_seconds() - app.config["PASSWORD_RESET_MAX_AGE"]) < 5
    assert "60 minutes" in outbox("account.reset")[0].body_text


def test_unknown_reset_link_explains_itself(client, db):
    response = client.get("/password/reset/made-up-token")
    assert response.status_code == 404
    assert "This link is not valid" in text(response)


def test_a_short_new_password_keeps_the_link_usable(client, db, teacher):
    ask_reset(client)
    link = reset_link()
    refused = client.post(link, data={"new_password": "short", "new_password_confirm": "short"})
    assert "The password needs at least 12 characters." in text(refused)
    done = client.post(link, data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
    assert done.status_code == 302


def test_reset_links_come_from_base_url_not_the_host_header(client, db, teacher):
    ask_reset(client, headers={"Host": "evil.example"})
    client.post("/register", data={"email": "wang.fang@example.edu.cn"},
                headers={"Host": "evil.example"})

    [message] = outbox("account.reset")
    assert "evil.example" not in message.body_text
    assert link_in(message, "/password/reset/").startswith("http://portal.test/password/reset/")


def test_base_url_with_a_path_prefix_is_kept(make_app, db):
    app = make_app(BASE_URL="https://portal.spbstu.example/courses/")
    with app.app_context(), app.test_request_context():
        assert services.external_url("accounts.login") == "https://portal.spbstu.example/courses/login"


def test_reset_of_an_unconfirmed_account_confirms_it(client, db):
    factories.make_user(email="late@example.edu.cn", confirmed=False)
    db.session.commit()
    ask_reset(client, "late@example.edu.cn")
    client.post(reset_link(), data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
    assert sign_in(client, "late@example.edu.cn", NEW_PASSWORD).status_code == 302


def test_disabled_account_gets_no_reset_link(client, db):
    factories.make_user(email="gone@example.edu.cn", enabled=False)
    db.session.commit()
    response = ask_reset(client, "gone@example.edu.cn")
    assert response.headers["Location"] == "/password/reset/sent"
    assert outbox() == []


def test_only_the_hash_of_a_reset_token_is_stored(client, db, teacher):
    ask_reset(client)
    token = reset_link().rsplit("/", 1)[1]
    stored = db.session.scalar(select(AccountToken))
    assert stored.purpose == "reset_password"
    assert token not in stored.token_hash
    assert len(token) >= 43


def test_signing_out_ends_the_sessions_on_every_device(app, db, teacher):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "wang.fang@example.edu.cn", PASSWORD)
    sign_in(phone, "wang.fang@example.edu.cn", PASSWORD, remember=True)
    assert phone.get("/profile").status_code == 200

    laptop.post("/logout")

    assert laptop.get("/profile").status_code == 302
    assert phone.get("/profile").status_code == 302
    phone.delete_cookie("session")
    assert phone.get("/profile").status_code == 302  # the remember-me cookie ended too
    assert sign_in(phone, "wang.fang@example.edu.cn", PASSWORD).status_code == 302
