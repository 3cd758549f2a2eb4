"""In a browser: what a long value does to the staff pages' columns, and what a button looks like."""

from __future__ import annotations

from tests import factories
from tests.e2e.conftest import finish_sign_in

#: 60 characters: a real shape of a Chinese university's staff address
LONG_EMAIL = "zhangsanfeng.international.office.2026@foreign-languages.edu.cn"


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, email)


def _overflowing(page) -> list[str]:
    """Elements of the review page's side column wider than the column shows."""
    return page.evaluate("""() => [...document.querySelectorAll('.review-side dd')]
        .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent.trim())""")


def test_a_long_email_stays_in_the_review_pages_column(live_server, browser):
    with live_server.app_context():
        intake = factories.make_intake(factories.make_program(code="LE"))
        teacher = factories.make_teacher(email=LONG_EMAIL)
        application = factories.make_application(teacher=teacher, intake=intake,
                                                 status="submitted")
        coordinator = factories.make_user(role="coordinator", email="coord@spbstu.ru")
        from course_portal.extensions import db

        db.session.commit()
        url = f"{live_server.url}/review/applications/{application.id}"
        email = coordinator.email
    for width in (1366, 390):
        context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        _sign_in(page, live_server.url, email)
        page.goto(url)
        assert page.get_by_text(LONG_EMAIL).first.is_visible()
        assert _overflowing(page) == [], width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        context.close()


def test_the_close_applications_button_looks_like_the_others(live_server, page):
    with live_server.app_context():
        program = factories.make_program(code="CB")
        factories.make_intake(program, title="Open now")
        coordinator = factories.make_user(role="coordinator", email="coord2@spbstu.ru")
        from course_portal.extensions import db

        db.session.commit()
        program_id, email = program.id, coordinator.email
    _sign_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/manage/programs/{program_id}/intakes")
    close = page.get_by_role("button", name="Close applications Open now")
    edit = page.get_by_role("link", name="Edit Open now")
    padding = "el => getComputedStyle(el).paddingTop + ' ' + getComputedStyle(el).paddingLeft"
    assert close.evaluate(padding) == edit.evaluate(padding)
    assert abs(close.bounding_box()["height"] - edit.bounding_box()["height"]) <= 2


def test_a_file_input_speaks_the_pages_language_and_shows_the_chosen_name(live_server, browser):
    with live_server.app_context():
        intake = factories.make_intake(factories.make_program(code="FI"))
        coordinator = factories.make_user(role="coordinator", email="coord3@spbstu.ru",
                                          locale="zh")
        from course_portal.extensions import db

        db.session.commit()
        url = f"{live_server.url}/progress/manage/intakes/{intake.id}/roster/import"
        email = coordinator.email
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    finish_sign_in(page, email, sign_out="退出", code_label="登录验证码", verify="验证")
    page.goto(url)
    picker = page.locator(".file-picker")
    assert picker.get_attribute("class") == "file-picker file-enhanced"
    assert picker.locator(".file-button").inner_text() == "选择文件"
    assert picker.locator(".file-name").inner_text() == "未选择文件"
    # keyboard users reach the real input, whose name is the field's label
    page.locator("input[type=file]").set_input_files(files=[{
        "name": "名单.csv", "mimeType": "text/csv", "buffer": b"a,b\n"}])
    assert picker.locator(".file-name").inner_text() == "名单.csv"
    context.close()
