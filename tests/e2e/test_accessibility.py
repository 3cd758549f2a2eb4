"""axe-core over the key pages in English, Chinese and Russian, on a phone and on a desktop.

A serious or critical violation anywhere fails the test, with every one found listed. axe-core
comes from the axe-playwright-python package (its bundled axe.min.js): nothing is loaded from
another host, and make test needs no npm.
"""

from __future__ import annotations

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select, update

from course_portal.accounts.models import User
from course_portal.extensions import db
from tests import factories
from tests.key_pages import LANGUAGES, make_key_pages

#: (name, browser context options): one context for each size, reused for every page
SIZES = [
    ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}),
    ("desktop", {"viewport": {"width": 1366, "height": 900}}),
]
#: what fails the test; "moderate" and "minor" findings are left to a person's judgement
FAILING_IMPACTS = {"serious", "critical"}


def _sign_in(page, app, email: str) -> None:
    """Sign in by the form's field names, whatever the page's language; staff type their code."""
    page.goto(app.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("input[name=password]").press("Enter")
    signed_in = page.locator("form[action$='/logout'] button")
    code = page.locator("input[name=code]")
    expect(signed_in.or_(code)).to_be_visible()
    if code.is_visible():
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
            db.session.commit()
            code.fill(pyotp.TOTP(user.totp_secret).now())
        code.press("Enter")
    expect(signed_in).to_be_visible()


def _sign_out(page) -> None:
    page.locator("form[action$='/logout'] button").click()
    expect(page.locator(".site-header a[href$='/login']")).to_be_visible()


def _switch_language(page, code: str) -> None:
    """The header's language switch, as a reader uses it (saved for a signed-in user)."""
    with page.expect_navigation():
        page.locator(f".lang-switch button[value={code}]").click()
    expect(page.locator("html")).to_have_attribute(
        "lang", {"en": "en", "zh": "zh-Hans", "ru": "ru"}[code])


def _serious(results, where: str) -> list[str]:
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in FAILING_IMPACTS:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{where}: {violation['id']} ({violation['impact']}) "
                         f"{violation['help']} at {targets}")
    return found


def test_the_key_pages_have_no_serious_accessibility_violation(live_server, browser):
    with live_server.app_context():
        pages = make_key_pages()
    axe = Axe()
    problems: list[str] = []
    for size, options in SIZES:
        context = browser.new_context(locale="en-US", **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        for email, paths in pages.by_email():
            if email:
                _sign_in(page, live_server, email)
            else:
                page.goto(live_server.url + "/")
            for language in LANGUAGES:
                _switch_language(page, language)
                for name, path in paths.items():
                    response = page.goto(live_server.url + path)
                    assert response.ok, f"{path}: {response.status}"
                    problems += _serious(axe.run(page), f"{size} {language} {name}")
            if email:
                _switch_language(page, "en")
                _sign_out(page)
        context.close()
    assert problems == [], "\n".join(problems)
