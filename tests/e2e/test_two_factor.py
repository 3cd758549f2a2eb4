"""A new coordinator sets up two-step sign-in in the browser, keeps the recovery codes, uses one."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from course_portal.extensions import db
from tests import factories


def test_coordinator_sets_up_two_step_sign_in_and_signs_in_with_a_recovery_code(
        live_server, page, tmp_path):
    with live_server.app_context():
        factories.make_user(role="coordinator", email="new.coordinator@example.com",
                            two_factor=False)
        db.session.commit()

    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("new.coordinator@example.com")
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # nothing else opens until it is set up
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    page.goto(live_server.url + "/dashboard")
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # the image really drew
    page.screenshot(path=str(tmp_path / "setup.png"), full_page=True)

    # the person types the key into their app by hand, and the app's code into the page
    key = page.locator(".totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    page.goto(live_server.url + "/dashboard")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    # signed out, back in with a recovery code instead of the phone
    page.get_by_role("button", name="Sign out").click()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("new.coordinator@example.com")
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_label("Sign-in code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You signed in with a recovery code. 9 codes are left")).to_be_visible()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
