"""Passkeys for staff: adding one from the two-step sign-in page, signing in with it, removing it.

The browser's part is played by tests.accounts.webauthn_authenticator, which signs with real
P-256 keys; py_webauthn checks its answers as it checks a browser's.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from course_portal.accounts import passkeys, two_factor
from course_portal.accounts import session as sessions
from course_portal.accounts.passkeys import Passkey
from course_portal.core.audit import AuditEvent
from tests import factories
from tests.accounts.helpers import sign_in, text
from tests.accounts.webauthn_authenticator import SoftAuthenticator, b64url

PASSWORD = factories.PASSWORD
NEW = "/two-factor/passkeys/new"
SETTINGS = "/two-factor"
LOGIN_PASSKEY = "/login/passkey"
OPTIONS = re.compile(r'data-options="([^"]*)"')


def options_of(page: str) -> dict:
    """The WebAuthn options a page hands to static/js/passkeys.js."""
    found = OPTIONS.search(page)
    assert found, "the page carries no passkey options"
    return json.loads(html.unescape(found.group(1)))


def events(db, action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def stored(db, user) -> list[Passkey]:
    db.session.expire_all()
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)))


def add(client, key: SoftAuthenticator, name: str = "YubiKey blue", **overrides):
    """Open the add page, let the authenticator answer its challenge, and post the answer."""
    options = options_of(text(client.get(NEW)))
    credential = key.register(options["challenge"], **overrides)
    return client.post(NEW, data={"name": name, "credential": credential})


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator", email="coordinator@example.com")


@pytest.fixture
def key():
    return SoftAuthenticator()


def give_passkey(db, user, key: SoftAuthenticator, name: str = "YubiKey blue",
                 sign_count: int = 0) -> Passkey:
    """A passkey of the user for the authenticator, stored directly."""
    passkey = Passkey(user_id=user.id, name=name, credential_id=key.credential_id,
                      public_key=key.cose_public_key(), sign_count=sign_count,
                      transports=["usb"])
    db.session.add(passkey)
    db.session.commit()
    return passkey


# --- adding one -------------------------------------------------------------------------


def test_the_add_page_hands_the_browser_options_for_this_portal(client, db, coordinator, key):
    give_passkey(db, coordinator, key, name="Old key")

    response = client.get(NEW)

    assert response.status_code == 200
    page = text(response)
    options = options_of(page)
    assert options["rp"]["id"] == "portal.test"  # BASE_URL's host
    assert options["user"]["name"] == "coordinator@example.com"
    assert options["user"]["id"] != b64url(str(coordinator.id).encode())  # an opaque handle
    assert options["attestation"] == "none"
    # the key already registered is excluded, so it is not registered twice
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(key.credential_id)]
    with client.session_transaction() as session:
        assert session["passkey_registration"]["challenge"] == options["challenge"]
    assert 'src="/static/js/passkeys.js"' in page
    assert "needs JavaScript" in page  # the <noscript> note
    assert "<script>" not in page  # the Content-Security-Policy allows no inline script


def test_a_coordinator_adds_a_passkey(client, db, coordinator, key):
    response = add(client, key, name="  YubiKey blue ")

    assert response.status_code == 302
    assert response.headers["Location"] == SETTINGS
    [passkey] = stored(db, coordinator)
    assert passkey.name == "YubiKey blue"
    assert passkey.credential_id == key.credential_id
    assert passkey.sign_count == 0
    assert passkey.transports == ["usb", "nfc"]
    assert passkey.created_at is not None and passkey.last_used_at is None
    [event] = events(db, "auth.passkey_added")
    assert event.actor_id == coordinator.id
    assert event.details == {"passkey": passkey.id, "name": "YubiKey blue"}

    page = text(client.get(SETTINGS))
    assert "YubiKey blue" in page
    assert "Not used yet" in page
    assert f'action="/two-factor/passkeys/{passkey.id}/remove"' in page


def test_several_passkeys_each_with_its_name(client, db, coordinator):
    for name in ("YubiKey blue", "Laptop"):
        assert add(client, SoftAuthenticator(), name=name).status_code == 302

    assert [p.name for p in stored(db, coordinator)] == ["YubiKey blue", "Laptop"]
    profile = text(client.get("/profile"))
    assert "Passkeys" in profile and "Add or remove passkeys" in profile


def test_a_passkey_needs_a_name(client, db, coordinator, key):
    response = add(client, key, name="   ")

    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert stored(db, coordinator) == []


def test_a_registration_for_another_origin_is_refused(client, db, coordinator, key):
    response = add(client, key, origin="http://portal.test.evil.example")

    assert response.status_code == 200
    assert "could not be checked, so it was not added" in text(response)
    assert stored(db, coordinator) == []


def test_a_registration_for_another_host_is_refused(client, db, coordinator, key):
    response = add(client, key, rp_id="evil.example")

    assert response.status_code == 200
    assert stored(db, coordinator) == []


def test_a_registration_challenge_counts_once(client, db, coordinator, key):
    options = options_of(text(client.get(NEW)))
    credential = key.register(options["challenge"])
    assert client.post(NEW, data={"name": "First", "credential": credential}).status_code == 302

    # the same answer again, as a replay would send it
    again = client.post(NEW, data={"name": "Second", "credential": credential})

    assert again.status_code == 200
    assert "sent twice" in text(again)
    assert [p.name for p in stored(db, coordinator)] == ["First"]


def test_an_answer_to_an_older_challenge_is_refused(client, db, coordinator, key):
    old = options_of(text(client.get(NEW)))["challenge"]
    client.get(NEW)  # a reload: a new challenge replaces it

    response = client.post(NEW, data={"name": "Key", "credential": key.register(old)})

    assert response.status_code == 200
    assert stored(db, coordinator) == []


def test_a_registration_challenge_expires(client, db, coordinator, key, monkeypatch):
    options = options_of(text(client.get(NEW)))
    later = sessions.now() + passkeys.CEREMONY_SECONDS + 1
    monkeypatch.setattr(sessions, "now", lambda: later)

    response = client.post(NEW, data={"name": "Key",
                                      "credential": key.register(options["challenge"])})

    assert "waited too long" in text(response)
    assert stored(db, coordinator) == []


def test_one_authenticator_is_registered_once(client, db, coordinator, key):
    assert add(client, key, name="Key").status_code == 302

    response = add(client, key, name="Same key")

    assert "already registered" in text(response)
    assert len(stored(db, coordinator)) == 1


def test_without_javascript_nothing_is_added_and_the_page_says_why(client, db, coordinator):
    client.get(NEW)

    response = client.post(NEW, data={"name": "Key", "credential": ""})

    assert response.status_code == 200
    assert "needs JavaScript" in text(response)
    assert "authenticator app" in text(response)
    assert stored(db, coordinator) == []


def test_a_garbled_answer_is_refused_without_an_error(client, db, coordinator):
    client.get(NEW)

    response = client.post(NEW, data={"name": "Key", "credential": '{"id": 1, "rawId": []}'})

    assert response.status_code == 200
    assert stored(db, coordinator) == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_teachers_cannot_add_passkeys(client, login_as, method):
    login_as("teacher")

    assert getattr(client, method)(NEW).status_code == 403


def test_a_liaison_may_add_one(client, db, login_as, key):
    liaison = login_as("partner_liaison")

    assert add(client, key).status_code == 302
    assert len(stored(db, liaison)) == 1


# --- removing one -----------------------------------------------------------------------


def test_removing_a_passkey(client, db, coordinator, key):
    passkey_id = give_passkey(db, coordinator, key).id

    response = client.post(f"/two-factor/passkeys/{passkey_id}/remove")

    assert response.status_code == 302
    assert response.headers["Location"] == SETTINGS
    assert stored(db, coordinator) == []
    [event] = events(db, "auth.passkey_removed")
    assert event.details == {"passkey": passkey_id, "name": "YubiKey blue"}
    assert "is removed" in text(client.get(SETTINGS))


def test_removing_takes_a_post(client, db, coordinator, key):
    passkey = give_passkey(db, coordinator, key)

    assert client.get(f"/two-factor/passkeys/{passkey.id}/remove").status_code == 405
    assert len(stored(db, coordinator)) == 1


def test_another_users_passkey_is_not_found(client, db, coordinator, key):
    other = factories.make_user(role="admin")
    db.session.commit()
    theirs = give_passkey(db, other, key)

    response = client.post(f"/two-factor/passkeys/{theirs.id}/remove")

    assert response.status_code == 404
    assert len(stored(db, other)) == 1
    assert client.post("/two-factor/passkeys/999999/remove").status_code == 404


def test_removing_needs_the_csrf_token(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    user = factories.make_user(role="coordinator")
    db.session.commit()
    passkey = give_passkey(db, user, SoftAuthenticator())
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        sessions.start_clock(session)

    assert client.post(f"/two-factor/passkeys/{passkey.id}/remove").status_code == 400
    assert len(stored(db, user)) == 1


def test_the_last_second_step_of_a_staff_member_stays(db, key):
    # passkeys but no authenticator app: staff cannot turn two-step sign-in off
    user = factories.make_user(role="coordinator", two_factor=False)
    db.session.commit()
    first = give_passkey(db, user, key)
    second = give_passkey(db, user, SoftAuthenticator(), name="Laptop")

    passkeys.remove_passkey(user, second)
    with pytest.raises(passkeys.PasskeyError, match="only second step"):
        passkeys.remove_passkey(user, first)
    db.session.commit()

    assert [p.name for p in stored(db, user)] == ["YubiKey blue"]


def test_with_an_authenticator_app_every_passkey_may_go(db, key):
    user = factories.make_user(role="coordinator")
    db.session.commit()
    passkeys.remove_passkey(user, give_passkey(db, user, key))
    db.session.commit()

    assert stored(db, user) == []


def test_a_reset_of_two_step_sign_in_forgets_the_passkeys(db, key):
    user = factories.make_user(role="coordinator", email="lost.phone@example.com")
    db.session.commit()
    give_passkey(db, user, key)

    two_factor.reset_two_factor("lost.phone@example.com")
    db.session.commit()

    assert stored(db, user) == []
    assert events(db, "auth.two_factor_reset")[-1].details == {"passkeys": 1}


# --- signing in -------------------------------------------------------------------------


@pytest.fixture
def staff_with_key(db, key):
    user = factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()
    give_passkey(db, user, key)
    return user


def password_step(client, email="coordinator@example.com"):
    return sign_in(client, email, PASSWORD, two_factor=False)


def passkey_step(client, key: SoftAuthenticator, **overrides):
    """Open the passkey page, sign its challenge, and post the answer."""
    options = options_of(text(client.get(LOGIN_PASSKEY)))
    return client.post(LOGIN_PASSKEY, data={"credential": key.sign(options["challenge"],
                                                                   **overrides)})


def test_the_code_page_offers_the_passkey(client, db, staff_with_key):
    assert password_step(client).headers["Location"] == "/login/code"

    page = text(client.get("/login/code"))

    assert 'href="/login/passkey"' in page
    assert "Use a passkey" in page


def test_the_code_page_offers_no_passkey_to_those_without_one(client, db):
    factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()
    password_step(client)

    assert "Use a passkey" not in text(client.get("/login/code"))
    assert client.get(LOGIN_PASSKEY).headers["Location"] == "/login/code"


def test_signing_in_with_a_passkey(client, db, staff_with_key, key):
    password_step(client)
    page = text(client.get(LOGIN_PASSKEY))
    options = options_of(page)
    assert options["rpId"] == "portal.test"
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credential_id)]
    assert "Type a code instead" in page
    assert client.get("/dashboard").status_code == 302  # not signed in yet

    response = client.post(LOGIN_PASSKEY, data={"credential": key.sign(options["challenge"])})

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    [passkey] = stored(db, staff_with_key)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None
    assert events(db)[-1].action == "auth.signed_in"
    assert events(db)[-1].details == {"method": "passkey"}
    assert "Last used" in text(client.get(SETTINGS))


def test_the_passkey_page_needs_a_password_first(client, db, staff_with_key):
    response = client.get(LOGIN_PASSKEY)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_a_passkey_signed_for_another_origin_is_refused(client, db, staff_with_key, key):
    password_step(client)

    response = passkey_step(client, key, origin="https://portal.test.evil.example")

    assert response.status_code == 200
    assert "was not accepted" in text(response)
    assert client.get("/dashboard").status_code == 302
    [event] = events(db, "auth.passkey_failed")
    assert event.details["reason"] == "invalid"


def test_a_passkey_signed_for_another_host_is_refused(client, db, staff_with_key, key):
    password_step(client)

    response = passkey_step(client, key, rp_id="evil.example")

    assert "was not accepted" in text(response)
    assert client.get("/dashboard").status_code == 302


def test_a_sign_in_answer_counts_once(client, db, staff_with_key, key):
    password_step(client)
    options = options_of(text(client.get(LOGIN_PASSKEY)))
    answer = key.sign(options["challenge"])
    # kept before the first post: the answer and the session as an eavesdropper would have them
    with client.session_transaction() as session:
        pending = dict(session)
    assert client.post(LOGIN_PASSKEY, data={"credential": answer}).status_code == 302
    client.post("/logout")

    # the challenge is gone from the session: the same answer on a new sign-in is refused
    password_step(client)
    client.get(LOGIN_PASSKEY)
    replayed = client.post(LOGIN_PASSKEY, data={"credential": answer})
    assert replayed.status_code == 200
    assert "was not accepted" in text(replayed)

    # and with the old session back, the counter has moved on
    password_step(client)
    with client.session_transaction() as session:
        session.update({k: v for k, v in pending.items() if k.startswith("passkey")})
    again = client.post(LOGIN_PASSKEY, data={"credential": answer})
    assert again.status_code == 200
    assert events(db, "auth.passkey_failed")[-1].details["reason"] == "counter"


def test_an_answer_without_its_challenge_is_refused(client, db, staff_with_key, key):
    password_step(client)
    options = options_of(text(client.get(LOGIN_PASSKEY)))
    with client.session_transaction() as session:
        del session["passkey_sign_in"]

    response = client.post(LOGIN_PASSKEY, data={"credential": key.sign(options["challenge"])})

    assert "waited too long, or was sent twice" in text(response)
    assert events(db, "auth.passkey_failed")[-1].details["reason"] == "no_challenge"


def test_a_counter_going_backwards_is_refused(client, db, key):
    user = factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()
    give_passkey(db, user, key, sign_count=10)
    password_step(client)

    behind = passkey_step(client, key, counter=5)
    same = passkey_step(client, key, counter=10)

    assert "was not accepted" in text(behind) and "was not accepted" in text(same)
    assert client.get("/dashboard").status_code == 302
    assert [e.details["reason"] for e in events(db, "auth.passkey_failed")] == ["counter",
                                                                                "counter"]
    assert stored(db, user)[0].sign_count == 10
    assert passkey_step(client, key, counter=11).status_code == 302


def test_authenticators_without_a_counter_keep_working(client, db, staff_with_key, key):
    password_step(client)

    assert passkey_step(client, key, counter=0).status_code == 302
    client.post("/logout")
    password_step(client)
    assert passkey_step(client, key, counter=0).status_code == 302


def test_another_persons_passkey_does_not_sign_you_in(client, db, staff_with_key):
    stranger_key = SoftAuthenticator()
    stranger = factories.make_user(role="admin")
    db.session.commit()
    give_passkey(db, stranger, stranger_key)
    password_step(client)

    response = passkey_step(client, stranger_key)

    assert "was not accepted" in text(response)
    assert events(db, "auth.passkey_failed")[-1].details["reason"] == "unknown_passkey"
    assert client.get("/dashboard").status_code == 302


def test_without_javascript_the_passkey_page_points_to_the_code(client, db, staff_with_key):
    password_step(client)
    page = text(client.get(LOGIN_PASSKEY))
    assert "<noscript>" in page and "needs JavaScript" in page

    response = client.post(LOGIN_PASSKEY, data={"credential": ""})

    assert "needs JavaScript" in text(response)
    assert "code of your authenticator app" in text(response)
    assert client.get("/dashboard").status_code == 302


def test_with_only_passkeys_the_passkey_step_is_shown(client, db, key):
    user = factories.make_user(role="coordinator", email="coordinator@example.com",
                               two_factor=False)
    db.session.commit()
    give_passkey(db, user, key)

    assert password_step(client).headers["Location"] == "/login/code"
    assert client.get("/login/code").headers["Location"] == LOGIN_PASSKEY
    page = text(client.get(LOGIN_PASSKEY))
    assert "Type a code instead" not in page

    response = passkey_step(client, key)

    assert response.status_code == 302
    # signed in; staff without an authenticator app are then asked to set one up
    assert client.get("/dashboard").headers["Location"] == "/two-factor/setup"


def test_a_pending_sign_in_ends_after_its_time(client, db, staff_with_key, key, monkeypatch):
    password_step(client)
    options = options_of(text(client.get(LOGIN_PASSKEY)))
    later = sessions.now() + 301
    monkeypatch.setattr(sessions, "now", lambda: later)

    response = client.post(LOGIN_PASSKEY, data={"credential": key.sign(options["challenge"])})

    assert response.headers["Location"] == "/login"


# --- where passkeys are bound -----------------------------------------------------------


def test_the_relying_party_is_base_urls_host():
    config = {"ENV": "production", "BASE_URL": "https://apply.example.edu/portal",
              "TOTP_ISSUER": "SPbPU course portal"}

    rp = passkeys.relying_party(config, "https://attacker.example/")

    assert (rp.id, rp.origin, rp.name) == ("apply.example.edu", "https://apply.example.edu",
                                           "SPbPU course portal")


def test_in_development_the_served_host_counts():
    config = {"ENV": "development", "BASE_URL": "http://127.0.0.1:5000", "TOTP_ISSUER": "x"}

    rp = passkeys.relying_party(config, "http://localhost:5000/")

    assert (rp.id, rp.origin) == ("localhost", "http://localhost:5000")


# --- the pages are valid HTML -----------------------------------------------------------


def test_the_passkey_pages_are_valid_html(client, db, staff_with_key, key, tmp_path):
    from tests.test_valid_html import validator_errors

    password_step(client)
    files = []
    for name, path in (("code", "/login/code"), ("passkey", LOGIN_PASSKEY)):
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(client.get(path).data)
    assert passkey_step(client, key).status_code == 302
    client.post(NEW, data={"name": "", "credential": ""})  # a page with errors
    for name, path in (("settings", SETTINGS), ("new", NEW), ("profile", "/profile")):
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(client.get(path).data)

    assert validator_errors(files) == []
