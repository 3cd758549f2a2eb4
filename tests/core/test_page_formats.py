"""Sizes and dates as each language writes them, never Jinja's English."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from course_portal.core.web import _format_day, _format_size


def test_file_sizes_are_in_the_readers_language(app):
    with app.test_request_context(), force_locale("ru"):
        assert _format_size(850 * 1024) == "850 КБ"
        assert "байт" in _format_size(120)
    with app.test_request_context(), force_locale("zh"):
        assert "字节" in _format_size(120)
    with app.test_request_context(), force_locale("en"):
        assert _format_size(12 * 1024 * 1024 + 300 * 1024) == "12.3 MB"
        assert "Bytes" not in _format_size(1)


def test_a_russian_date_ends_without_a_stray_abbreviation(app):
    with app.test_request_context(), force_locale("ru"):
        shown = _format_day(date(2027, 3, 3))
        assert shown.startswith("3 мар") and not shown.endswith(".")
        assert f"Набор закрывается {shown}." .count("..") == 0


def test_the_quick_select_writes_what_wtforms_writes():
    """The filter menus' widget: the same markup as WTForms' own, hostile labels escaped."""
    from wtforms import Form, SelectField

    from course_portal.core.web import options
    from course_portal.core.widgets import QuickSelect

    choices = options([("", "Any"), ("1", '<script>alert("x")</script> & 欧阳'),
                       ("2", "{{ 7*7 }}")])

    class Menus(Form):
        plain = SelectField(choices=choices, default="1")
        quick = SelectField(choices=choices, default="1", widget=QuickSelect())

    form = Menus()
    assert str(form.quick()) == str(form.plain()).replace('"plain"', '"quick"')
    assert "<script>" not in str(form.quick())


def test_templates_translate_in_the_locale_in_force_even_when_it_changes(app):
    """The templates' catalog is kept per request: an email rendered in the recipient's
    language inside a page's request, and the page after it, each get their own."""
    from flask import render_template_string

    page = '{{ _("Sign in") }} · {{ ngettext("%(num)d application", "%(num)d applications", 2) }}'
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        first = render_template_string(page)
        with force_locale("ru"):
            russian = render_template_string(page)
        with force_locale("en"):
            english = render_template_string(page)
        again = render_template_string(page)
    assert first == again and "登录" in first and "2" in first
    assert "Войти" in russian and "заявки" in russian
    assert english == "Sign in · 2 applications"
