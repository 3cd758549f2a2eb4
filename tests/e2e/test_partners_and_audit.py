"""A coordinator adds a partner liaison; the liaison chooses a password, sets up two-step sign-in,
follows their university's teachers and nothing else; the coordinator finds it all in the log."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from course_portal.extensions import db
from tests import factories
from tests.e2e.conftest import finish_sign_in

NEW_PASSWORD = "liaison-password-2026"


def _sign_in(page, base_url: str, email: str, password: str = factories.PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _reset_link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+/password/reset/\S+", body)
    assert links, body
    return links[0]


def test_a_liaison_follows_their_universitys_teachers_and_the_log_shows_it(
        live_server, smtp_server, page, browser, tmp_path):
    with live_server.app_context():
        datong = factories.make_partner("Datong University")
        tianshui = factories.make_partner("Tianshui Pedagogical University")
        program = factories.make_program(code="IE", title_en="Investment Ecosystem")
        intake = factories.make_intake(program, title="Spring 2027")
        ours = factories.make_teacher(datong, family_name_zh="欧阳", given_name_zh="娜娜",
                                      family_name_latin="OUYANG", given_name_latin="Nana")
        theirs = factories.make_teacher(tianshui, family_name_zh="司马", given_name_zh="玥",
                                        family_name_latin="SIMA", given_name_latin="Yue")
        factories.make_application(ours, intake, status="submitted")
        other_application = factories.make_application(theirs, intake, status="approved")
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()
        other_application_id = other_application.id

    # the coordinator adds a liaison for Datong University
    _sign_in(page, live_server.url, "coordinator@example.com")
    finish_sign_in(page, "coordinator@example.com")
    page.get_by_role("link", name="Partner liaisons").click()
    page.get_by_label("Partner university").select_option(label="Datong University")
    page.get_by_label("Email address").fill("hr@datong.example.edu.cn")
    page.get_by_label("Name", exact=True).fill("赵敏")
    page.get_by_label("Language of the portal and of emails").select_option(label="English")
    page.get_by_role("button", name="Add the liaison").click()
    expect(page.get_by_role("button", name="Disable hr@datong.example.edu.cn")).to_be_visible()

    # the liaison chooses a password from the email's link, then sets up two-step sign-in
    messages = smtp_server.wait_for("hr@datong.example.edu.cn", count=2)
    link = next(_reset_link(m) for m in messages if "/password/reset/" in str(m.get_body()))
    liaison = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    their_page = liaison.new_page()
    their_page.set_default_timeout(10_000)
    their_page.goto(link)
    their_page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    their_page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    their_page.get_by_role("button", name="Set the new password").click()
    if not their_page.get_by_role("heading", name="Set up two-step sign-in").is_visible():
        _sign_in(their_page, live_server.url, "hr@datong.example.edu.cn", NEW_PASSWORD)
    expect(their_page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    key = their_page.locator(".totp-secret").inner_text().replace(" ", "")
    their_page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    their_page.get_by_role("button", name="Turn on two-step sign-in").click()
    their_page.get_by_role("link", name="I have kept them: continue").click()

    # their university's teachers, and only those
    their_page.goto(live_server.url + "/partner/")
    expect(their_page.get_by_role("heading", name="Teachers of Datong University")).to_be_visible()
    expect(their_page.get_by_role("link", name=re.compile("OUYANG Nana"))).to_be_visible()
    expect(their_page.get_by_text("SIMA")).to_have_count(0)
    their_page.screenshot(path=str(tmp_path / "partner.png"), full_page=True)
    their_page.get_by_role("link", name=re.compile("OUYANG Nana")).click()
    expect(their_page.get_by_text("What a partner liaison does not see")).to_be_visible()
    expect(their_page.get_by_text("Submitted").first).to_be_visible()

    # everything else is closed to them
    response = their_page.goto(live_server.url + "/review")
    assert response.status == 403
    response = their_page.goto(live_server.url + f"/applications/{other_application_id}")
    assert response.status in (403, 404)
    liaison.close()

    # the coordinator finds the new liaison in the audit log
    page.goto(live_server.url + "/dashboard/audit")
    page.get_by_label("Action").select_option(label="Partner liaison added")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="Partner liaison added")).to_be_visible()
    expect(page.get_by_text("1 action")).to_be_visible()
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
