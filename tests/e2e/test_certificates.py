"""A coordinator issues, the teacher downloads the PDF with their name, a visitor verifies it."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.e2e.conftest import finish_sign_in


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, email)  # staff type their two-step code too


def test_issue_download_verify_revoke(live_server, smtp_server, browser):
    with live_server.app_context():
        intake = make_finished_intake(title="Spring 2026")
        teacher = factories.make_teacher(
            email="ouyang.nana@example.edu.cn", family_name_zh="欧阳", given_name_zh="娜娜",
            family_name_latin="Ouyang", given_name_latin="Nana")
        make_completed(intake, teacher=teacher)
        factories.make_user(role="coordinator", email="coordinator@example.com")
        db.session.commit()

    coordinator = browser.new_context(locale="en-US").new_page()
    coordinator.set_default_timeout(15_000)
    _sign_in(coordinator, live_server.url, "coordinator@example.com")
    coordinator.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Certificates").click()
    coordinator.get_by_role("link", name=re.compile("Spring 2026")).click()
    expect(coordinator.locator("main")).to_contain_text("OUYANG Nana")
    expect(coordinator.locator("main")).to_contain_text("Eligible")
    coordinator.get_by_role("button", name="Issue certificate: OUYANG Nana").click()
    expect(coordinator.get_by_text(re.compile(r"Certificate IE-\d{4}-0001 issued"))).to_be_visible()
    messages = smtp_server.wait_for("ouyang.nana@example.edu.cn")
    assert any("issued" in str(m["Subject"]) for m in messages)

    teacher_page = browser.new_context(locale="en-US").new_page()
    teacher_page.set_default_timeout(15_000)
    _sign_in(teacher_page, live_server.url, "ouyang.nana@example.edu.cn")
    teacher_page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My certificates").click()
    with teacher_page.expect_download() as download_info:
        teacher_page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert re.fullmatch(r"IE-\d{4}-0001 欧阳娜娜 OUYANG Nana\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as stream:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(stream.read())).pages)
    assert "欧阳娜娜" in text and "OUYANG Nana" in text
    # the URL printed under the QR code, which the code itself holds
    verify_url = re.search(r"(http://127\.0\.0\.1:\d+/verify/[A-Za-z0-9_-]+)",
                           text.replace("\n", "")).group(1)

    visitor = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                  is_mobile=True).new_page()
    visitor.set_default_timeout(15_000)
    visitor.goto(verify_url)
    status = visitor.get_by_role("status")
    expect(status).to_contain_text("Valid")
    expect(visitor.locator("main")).to_contain_text("欧阳娜娜")

    coordinator.goto(live_server.url + "/certificates/manage/registry")
    coordinator.get_by_role("link", name=re.compile(r"IE-\d{4}-0001")).click()
    coordinator.get_by_label("Reason for revocation").fill("Issued to the wrong intake")
    coordinator.get_by_role("button", name="Revoke certificate").click()
    expect(coordinator.get_by_text(re.compile("revoked", re.I)).first).to_be_visible()

    visitor.reload()
    expect(visitor.get_by_role("status")).to_contain_text("Revoked")
    expect(visitor.get_by_role("status")).to_contain_text("Issued to the wrong intake")
