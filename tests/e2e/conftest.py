"""A live server in a thread, a real SMTP server, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from course_portal.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
#: the live servers of the running test, newest last (enter_two_step_code reads their database)
_LIVE_APPS: list = []

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def live_server(make_app, smtp_server):
    """The portal served on a free loopback port, mailing through the test SMTP server."""
    app = make_app(
        OUTBOX_DISPATCH="inline",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = base_url
    _LIVE_APPS.append(app)
    try:
        yield app
    finally:
        _LIVE_APPS.remove(app)
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; a missing browser fails the run (make test installs it)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; closed after the test."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A page the size of a phone, in Chinese."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def enter_two_step_code(page, email: str, label: str = "Sign-in code", button: str = "Verify") -> None:
    """After the password, type the staff member's current authenticator code, as they would.

    The code is computed from the secret in the live server's database; the account's last used
    time step is forgotten first, so the same person can sign in twice within 30 seconds.
    """
    import pyotp
    from playwright.sync_api import expect
    from sqlalchemy import select, update

    from course_portal.accounts.models import User

    expect(page.get_by_label(label, exact=True)).to_be_visible()
    app = _LIVE_APPS[-1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
        db.session.commit()
        code = pyotp.TOTP(user.totp_secret).now()
    page.get_by_label(label, exact=True).fill(code)
    page.get_by_role("button", name=button).click()


def finish_sign_in(page, email: str, sign_out: str = "Sign out", code_label: str = "Sign-in code",
                   verify: str = "Verify") -> None:
    """After "Sign in": staff get the code page and type their code; then everyone is signed in."""
    from playwright.sync_api import expect

    signed_in = page.get_by_role("button", name=sign_out)
    code_field = page.get_by_label(code_label, exact=True)
    expect(signed_in.or_(code_field)).to_be_visible()
    if code_field.is_visible():
        enter_two_step_code(page, email, label=code_label, button=verify)
    expect(signed_in).to_be_visible()
