"""The Chinese and Russian catalogs: complete, current with the source, compiled, used by pages.

A new message in the code or a template fails test_every_message_of_the_source_is_in_the_catalogs
with its msgid named: run `make translations`, translate the new entries in
translations/zh/LC_MESSAGES/messages.po and translations/ru/LC_MESSAGES/messages.po (terms:
docs/glossary.md), and the suite passes again.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import render_template
from flask_babel import force_locale, ngettext

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("zh", "ru")

#: %(name)s, %(num)d, ... : the placeholders Flask-Babel fills (it only ever passes names)
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def mo_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"


def read_catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def compile_if_stale() -> None:
    """Compile each .po whose .mo is missing or older, as `make test` does first.

    The .mo files are not in git. Called when pytest imports this module, which it does while
    collecting, before any test runs: so `pytest` without make still serves every test of the
    session translated pages (Flask-Babel caches a loaded catalog for the whole process, so
    compiling later, in a fixture, would come too late for tests that ran before).
    The file is replaced atomically, so two runs at once cannot read a half-written catalog.
    """
    for locale in LOCALES:
        po, mo = po_path(locale), mo_path(locale)
        if not po.exists() or (mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        catalog = read_catalog(po)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog)
            os.replace(tmp, mo)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


compile_if_stale()


def babel_keywords() -> list[str]:
    """The extraction keywords of the Makefile (BABEL_KEYWORDS), so both extract alike."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile no longer defines BABEL_KEYWORDS"
    return shlex.split(found.group(1))


def extract(output: Path) -> None:
    """Extract the source's messages exactly as `make translations` does."""
    status = CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), *babel_keywords(),
         "--sort-by-file", "-o", str(output), str(ROOT)]
    )
    assert not status, "pybabel extract failed"


def entries(catalog) -> dict:
    """msgid: msgstr of the catalog's wholly translated entries; plurals as tuples.

    (The others are left out: write_mo skips them, or fills an empty plural form with English.)
    """
    def key(value):
        return value if isinstance(value, str) else tuple(value)

    return {
        key(m.id): key(m.string)
        for m in catalog
        if m.id and not m.fuzzy and all(key(m.string) if m.pluralizable else [m.string])
    }


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems_of(message, num_plurals: int) -> list[str]:
    """What is wrong with one catalog entry, in words; empty when it is fine."""
    ids = list(message.id) if message.pluralizable else [message.id]
    strings = list(message.string) if message.pluralizable else [message.string]
    wanted = set().union(*(placeholders(i) for i in ids))
    problems = []
    if message.fuzzy:
        problems.append("fuzzy (check the translation, then remove the fuzzy flag)")
    if message.pluralizable and len(strings) != num_plurals:
        problems.append(f"{len(strings)} plural forms instead of {num_plurals}")
    if not all(s.strip() for s in strings):
        problems.append("untranslated" if not any(strings) else "a plural form is empty")
    for s in strings:
        if s and placeholders(s) != wanted:
            problems.append(f"placeholders {sorted(placeholders(s))}, not {sorted(wanted)}")
    return problems


# --- the catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_with_its_placeholders(locale):
    catalog = read_catalog(po_path(locale))
    assert len(catalog) > 100, "the catalog is nearly empty"
    bad = []
    for message in catalog:
        if not message.id:
            continue  # the header
        for problem in problems_of(message, catalog.num_plurals):
            bad.append(f"  {message.id!r}: {problem}")
    assert not bad, f"{po_path(locale).relative_to(ROOT)}:\n" + "\n".join(bad)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_says_its_own_language_and_plural_rule(locale):
    catalog = read_catalog(po_path(locale))
    assert str(catalog.locale) == locale
    assert catalog.num_plurals == {"zh": 1, "ru": 3}[locale]
    assert not catalog.fuzzy, "the whole catalog is marked fuzzy: pybabel compile would skip it"


def test_every_message_of_the_source_is_in_the_catalogs(tmp_path):
    fresh_path = tmp_path / "fresh.pot"
    extract(fresh_path)
    fresh = read_catalog(fresh_path)
    fresh_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in fresh if m.id}
    assert len(fresh_ids) > 100, "the extraction found almost nothing: is babel.cfg intact?"

    missing = []
    for locale in LOCALES:
        catalog = read_catalog(po_path(locale))
        for message in fresh:
            if message.id and catalog.get(message.id) is None:
                missing.append(f"  {locale}: {message.id!r}")
    assert not missing, (
        "messages of the source that the catalogs lack: run `make translations`, then translate "
        "them in translations/<locale>/LC_MESSAGES/messages.po\n" + "\n".join(missing)
    )

    template = read_catalog(TEMPLATE)
    template_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert template_ids == fresh_ids, (
        "translations/messages.pot is out of date: run `make translations`\n"
        f"  new in the source: {sorted(fresh_ids - template_ids)}\n"
        f"  gone from the source: {sorted(template_ids - fresh_ids)}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po(locale):
    compiled = mo_path(locale)
    assert compiled.exists(), f"{compiled} is missing: run `make test` (it compiles the catalogs)"
    with compiled.open("rb") as f:
        loaded = entries(read_mo(f))
    source = entries(read_catalog(po_path(locale)))
    stale = sorted(str(k) for k in source if loaded.get(k) != source[k])
    assert not stale, (
        f"{compiled.relative_to(ROOT)} is out of date with its .po: run `make test`, or delete it and "
        f"run pytest again; differing: {stale[:5]}"
    )


# --- the pages and emails -------------------------------------------------------------------

#: per page, a translation it must show in each language
EXPECTED = {
    "zh": {"/": "教师进修项目", "/login": "忘记密码？", "/register": "教师注册"},
    "ru": {"/": "Программы повышения квалификации", "/login": "Забыли пароль?",
           "/register": "Регистрация преподавателя"},
}
#: distinctive English of these pages that a translated page must not show
ENGLISH = [
    "Sign in",
    "Programs of advanced training at Polytechnic University",
    "Academic hours",
    "About the program",
    "Forgot your password?",
    "Register as a teacher",
    "Family name in Chinese characters",
    "Peter the Great St. Petersburg Polytechnic University",
]


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def english_left(page: str, catalog) -> list[str]:
    """Catalog messages whose English shows on the page though they have a different translation.

    Only messages with a space, so that single words (a program named "Module 1") do not count;
    with placeholders, each literal piece of two words or more is looked for.
    """
    left = []
    for message in catalog:
        if not message.id:
            continue
        ids = list(message.id) if message.pluralizable else [message.id]
        strings = list(message.string) if message.pluralizable else [message.string]
        for msgid in ids:
            if msgid in strings:
                continue  # the same in both languages, e.g. "WeChat ID" in Russian
            for piece in PLACEHOLDER.split(msgid):
                piece = piece.strip(" ,.:;")
                if " " in piece and len(piece) >= 7 and piece in page:
                    left.append(piece)
    return left


@pytest.fixture
def catalog_with_a_program(db):
    program = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                     title_zh="投资生态系统", title_ru="Инвестиционная экосистема")
    factories.make_intake(program)
    db.session.commit()
    return program


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("path", ["/", "/login", "/register"])
def test_pages_are_translated(client, catalog_with_a_program, locale, path):
    page = page_text(client.get(path, headers={"Accept-Language": locale}))
    catalog = read_catalog(po_path(locale))

    assert EXPECTED[locale][path] in page
    assert {"zh": "登录", "ru": "Войти"}[locale] in page  # Sign in, in the header
    assert [english for english in ENGLISH if english in page] == []
    assert english_left(page, catalog) == []


def test_english_pages_keep_the_english(client, catalog_with_a_program):
    page = page_text(client.get("/", headers={"Accept-Language": "en"}))
    assert "Programs of advanced training at Polytechnic University" in page
    assert "教师进修项目" not in page


def test_error_page_is_translated(client, db):
    page = client.get("/programs/NOPE", headers={"Accept-Language": "zh"})
    assert page.status_code == 404
    assert "页面未找到" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "count, expected",
    [(1, "1 месяц"), (3, "3 месяца"), (5, "5 месяцев"), (11, "11 месяцев"), (21, "21 месяц"),
     (22, "22 месяца")],
)
def test_russian_plurals_take_all_three_forms(app, count, expected):
    with force_locale("ru"):
        assert ngettext("%(num)d month", "%(num)d months", count) == expected


@pytest.mark.parametrize(
    "locale, hours, expected",
    [
        ("zh", 24, "该链接仅可使用一次，24小时内有效。"),
        ("ru", 1, "действует 1 час."),
        ("ru", 24, "действует 24 часа."),
        ("ru", 48, "действует 48 часов."),
    ],
)
def test_emails_are_translated_with_plurals(app, locale, hours, expected):
    with force_locale(locale):
        body = render_template("email/account_confirm.txt", user=SimpleNamespace(name="王芳"),
                               link="http://portal.test/confirm/x", hours=hours)
    assert expected in body
    assert {"zh": "王芳，您好！", "ru": "Здравствуйте, 王芳!"}[locale] in body
    assert "The link works once" not in body
