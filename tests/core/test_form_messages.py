"""Every message a form of the portal gives comes from the portal's catalogs, in each language.

WTForms has messages and catalogs of its own ("This field is required." is 该字段是必填字段。
there, 此项为必填项。 in the portal's glossary), and a validator without message= shows them. This
walks every form class of the portal, validates it empty and with bad values under each
locale, and checks each error against the portal's catalog of that locale: an English msgid
on an English page, its translation on a Chinese or Russian one (placeholders matched as any
text). A WTForms built-in, or a message nobody translated, fails with the form and field named.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form, fields

import course_portal
from tests.test_translations import PLACEHOLDER, TEMPLATE, po_path

LANGUAGES = ("en", "zh", "ru")

#: bad values by field type: each a value the field's rules must refuse with a message
TOO_LONG = "x" * 100_001
BAD = {
    fields.IntegerField: ["abc", "-99999999", "99999999"],
    fields.DecimalField: ["abc"],
    fields.FloatField: ["abc"],
    fields.DateField: ["2027-02-30", "1800-01-01", "2999-01-01"],
    fields.BooleanField: ["y"],
    fields.SelectMultipleField: ["not-a-choice"],
    fields.SelectField: ["not-a-choice"],  # RadioField is one
    fields.StringField: [TOO_LONG, "not an email", "\u202e<b>{{ 7*7 }}</b>"],  # Text, Email, ...
}
#: what the test does not fill: files, buttons and the token are not typed into
SKIPPED = (fields.FileField, fields.MultipleFileField, fields.SubmitField, fields.FormField,
           fields.FieldList)


def portal_forms() -> list[type]:
    """Every wtforms.Form subclass defined in course_portal (FlaskForm ones among them)."""
    for module in pkgutil.walk_packages(course_portal.__path__, "course_portal."):
        importlib.import_module(module.name)
    found, todo = [], list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("course_portal.") and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


FORMS = portal_forms()


@cache
def catalog(language: str):
    """(exact messages, patterns of messages with placeholders) the locale's readers may see."""
    path = TEMPLATE if language == "en" else po_path(language)
    with path.open("rb") as f:
        messages = read_po(f)
    texts: set[str] = set()
    for message in messages:
        if not message.id:
            continue
        if language == "en":
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            texts.update(ids)
        else:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts.update(s for s in strings if s)
    exact = {text for text in texts if not PLACEHOLDER.search(text)}
    # a message of placeholders and punctuation ("%(done)s.") would match any sentence
    patterns = [pattern(text) for text in texts if PLACEHOLDER.search(text)
                and len(re.findall(r"\w", PLACEHOLDER.sub("", text))) >= 3]
    return exact, patterns


def pattern(text: str) -> re.Pattern:
    """The message with its placeholders as what may fill them: digits for %d, any text else."""
    parts, position = [], 0
    for found in PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[position:found.start()]))
        parts.append(r"-?[\d,. \u00a0]+" if found.group().endswith("d") else "(?s:.+?)")
        position = found.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts))


def in_catalog(message: str, language: str) -> bool:
    exact, patterns = catalog(language)
    return message in exact or any(p.fullmatch(message) for p in patterns)


def fillings(form) -> list[MultiDict]:
    """The form empty, then once per row of BAD with each field's bad value of that row."""
    rows: list[MultiDict] = [MultiDict()]
    for index in range(3):
        data = MultiDict()
        for field in form:
            if isinstance(field, SKIPPED) or field.type == "CSRFTokenField":
                continue
            for kind, values in BAD.items():
                if isinstance(field, kind):
                    data[field.name] = values[min(index, len(values) - 1)]
                    break
        rows.append(data)
    return rows


def messages_of(errors) -> list[str]:
    """Every message in form.errors, however nested (FormField, FieldList)."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in messages_of(value)]
    if isinstance(errors, list | tuple):
        return [m for value in errors for m in messages_of(value)]
    return [str(errors)]


def build(form_class, formdata=None):
    if issubclass(form_class, course_portal_flask_form()):
        return form_class(formdata=formdata, meta={"csrf": False})
    return form_class(formdata=formdata)


def course_portal_flask_form():
    from flask_wtf import FlaskForm

    return FlaskForm


def test_the_walk_finds_the_portals_forms():
    names = {cls.__name__ for cls in FORMS}
    assert {"RegistrationForm", "IntakeForm", "AddLiaisonForm", "QueueFilterForm",
            "ModuleRowForm", "BulkEmailForm"} <= names
    assert len(FORMS) >= 40


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: cls.__name__)
def test_every_message_of_every_form_is_the_portals(app, db, form_class, language):
    strangers = []
    with app.test_request_context(), force_locale(language):
        for formdata in fillings(build(form_class)):
            form = build(form_class, formdata)
            form.validate()
            for name, errors in form.errors.items():
                for message in messages_of(errors):
                    if not in_catalog(message, language):
                        strangers.append(f"{name}={formdata.get(name, '')[:20]!r}: {message!r}")
    assert not strangers, (f"{form_class.__module__}.{form_class.__name__} in {language} "
                           "gives messages that are not the portal's:\n" + "\n".join(strangers))


@pytest.mark.parametrize("language", ["zh", "ru"])
def test_a_required_field_says_it_in_the_glossarys_words(app, language):
    from course_portal.accounts.forms import LoginForm

    expected = {"zh": "此项为必填项。", "ru": "Это поле обязательно."}[language]
    with app.test_request_context(), force_locale(language):
        form = LoginForm(formdata=MultiDict({"email": "", "password": ""}), meta={"csrf": False})
        form.validate()
        assert [str(e) for e in form.email.errors + form.password.errors] == [expected] * 2
