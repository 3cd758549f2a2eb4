"""A teacher's name as each language's reader expects it: 欧阳娜娜, OUYANG Nana, Оуян Нана."""

from __future__ import annotations

from typing import Protocol

from markupsafe import Markup, escape

from course_portal.core.i18n import current_language

#: the lang attribute of each part of a name, so that browsers pick Chinese glyphs for 汉字
_PART_LANG = {"zh": "zh-Hans", "latin": "en", "ru": "ru"}


class NamedPerson(Protocol):
    """What a name is made from: TeacherProfile has these (name_zh, name_latin as properties)."""

    @property
    def name_zh(self) -> str: ...

    @property
    def name_latin(self) -> str: ...

    @property
    def name_ru(self) -> str: ...


def _latin(profile: NamedPerson) -> str:
    # name_latin is "FAMILY Given"; with one half missing it would keep a stray space
    return " ".join(profile.name_latin.split())


def name_parts(profile: NamedPerson | None, language: str) -> list[tuple[str, str]]:
    """The name's forms for a reader of `language`, the one they read first first.

    Each part is (script, text) with script zh, latin or ru. Chinese pages: the name in Chinese
    characters, family name first without a space, then the passport form. English pages: the
    passport form (OUYANG Nana), then the Chinese. Russian pages: the Russian spelling when the
    teacher gave one, else the passport form, then the Chinese. Forms that are empty are left out.
    """
    if profile is None:
        return []
    chinese = ("zh", (profile.name_zh or "").strip())
    latin = ("latin", _latin(profile))
    if language == "zh":
        parts = [chinese, latin]
    elif language == "ru" and (profile.name_ru or "").strip():
        parts = [("ru", profile.name_ru.strip()), chinese]
    else:
        parts = [latin, chinese]
    return [part for part in parts if part[1]]


def display_name(profile: NamedPerson | None, language: str, both: bool = True) -> str:
    """欧阳娜娜（OUYANG Nana）, OUYANG Nana (欧阳娜娜), Оуян Нана (欧阳娜娜): the name as plain text.

    With both=False only the form the reader reads first: where the other one is already on the
    page, or space is short.
    """
    parts = name_parts(profile, language)
    if not parts:
        return ""
    first = parts[0][1]
    if not both or len(parts) == 1:
        return first
    # Chinese text takes full-width brackets, with no space before them
    if language == "zh":
        return f"{first}（{parts[1][1]}）"
    return f"{first} ({parts[1][1]})"


def person_name(profile: NamedPerson | None, both: bool = True) -> Markup:
    """The Jinja filter `person_name`: display_name in the page's language, each part in its lang.

    Each form is a span of class name-zh, name-latin or name-ru; the second also has name-other.

    {{ profile | person_name }} on the coordinators' pages, where both forms are needed;
    {{ profile | person_name(both=False) }} where the other form is shown beside it.
    """
    language = current_language()
    parts = name_parts(profile, language)
    if not parts:
        return Markup("")

    # plain concatenation of escaped parts: Markup.format goes through string.Formatter,
    # which made names a tenth of a long roster's or queue's time
    first = _span(parts[0])
    if not both or len(parts) == 1:
        return Markup(first)  # noqa: S704 (_span escapes the text)
    second = _span(parts[1], other=True)
    if language == "zh":
        return Markup(f"{first}（{second}）")  # noqa: S704 (_span escapes the texts)
    return Markup(f"{first} ({second})")  # noqa: S704 (_span escapes the texts)


def _span(part: tuple[str, str], other: bool = False) -> str:
    """One form of a name as a span with its script's class and lang (the text escaped)."""
    script, text = part
    css = f"name-{script} name-other" if other else f"name-{script}"
    return f'<span class="{css}" lang="{_PART_LANG[script]}">{escape(text)}</span>'


def greeting_name(user, language: str) -> str:
    """The name an email greets a user by: 汉字 in Chinese, the Russian spelling in Russian."""
    profile = user.profile
    if profile is None:
        return user.name
    if language == "zh" and profile.name_zh:
        return profile.name_zh
    if language == "ru" and profile.name_ru:
        return profile.name_ru
    return profile.name_latin
