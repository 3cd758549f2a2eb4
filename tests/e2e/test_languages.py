"""The portal in Chinese and in Russian, in a real browser; and the pinyin suggestion.

With SAVE_SCREENSHOTS=1 the tests also photograph the pages for the README, into
docs/screenshots/*-zh.png and *-ru.png; a normal run writes nothing into the repository.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import expect

from course_portal.catalog.models import Institute
from course_portal.db import utcnow
from course_portal.extensions import db
from tests import factories
from tests.e2e.conftest import enter_two_step_code
from tests.test_translations import english_left, po_path, read_catalog

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}

MODULES = [
    ("Russia's investment climate", "俄罗斯投资环境", "Инвестиционный климат России"),
    ("Venture financing", "风险投资", "Венчурное финансирование"),
    ("Public–private partnership", "政府和社会资本合作", "Государственно-частное партнёрство"),
    ("Technology transfer", "技术转移", "Трансфер технологий"),
    ("Analysis of investment projects", "投资项目分析", "Анализ инвестиционных проектов"),
    ("Final project", "结业项目", "Итоговый проект"),
]


@cache
def _catalog(locale: str):
    return read_catalog(po_path(locale))


def tr(locale: str, msgid: str) -> str:
    """The catalog's translation of a message, so that a better wording does not break a test."""
    if locale == "en":
        return msgid
    message = _catalog(locale).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {locale}"
    return message.string


def zh(msgid: str) -> str:
    return tr("zh", msgid)


def ru(msgid: str) -> str:
    return tr("ru", msgid)


def shot(page, name: str) -> None:
    """Photograph the whole page into docs/screenshots, only when SAVE_SCREENSHOTS=1."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_reads_in(page, locale: str) -> None:
    """The page is in the language: its html lang, its header, and no English UI text visible."""
    expect(page.locator("html")).to_have_attribute("lang", {"zh": "zh-Hans", "ru": "ru"}[locale])
    text = page.locator("body").inner_text()
    assert tr(locale, "SPbPU professional development") in page.title()
    assert tr(locale, "Peter the Great St. Petersburg Polytechnic University") in text
    assert english_left(text, _catalog(locale)) == []
    # nothing overflows sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def context_page(browser, locale: str):
    context = browser.new_context(locale=locale, viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.fixture
def zh_page(browser):
    """A desktop browser whose language is Chinese (Accept-Language: zh-CN)."""
    context, page = context_page(browser, "zh-CN")
    yield page
    context.close()


@pytest.fixture
def program(live_server):
    """A published program in three languages with an intake open for applications."""
    with live_server.app_context():
        institute = Institute(name_en="Graduate School of Industrial Economics",
                              name_zh="工业经济高等学院",
                              name_ru="Высшая школа промышленной экономики")
        program = factories.make_program(
            code="IE", institute=institute, hours=(8, 8, 12, 12, 16, 16),
            title_en="Investment Ecosystem", title_zh="投资生态系统",
            title_ru="Инвестиционная экосистема",
            description_en="How investment works in Russia: from the climate to a project.",
            description_zh="俄罗斯的投资如何运作：从投资环境到具体项目。",
            description_ru="Как устроены инвестиции в России: от климата до проекта.",
        )
        for module, (title_en, title_zh, title_ru) in zip(program.modules, MODULES, strict=True):
            module.title_en, module.title_zh, module.title_ru = title_en, title_zh, title_ru
        intake = factories.make_intake(program, title="2027-1", capacity=20)
        db.session.commit()
        return {"code": program.code, "intake_id": intake.id}


# --- the pinyin suggestion ------------------------------------------------------------------


def test_chinese_name_suggests_the_latin_spelling_and_keeps_what_was_typed(live_server, zh_page):
    page = zh_page
    page.goto(live_server.url + "/register")
    family_zh = page.get_by_label(zh("Family name in Chinese characters (姓)"), exact=True)
    given_zh = page.get_by_label(zh("Given name in Chinese characters (名)"), exact=True)
    family_latin = page.get_by_label(zh("Family name in Latin letters, as in your passport"),
                                     exact=True)
    given_latin = page.get_by_label(zh("Given name in Latin letters, as in your passport"),
                                    exact=True)
    note = page.locator("[data-pinyin-note]")
    expect(note).to_be_hidden()

    family_zh.press_sequentially("欧阳", delay=50)
    given_zh.press_sequentially("娜娜", delay=50)
    expect(family_latin).to_have_value("Ouyang")
    expect(given_latin).to_have_value("Nana")
    expect(note).to_be_visible()

    # her passport was issued in Hong Kong: she corrects the family name by hand
    family_latin.fill("Au-Yeung")
    given_zh.press("End")
    given_zh.press_sequentially("丽", delay=50)
    expect(given_latin).to_have_value("Nanali")  # still the suggestion: it follows the Chinese
    family_zh.fill("区")
    page.wait_for_load_state("networkidle")
    expect(family_latin).to_have_value("Au-Yeung")  # typed by hand: never overwritten
    expect(given_latin).to_have_value("Nanali")

    # an emptied field takes the suggestion again
    family_latin.fill("")
    family_zh.fill("单")
    expect(family_latin).to_have_value("Shan")
    expect(given_latin).to_have_value("Nanali")


def test_the_name_fields_work_without_the_suggestion(live_server, browser):
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/register")
    page.get_by_label("Family name in Chinese characters (姓)").fill("欧阳")
    page.get_by_label("Family name in Latin letters, as in your passport").fill("Ouyang")
    expect(page.get_by_label("Family name in Latin letters, as in your passport")).to_have_value(
        "Ouyang"
    )
    expect(page.locator("[data-pinyin-note]")).to_be_hidden()
    context.close()


# --- the pages in Chinese and in Russian ----------------------------------------------------


def test_chinese_visitor_reads_the_main_pages_in_chinese(live_server, program, zh_page):
    page = zh_page
    page.goto(live_server.url + "/")
    assert_reads_in(page, "zh")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        zh("Programs of advanced training at Polytechnic University")
    )
    header = page.get_by_role("navigation", name=zh("Main"))
    expect(header.get_by_role("link", name=zh("Sign in"), exact=True)).to_be_visible()
    expect(header.get_by_role("link", name=zh("Register"), exact=True)).to_be_visible()
    shot(page, "catalog-zh")

    page.get_by_role("link", name="投资生态系统").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投资生态系统")
    assert_reads_in(page, "zh")
    main = page.locator("main")
    expect(main).to_contain_text(zh("Intakes"))
    expect(main).to_contain_text(zh("Academic hours"))
    expect(main).to_contain_text("工业经济高等学院")
    expect(main).to_contain_text("风险投资")
    expect(page.get_by_role("link", name=zh("Apply"), exact=True)).to_be_visible()
    shot(page, "program-zh")

    header.get_by_role("link", name=zh("Register"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Register as a teacher"))
    assert_reads_in(page, "zh")
    expect(page.get_by_label(zh("Family name in Chinese characters (姓)"), exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=zh("Create account"))).to_be_visible()
    shot(page, "register-zh")

    header.get_by_role("link", name=zh("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Sign in"))
    assert_reads_in(page, "zh")
    expect(page.get_by_role("link", name=zh("Forgot your password?"))).to_be_visible()
    expect(page.get_by_role("button", name=zh("Sign in"))).to_be_visible()


def test_anonymous_visitor_switches_to_russian_and_it_stays(live_server, program, zh_page):
    page = zh_page
    page.goto(live_server.url + "/")
    assert_reads_in(page, "zh")

    page.get_by_role("button", name="Русский").click()
    assert_reads_in(page, "ru")
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-current", "true")

    page.get_by_role("link", name="Инвестиционная экосистема").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Инвестиционная экосистема")
    assert_reads_in(page, "ru")
    expect(page.locator("main")).to_contain_text("Венчурное финансирование")

    header = page.get_by_role("navigation", name=ru("Main"))
    header.get_by_role("link", name=ru("Register"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ru("Register as a teacher"))
    assert_reads_in(page, "ru")

    header.get_by_role("link", name=ru("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ru("Sign in"))
    assert_reads_in(page, "ru")

    # a new visit of the same visitor (same session cookie) is still in Russian
    page.goto(live_server.url + "/")
    assert_reads_in(page, "ru")


def _sign_in(page, base_url: str, email: str, locale: str, staff: bool = False) -> None:
    """Sign in through the form, whose labels are in the page's language."""
    page.goto(base_url + "/login")
    page.get_by_label(tr(locale, "Email address")).fill(email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name=tr(locale, "Sign in")).click()
    if staff:  # the two-step code, on a page in the language of the sign-in page
        enter_two_step_code(page, email, label=tr(locale, "Sign-in code"), button=tr(locale, "Verify"))


def test_teacher_who_chose_russian_reads_russian_in_a_chinese_browser(live_server, program,
                                                                       zh_page):
    with live_server.app_context():
        partner = factories.make_partner(name_en="Tianshui Normal University",
                                         name_zh="天水师范学院", name_ru="Тяньшуйский педагогический университет")
        factories.make_teacher(partner, email="nana.ouyang@example.edu.cn", locale="ru",
                               family_name_zh="欧阳", given_name_zh="娜娜",
                               family_name_latin="Ouyang", given_name_latin="Nana",
                               name_ru="Оуян Нана")
        db.session.commit()
    page = zh_page

    _sign_in(page, live_server.url, "nana.ouyang@example.edu.cn", "zh")  # a Chinese sign-in page
    expect(page.get_by_role("button", name=ru("Sign out"))).to_be_visible()
    assert_reads_in(page, "ru")

    page.get_by_role("link", name="Инвестиционная экосистема").first.click()
    page.get_by_role("link", name=ru("Apply"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Инвестиционная экосистема")
    assert_reads_in(page, "ru")
    expect(page.get_by_role("button", name=ru("Save draft"))).to_be_visible()
    shot(page, "apply-ru")

    page.get_by_role("link", name=ru("My profile")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Оуян Нана")
    assert_reads_in(page, "ru")


def test_coordinator_reviews_applications_in_russian(live_server, program, browser):
    with live_server.app_context():
        from course_portal.catalog.models import Intake

        intake = db.session.get(Intake, program["intake_id"])
        tianshui = factories.make_partner(name_en="Tianshui Normal University",
                                          name_zh="天水师范学院",
                                          name_ru="Тяньшуйский педагогический университет")
        datong = factories.make_partner(name_en="Shanxi Datong University", name_zh="山西大同大学",
                                        name_ru="Шаньсийский университет Датун")
        people = [
            (tianshui, "欧阳", "娜娜", "Ouyang", "Nana", "Оуян Нана", "submitted"),
            (datong, "王", "小明", "Wang", "Xiaoming", "", "submitted"),
            (tianshui, "单", "雪", "Shan", "Xue", "Шань Сюэ", "approved"),
            (datong, "吕", "志强", "Lyu", "Zhiqiang", "", "waitlisted"),
        ]
        for minutes, (partner, fzh, gzh, flat, glat, name_ru, status) in enumerate(people):
            teacher = factories.make_teacher(partner, family_name_zh=fzh, given_name_zh=gzh,
                                             family_name_latin=flat, given_name_latin=glat,
                                             name_ru=name_ru)
            factories.make_application(teacher=teacher, intake=intake, status=status,
                                       submitted_at=utcnow() - timedelta(hours=minutes + 1))
        factories.make_user(role="coordinator", email="coordinator@example.com", locale="ru")
        db.session.commit()

    context, page = context_page(browser, "en-US")
    try:
        _sign_in(page, live_server.url, "coordinator@example.com", "en", staff=True)
        expect(page.get_by_role("button", name=ru("Sign out"))).to_be_visible()
        page.get_by_role("navigation", name=ru("Main")).get_by_role(
            "link", name=ru("Applications to review"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(ru("Applications to review"))
        assert_reads_in(page, "ru")
        table = page.locator("table.review-table")
        # a Russian spelling where the teacher gave one, else the passport's; the Chinese after
        expect(table).to_contain_text("Оуян Нана (欧阳娜娜)")
        expect(table).to_contain_text("WANG Xiaoming (王小明)")
        expect(table).to_contain_text("Тяньшуйский педагогический университет")
        expect(page.get_by_role("button", name=ru("Show"))).to_be_visible()
        shot(page, "review-queue-ru")

        page.get_by_role("link", name=re.compile("Оуян Нана")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Оуян Нана (欧阳娜娜)")
        assert_reads_in(page, "ru")
    finally:
        context.close()
