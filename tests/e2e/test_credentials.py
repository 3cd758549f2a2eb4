"""In a browser: the teacher downloads the digital credential; an HR clerk checks it on /verify,
on a phone in Chinese, by choosing the file and by pasting it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from course_portal.certificates import services
from course_portal.extensions import db
from tests import factories
from tests.certificates.helpers import make_completed, make_finished_intake
from tests.e2e.conftest import finish_sign_in


def test_the_teacher_downloads_the_credential_and_a_clerk_checks_it(live_server, page,
                                                                     phone_page):
    with live_server.app_context():
        teacher = factories.make_teacher(
            email="ouyang.nana@example.edu.cn", family_name_zh="欧阳", given_name_zh="娜娜",
            family_name_latin="Ouyang", given_name_latin="Nana")
        certificate = services.issue_certificate(
            make_completed(make_finished_intake(), teacher=teacher),
            factories.make_user(role="coordinator"))
        db.session.commit()
        number = certificate.registry_number

    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("ouyang.nana@example.edu.cn")
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, "ouyang.nana@example.edu.cn")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My certificates").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Digital credential").click()
    assert download.value.suggested_filename == f"{number}.jwt"
    token = open(download.value.path(), encoding="utf-8").read()

    phone_page.goto(live_server.url + "/verify")
    phone_page.get_by_label("或选择凭证文件").set_input_files(files=[{
        "name": f"{number}.jwt", "mimeType": "application/octet-stream",
        "buffer": token.encode()}])
    # the picker speaks the page's language and shows the chosen file
    expect(phone_page.locator("#check-credential .file-name")).to_have_text(f"{number}.jwt")
    phone_page.get_by_role("button", name="验证数字凭证").click()
    status = phone_page.get_by_role("status").filter(has_text=number)
    expect(status).to_contain_text("有效")
    expect(status).to_contain_text(re.compile(rf"此数字凭证是证书 {number}，有效"))

    # pasted, with the line breaks an email client adds
    phone_page.get_by_label("粘贴数字凭证").fill(
        "\n".join(token[i:i + 76] for i in range(0, len(token), 76)))
    phone_page.get_by_role("button", name="验证数字凭证").click()
    expect(phone_page.get_by_role("status").filter(has_text=number)).to_contain_text("有效")
    # nothing of the page is wider than the phone
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
