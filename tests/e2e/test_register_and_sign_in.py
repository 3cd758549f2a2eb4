"""A teacher with a Chinese name registers, confirms by email and signs in, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from course_portal.accounts.models import User
from course_portal.extensions import db
from tests import factories

PASSWORD = "长城-password-2026"


def _confirmation_link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+/confirm/\S+", body)
    assert links, body
    return links[0]


def test_teacher_registers_with_chinese_name_confirms_and_signs_in(live_server, smtp_server, page):
    with live_server.app_context():
        factories.make_partner(name_en="Datong University", name_zh="山西大同大学")
        db.session.commit()

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Register").first.click()

    page.get_by_label("Email address").fill("Ouyang.Nana@Example.edu.cn")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_label("Family name in Chinese characters (姓)").fill("欧阳")
    page.get_by_label("Given name in Chinese characters (名)").fill("娜娜")
    page.get_by_label("Family name in Latin letters, as in your passport").fill("Ouyang")
    page.get_by_label("Given name in Latin letters, as in your passport").fill("Nana")
    page.get_by_label("University").select_option(label="Datong University")
    page.get_by_label("Department").fill("外国语学院")
    page.get_by_label("Position").fill("副教授")
    page.get_by_label("WeChat ID").fill("nana_ouyang")
    # each consent beside its own text: the processing (152-FZ) and, separately, the transfer
    expect(page.get_by_role("region", name="Consent to the processing of personal data")
           ).to_contain_text("152-FZ")
    expect(page.get_by_role("region", name="Separate consent to the transfer of personal "
                            "information abroad")).to_contain_text("art. 39")
    page.get_by_label("I consent to SPbPU processing my personal data").check()
    page.get_by_label("I consent, separately, to the transfer").check()
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    message = smtp_server.wait_for("ouyang.nana@example.edu.cn")[0]
    page.goto(_confirmation_link(message))
    # the link signs the teacher in; sign out to sign in through the form
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email address").fill("ouyang.nana@example.edu.cn")
    page.get_by_label("Password", exact=True).fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("link", name="My profile").click()
    expect(page.locator("main")).to_contain_text("欧阳娜娜")
    expect(page.locator("main")).to_contain_text("OUYANG Nana")
    expect(page.locator("main")).to_contain_text("Datong University")

    with live_server.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "ouyang.nana@example.edu.cn"))
        assert user.profile.name_zh == "欧阳娜娜"
        assert user.email_confirmed_at is not None


def test_visitor_reads_catalog_in_chinese_on_a_phone(live_server, phone_page):
    with live_server.app_context():
        program = factories.make_program(code="IE", title_en="Investment Ecosystem", title_zh="投资生态系统",
                                         hours=(10, 10, 10, 10, 16, 16))
        factories.make_intake(program, title="Spring 2027")
        db.session.commit()

    phone_page.goto(live_server.url + "/")
    phone_page.get_by_role("link", name="投资生态系统").first.click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("投资生态系统")
    expect(phone_page.locator("table.modules tfoot")).to_contain_text("72")
    # nothing overflows sideways on a 390-pixel screen
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    phone_page.get_by_role("button", name="Русский").click()
    expect(phone_page.locator("html")).to_have_attribute("lang", "ru")
    phone_page.get_by_role("link", name=re.compile("Programs|Программы")).first.click()
    expect(phone_page.locator("html")).to_have_attribute("lang", "ru")
