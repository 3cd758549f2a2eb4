"""A coordinator opens the dashboard, follows a figure to the filtered queue, opens an intake."""

from __future__ import annotations

from playwright.sync_api import expect

from course_portal.extensions import db
from tests import factories
from tests.dashboard.helpers import make_data_set
from tests.e2e.conftest import finish_sign_in


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, email)  # staff type their two-step code too


def test_coordinator_follows_the_dashboard(live_server, page, browser, tmp_path):
    with live_server.app_context():
        make_data_set()
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    # a coordinator lands on the dashboard after signing in
    _sign_in(page, live_server.url, "coordinator@example.com")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.get_by_role("link", name="Applications to review").click()
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Applications by status")).to_be_visible()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # a bar of the chart leads to the queue with the same filter and the same number
    page.get_by_role("link", name="Submitted 2", exact=True).click()
    expect(page.get_by_role("heading", name="Applications to review")).to_be_visible()
    expect(page.get_by_text("2 applications")).to_be_visible()
    assert "status=submitted" in page.url

    # the numbers as a table, filtered by a partner university
    page.go_back()
    page.get_by_label("Partner university", exact=True).select_option(label="Datong University")
    page.get_by_role("button", name="Show").click()
    chart = page.locator("#by-status")
    chart.get_by_text("The numbers as a table").click()
    expect(chart.get_by_role("row", name="Waitlisted 1")).to_be_visible()

    # an intake's overview, from the seats chart
    page.locator("#seats").get_by_text("The numbers as a table").click()
    page.locator("#seats").get_by_role("link", name="IE · Spring 2026", exact=True).click()
    expect(page.get_by_role("heading", name="Overview of Spring 2026")).to_be_visible()
    expect(page.get_by_role("heading", name="Progress of every teacher")).to_be_visible()
    expect(page.get_by_text("72 of 72 hours").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "intake-overview.png"), full_page=True)

    # on a phone the dashboard fits the screen's width
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    phone_page = context.new_page()
    phone_page.set_default_timeout(10_000)
    _sign_in(phone_page, live_server.url, "coordinator@example.com")
    phone_page.goto(live_server.url + "/dashboard")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    phone_page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
    context.close()
