"""A teacher applies with a PDF, a coordinator approves, and the teacher sees the approval."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from course_portal.extensions import db
from tests import factories
from tests.e2e.conftest import finish_sign_in

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, email)  # staff type their two-step code too


def test_teacher_applies_coordinator_approves_teacher_sees_it(live_server, smtp_server, browser):
    with live_server.app_context():
        partner = factories.make_partner(name_en="Harbin Cambridge University")
        program = factories.make_program(code="IE", title_en="Investment Ecosystem")
        intake = factories.make_intake(program, title="Spring 2027", capacity=2)
        factories.make_teacher(email="li.wei@example.edu.cn", partner=partner,
                               family_name_zh="李", given_name_zh="伟",
                               family_name_latin="Li", given_name_latin="Wei")
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()
        intake_title = intake.title

    teacher = browser.new_context(locale="en-US").new_page()
    teacher.set_default_timeout(10_000)
    _sign_in(teacher, live_server.url, "li.wei@example.edu.cn")

    teacher.goto(live_server.url + "/programs/IE")
    teacher.get_by_role("link", name="Apply").click()
    teacher.get_by_label("Why do you want to take this program?").fill(
        "我在大学教投资学，希望了解俄罗斯的投资生态。"
    )
    teacher.get_by_label("My home university").check()
    teacher.get_by_label("Diploma").set_input_files(
        files=[{"name": "我的文凭.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}]
    )
    teacher.get_by_label("Passport page with your photo").set_input_files(
        files=[{"name": "passport.png", "mimeType": "image/png", "buffer": _png()}]
    )
    teacher.get_by_label("CV").set_input_files(
        files=[{"name": "cv.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}]
    )
    teacher.get_by_label("I agree to the processing of my personal data").check()
    teacher.get_by_role("button", name="Submit application").click()
    expect(teacher.get_by_text("Your application is submitted")).to_be_visible()
    smtp_server.wait_for("li.wei@example.edu.cn")

    coordinator = browser.new_context(locale="en-US").new_page()
    coordinator.set_default_timeout(10_000)
    _sign_in(coordinator, live_server.url, "coordinator@example.com")
    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Applications to review").click()
    expect(coordinator.get_by_role("heading", name="Applications to review")).to_be_visible()
    coordinator.get_by_role("link", name="李伟").click()
    expect(coordinator.locator("main")).to_contain_text("我的文凭.pdf")
    expect(coordinator.locator("main")).to_contain_text(intake_title)
    coordinator.get_by_role("button", name="Approve", exact=True).click()
    expect(coordinator.get_by_text("Approved: №")).to_be_visible()

    messages = smtp_server.wait_for("li.wei@example.edu.cn", count=2)
    assert any("approved" in str(m["Subject"]).lower() for m in messages), [m["Subject"] for m in messages]

    teacher.get_by_role("navigation", name="Main").get_by_role("link", name="My applications").click()
    expect(teacher.locator("main")).to_contain_text("Investment Ecosystem")
    expect(teacher.locator("main")).to_contain_text("pproved")
    teacher.get_by_role("link", name="Open the application").click()
    timeline = teacher.locator("main")
    expect(timeline).to_contain_text("pproved")
    expect(timeline).to_contain_text("ubmitted")

    with teacher.expect_download() as download_info:
        teacher.get_by_role("link", name="我的文凭.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "我的文凭.pdf"
    with open(download.path(), "rb") as stream:
        assert stream.read().startswith(b"%PDF-")
