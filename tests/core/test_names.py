"""A teacher's name per language: 欧阳娜娜 on Chinese pages, OUYANG Nana, Оуян Нана."""

from __future__ import annotations

import html
import re

import pytest
from flask import render_template_string
from flask_babel import force_locale

from course_portal.accounts.models import TeacherProfile
from course_portal.core.names import display_name, name_parts, person_name
from tests import factories


def nana(**fields) -> TeacherProfile:
    values = {"family_name_zh": "欧阳", "given_name_zh": "娜娜", "family_name_latin": "Ouyang",
              "given_name_latin": "Nana", "name_ru": "Оуян Нана"}
    values.update(fields)
    return TeacherProfile(**values)


@pytest.mark.parametrize(
    ("language", "both", "expected"),
    [
        ("zh", True, "欧阳娜娜（OUYANG Nana）"),
        ("zh", False, "欧阳娜娜"),
        ("en", True, "OUYANG Nana (欧阳娜娜)"),
        ("en", False, "OUYANG Nana"),
        ("ru", True, "Оуян Нана (欧阳娜娜)"),
        ("ru", False, "Оуян Нана"),
    ],
)
def test_each_language_reads_the_name_its_way(language, both, expected):
    assert display_name(nana(), language, both=both) == expected


def test_russian_pages_fall_back_to_the_passport_form():
    assert display_name(nana(name_ru=""), "ru") == "OUYANG Nana (欧阳娜娜)"
    assert display_name(nana(name_ru=None), "ru", both=False) == "OUYANG Nana"
    assert display_name(nana(name_ru="  "), "ru") == "OUYANG Nana (欧阳娜娜)"


def test_the_passport_form_puts_the_family_name_first_in_capitals():
    profile = nana(family_name_latin="Zhuge", given_name_latin="Liang", family_name_zh="诸葛",
                   given_name_zh="亮")
    assert display_name(profile, "en", both=False) == "ZHUGE Liang"
    assert display_name(profile, "zh", both=False) == "诸葛亮"


def test_missing_forms_are_left_out():
    no_chinese = nana(family_name_zh="", given_name_zh="")
    assert display_name(no_chinese, "en") == "OUYANG Nana"
    assert display_name(no_chinese, "zh") == "OUYANG Nana"
    no_latin = nana(family_name_latin="", given_name_latin="")
    assert display_name(no_latin, "en") == "欧阳娜娜"
    assert display_name(no_latin, "zh") == "欧阳娜娜"
    half_latin = nana(given_name_latin="")
    assert display_name(half_latin, "en", both=False) == "OUYANG"
    assert display_name(None, "en") == ""
    assert name_parts(None, "zh") == []


def test_an_unknown_language_reads_like_english():
    assert display_name(nana(), "de") == "OUYANG Nana (欧阳娜娜)"


# --- the Jinja filter ---------------------------------------------------------------------


def render(app, language: str, source: str, **context) -> str:
    with app.test_request_context(), force_locale(language):
        return render_template_string(source, **context)


def test_filter_marks_each_part_with_its_language(app):
    page = render(app, "en", "{{ p | person_name }}", p=nana())
    assert page == ('<span class="name-latin" lang="en">OUYANG Nana</span> '
                    '(<span class="name-zh name-other" lang="zh-Hans">欧阳娜娜</span>)')
    page = render(app, "zh", "{{ p | person_name }}", p=nana())
    assert page == ('<span class="name-zh" lang="zh-Hans">欧阳娜娜</span>'
                    '（<span class="name-latin name-other" lang="en">OUYANG Nana</span>）')
    page = render(app, "ru", "{{ p | person_name(both=False) }}", p=nana())
    assert page == '<span class="name-ru" lang="ru">Оуян Нана</span>'


def test_filter_escapes_the_name(app):
    page = render(app, "ru", "{{ p | person_name }}",
                  p=nana(name_ru='<script>alert("x")</script>', family_name_zh="<b>"))
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;" in page


def test_filter_without_a_profile_is_empty(app):
    assert render(app, "en", "[{{ p | person_name }}]", p=None) == "[]"
    with app.test_request_context(), force_locale("en"):
        assert str(person_name(None)) == ""


# --- the pages that show teachers' names ----------------------------------------------------


def visible(response) -> str:
    """The page's text without tags, as a reader sees it."""
    assert response.status_code == 200
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


@pytest.fixture
def nana_applied(db):
    teacher = factories.make_teacher(family_name_zh="欧阳", given_name_zh="娜娜",
                                     family_name_latin="Ouyang", given_name_latin="Nana",
                                     name_ru="Оуян Нана")
    application = factories.make_application(teacher=teacher, status="submitted")
    db.session.commit()
    return application


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh", "欧阳娜娜（OUYANG Nana）"), ("en", "OUYANG Nana (欧阳娜娜)"), ("ru", "Оуян Нана (欧阳娜娜)")],
)
def test_review_pages_show_the_name_for_the_reader(client, login_as, nana_applied, language,
                                                   expected):
    login_as("coordinator", locale=language)
    assert expected in visible(client.get("/review"))
    assert expected in visible(client.get(f"/review/applications/{nana_applied.id}"))


@pytest.mark.parametrize(
    ("language", "heading"), [("zh", "欧阳娜娜"), ("en", "OUYANG Nana"), ("ru", "Оуян Нана")]
)
def test_profile_heading_reads_the_name_for_the_reader(client, login_as, language, heading):
    login_as("teacher", locale=language, family_name_zh="欧阳", given_name_zh="娜娜",
             family_name_latin="Ouyang", given_name_latin="Nana", name_ru="Оуян Нана")
    page = client.get("/profile").get_data(as_text=True)
    found = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert found and html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) == heading
