"""A coordinator adds a passkey in Chromium, signs in with it instead of a code, and removes it.

Chromium's virtual authenticator (DevTools protocol, WebAuthn domain) stands in for the
fingerprint reader: it answers navigator.credentials as a platform passkey would.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from course_portal.accounts.passkeys import Passkey
from course_portal.extensions import db
from tests import factories
from tests.e2e.conftest import enter_two_step_code

EMAIL = "passkey.coordinator@example.com"


def _serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page, as the accessibility sweep counts."""
    found = Axe().run(page).response["violations"]
    return [f"{page.url}: {v['id']} {v['help']}" for v in found
            if v["impact"] in ("serious", "critical")]


def _sign_in_with_password(page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_coordinator_adds_a_passkey_signs_in_with_it_and_removes_it(live_server, page, tmp_path):
    # a passkey is bound to a host name: WebAuthn refuses an IP address such as 127.0.0.1
    base = live_server.url.replace("127.0.0.1", "localhost")
    live_server.config["BASE_URL"] = base
    with live_server.app_context():
        user = factories.make_user(role="coordinator", email=EMAIL)
        db.session.commit()
        user_id = user.id

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})["authenticatorId"]

    _sign_in_with_password(page, base)
    enter_two_step_code(page, EMAIL)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    # from the profile's two-step section
    page.get_by_role("link", name="My profile").click()
    page.get_by_role("link", name="Add or remove passkeys").click()
    expect(page.get_by_text("You have not added a passkey yet.")).to_be_visible()
    page.get_by_role("link", name="Add a passkey").click()
    problems = _serious_violations(page)
    page.get_by_label("Name of the passkey").fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("The passkey “Laptop” is added.")).to_be_visible()
    expect(page.get_by_role("cell", name="Laptop", exact=True)).to_be_visible()
    problems += _serious_violations(page)
    page.screenshot(path=str(tmp_path / "passkeys.png"), full_page=True)
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(held) == 1 and held[0]["rpId"] == "localhost"

    # signed out, back in with the password and then the passkey instead of a code
    page.get_by_role("button", name="Sign out").click()
    _sign_in_with_password(page, base)
    expect(page.get_by_label("Sign-in code", exact=True)).to_be_visible()
    page.get_by_role("link", name="Use a passkey").click()
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    problems += _serious_violations(page)
    assert problems == []
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    with live_server.app_context():
        [passkey] = db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).all()
        assert passkey.last_used_at is not None
        assert passkey.sign_count >= 1

    # and removed again
    page.get_by_role("link", name="My profile").click()
    page.get_by_role("link", name="Add or remove passkeys").click()
    expect(page.get_by_text("Not used yet")).to_have_count(0)
    page.get_by_role("button", name="Remove Laptop").click()
    expect(page.get_by_text("The passkey “Laptop” is removed.")).to_be_visible()
    expect(page.get_by_text("You have not added a passkey yet.")).to_be_visible()
    with live_server.app_context():
        assert db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).all() == []

    # without a passkey the code page offers none
    page.get_by_role("button", name="Sign out").click()
    _sign_in_with_password(page, base)
    expect(page.get_by_label("Sign-in code", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Use a passkey")).to_have_count(0)
