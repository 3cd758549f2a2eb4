"""A coordinator records results in the roster with the keyboard; the teacher's bar moves."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from course_portal.core.clock import portal_today
from course_portal.extensions import db
from tests import factories
from tests.e2e.conftest import finish_sign_in


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, email)  # staff type their two-step code too


def test_coordinator_records_results_and_the_teachers_bar_moves(live_server, browser):
    today = portal_today()
    with live_server.app_context():
        program = factories.make_program(code="IS", title_en="Intellectual Systems",
                                         hours=(8, 12, 20))
        intake = factories.make_intake(
            program, title="Autumn 2026",
            applications_open_on=today - timedelta(days=100),
            applications_close_on=today - timedelta(days=70),
            starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30))
        teacher = factories.make_teacher(email="chen.jing@example.edu.cn",
                                         family_name_zh="陈", given_name_zh="静",
                                         family_name_latin="Chen", given_name_latin="Jing")
        factories.make_application(teacher=teacher, intake=intake, status="enrolled")
        other = factories.make_teacher(family_name_zh="赵", given_name_zh="雷",
                                       family_name_latin="Zhao", given_name_latin="Lei")
        factories.make_application(teacher=other, intake=intake, status="enrolled")
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    # the teacher, on a phone: nothing credited yet
    phone_page = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                     is_mobile=True, has_touch=True).new_page()
    phone_page.set_default_timeout(10_000)
    _sign_in(phone_page, live_server.url, "chen.jing@example.edu.cn")
    phone_page.goto(live_server.url + "/progress")
    bar = phone_page.locator("progress.progress-bar")
    expect(bar).to_have_attribute("value", "0")
    expect(bar).to_have_attribute("max", "40")

    coordinator = browser.new_context(locale="en-US").new_page()
    coordinator.set_default_timeout(10_000)
    _sign_in(coordinator, live_server.url, "coordinator@example.com")
    coordinator.get_by_role("link", name="Manage programs").click()
    coordinator.get_by_role("link", name="Intakes IS").click()
    coordinator.get_by_role("link", name="Roster Autumn 2026").click()
    expect(coordinator.get_by_role("heading", name="Roster of Autumn 2026")).to_be_visible()

    # keyboard only: type the hours, Tab to the result, choose it, Tab on
    first = coordinator.get_by_label("CHEN Jing (陈静), module 1: attended hours of 8")
    first.click()
    first.press("Control+a")
    coordinator.keyboard.type("8")
    coordinator.keyboard.press("Tab")
    expect(coordinator.get_by_label("CHEN Jing (陈静), module 1: result")).to_be_focused()
    coordinator.get_by_label("CHEN Jing (陈静), module 1: result").select_option("passed")
    coordinator.keyboard.press("Tab")
    coordinator.keyboard.press("Control+a")
    coordinator.keyboard.type("12")
    expect(coordinator.get_by_label("CHEN Jing (陈静), module 2: attended hours of 12")
           ).to_have_value("12")
    coordinator.get_by_label("CHEN Jing (陈静), module 2: result").select_option("passed")
    # arrow down moves to the same column of the next teacher, its value selected (roster.js)
    first.click()
    coordinator.keyboard.press("ArrowDown")
    expect(coordinator.get_by_label("ZHAO Lei (赵雷), module 1: attended hours of 8")
           ).to_be_focused()
    # a wrong cell: the grid comes back marked, what was typed kept, nothing saved
    coordinator.keyboard.type("99")
    coordinator.get_by_role("button", name="Save the results").click()
    expect(coordinator.get_by_text("1 cell needs attention")).to_be_visible()
    wrong = coordinator.get_by_label("ZHAO Lei (赵雷), module 1: attended hours of 8")
    expect(wrong).to_have_value("99")
    expect(wrong).to_have_attribute("aria-invalid", "true")
    expect(coordinator.get_by_label("CHEN Jing (陈静), module 2: attended hours of 12")
           ).to_have_value("12")
    wrong.fill("6")
    coordinator.get_by_role("button", name="Save the results").click()
    expect(coordinator.get_by_text("The results are saved: 5 changes.")).to_be_visible()

    # the teacher's bar has moved: 20 of 40 hours
    phone_page.reload()
    expect(bar).to_have_attribute("value", "20")
    phone_page.locator("main h2 a").first.click()
    expect(phone_page.locator("progress.progress-bar")).to_have_attribute("value", "20")
    expect(phone_page.locator(".progress-module")).to_have_count(3)
    # phone-friendly: nothing wider than the screen
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    # the coordinator sees who changed what on the teacher's record
    coordinator.get_by_role("link", name="CHEN Jing").click()
    expect(coordinator.get_by_role("heading", name="History of results")).to_be_visible()
    expect(coordinator.locator(".progress-history")).to_contain_text("Not yet → Passed")


def test_coordinator_imports_a_csv_after_a_preview(live_server, browser):
    today = portal_today()
    with live_server.app_context():
        program = factories.make_program(code="IE", hours=(8, 12))
        intake = factories.make_intake(
            program, title="Spring 2026",
            applications_open_on=today - timedelta(days=100),
            applications_close_on=today - timedelta(days=70),
            starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30))
        application = factories.make_application(intake=intake, status="enrolled")
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()
        application_id, intake_id = application.id, intake.id

    page = browser.new_context(locale="en-US").new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, live_server.url, "coordinator@example.com")
    page.goto(f"{live_server.url}/progress/manage/intakes/{intake_id}/roster")
    page.get_by_role("link", name="Import a CSV file").click()
    csv_text = ("application;m1_hours;m1_result;m2_hours;m2_result;final_result\n"
                f"{application_id};8;passed;10;passed;passed\n")
    page.get_by_label("CSV file").set_input_files(files=[{
        "name": "成绩.csv", "mimeType": "text/csv", "buffer": csv_text.encode("gb18030")}])
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("The file is right: 5 changes will be saved.")).to_be_visible()
    page.get_by_role("button", name="Import these results").click()
    expect(page.get_by_text("The file is imported: 5 changes.")).to_be_visible()
    expect(page.locator(".roster-total")).to_contain_text("18 of 20")
