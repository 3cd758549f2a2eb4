"""What the certificate and the federal register need of a teacher: typed at registration and on
the profile, checked there, and asked for on the profile page until it is complete."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from course_portal.accounts.forms import normalize_snils, snils_checksum_ok
from course_portal.accounts.models import EducationLevel, Sex, User
from tests.accounts.helpers import registration, text

SNILS_MESSAGE = "Check the SNILS: it has 11 digits, written as 123-456-789 01."
EMAIL = "ouyang.nana@example.edu.cn"

PROFILE_FIELDS = [
    "family_name_zh", "given_name_zh", "family_name_latin", "given_name_latin", "name_ru",
    "born_on", "partner_university_id", "department", "position", "academic_title", "phone",
    "wechat_id", "locale", "sex", "citizenship", "education_level", "snils",
]


def valid_snils(body: str = "123456789") -> str:
    """The SNILS of these nine digits with the control number that makes it valid."""
    [control] = [f"{n:02d}" for n in range(100) if snils_checksum_ok(body + f"{n:02d}")]
    return f"{body[:3]}-{body[3:6]}-{body[6:]} {control}"


def test_the_example_snils_and_its_spellings_are_valid():
    assert snils_checksum_ok("11223344595")
    assert not snils_checksum_ok("11223344596")
    assert valid_snils("112233445") == "112-233-445 95"
    assert valid_snils() == "123-456-789 64"
    for spelling in ("112-233-445 95", "112 233 445 95", "11223344595", "112-233-445-95"):
        assert normalize_snils(spelling) == "112-233-445 95"


def new_teacher(db) -> User | None:
    return db.session.scalar(select(User).where(User.email == EMAIL))


def filled(**overrides) -> dict:
    """The registration form with what the federal register needs filled in too."""
    values = {"sex": "female", "citizenship": "KZ", "education_level": "secondary_vocational",
              "snils": "112 233 445 95"}
    values.update(overrides)
    return registration(**values)


def profile_form(**overrides) -> dict:
    """The profile-edit form as the browser sends it."""
    return {k: v for k, v in filled(**overrides).items() if k in PROFILE_FIELDS}


def count_users(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def options_of(page: str, name: str) -> list[tuple[str, str, bool]]:
    """A select's options as (value, label, selected), in the page's order."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, html.unescape(label), "selected" in attrs)
            for attrs, value, label in re.findall(
                r'<option([^>]*?)value="([^"]*)"[^>]*>([^<]*)</option>', select_html)]


# --- registration ---------------------------------------------------------------------------------


def test_registration_stores_what_the_register_needs(client, db):
    response = client.post("/register", data=filled())

    assert response.status_code == 302
    assert response.headers["Location"] == "/register/sent"
    profile = new_teacher(db).profile
    assert profile.sex == Sex.FEMALE
    assert profile.citizenship == "KZ"
    assert profile.education_level == EducationLevel.SECONDARY_VOCATIONAL
    assert profile.snils == "112-233-445 95"  # as the register writes it
    assert profile.born_on.isoformat() == "1985-03-14"
    assert profile.name_ru == "Оуян Нана"


def test_registration_without_a_snils_stores_an_empty_one(client, db):
    client.post("/register", data=filled(snils="", citizenship="CN", education_level="higher",
                                         sex="male"))
    profile = new_teacher(db).profile
    assert profile.snils == ""
    assert (profile.sex, profile.citizenship, profile.education_level) == (
        Sex.MALE, "CN", EducationLevel.HIGHER)


@pytest.mark.parametrize("snils", [
    "112-233-445 96",    # wrong control number
    "abc-def-ghi 12",    # letters
    "112-233-445 9x",
    "1" * 10_000,        # absurdly long
    "112-233-445 95 1",  # a digit too many
])
def test_registration_refuses_a_bad_snils_keeping_what_was_typed(client, db, snils):
    response = client.post("/register", data=filled(snils=snils))

    assert response.status_code == 200
    page = text(response)
    assert SNILS_MESSAGE in page
    assert count_users(db) == 0
    # the other fields keep their values
    assert 'value="Ouyang"' in page and 'value="Оуян Нана"' in page
    assert 'value="nana_ouyang"' in page and 'value="1985-03-14"' in page
    assert ("female", "Female", True) in options_of(page, "sex")
    assert [o for o in options_of(page, "citizenship") if o[2]][0][0] == "KZ"
    assert [o for o in options_of(page, "education_level") if o[2]][0][0] == (
        "secondary_vocational")


def test_registration_refuses_an_unknown_citizenship(client, db):
    page = text(client.post("/register", data=filled(citizenship="XX")))
    assert "Not a valid choice" in page
    assert count_users(db) == 0
    page = text(client.post("/register", data=filled(citizenship="CHN")))
    assert "Not a valid choice" in page
    assert count_users(db) == 0


def test_registration_refuses_an_unknown_sex_or_level(client, db):
    assert "Not a valid choice" in text(client.post("/register", data=filled(sex="other")))
    assert "Not a valid choice" in text(client.post("/register",
                                                    data=filled(education_level="phd")))
    assert count_users(db) == 0


def test_registration_refuses_a_russian_name_in_latin_letters(client, db):
    page = text(client.post("/register", data=filled(name_ru="Ouyang Nana")))
    assert "Write this in Cyrillic letters, e.g. Оуян Нана; O is not one." in page
    assert 'value="Ouyang Nana"' in page
    assert count_users(db) == 0


# --- the profile ----------------------------------------------------------------------------------


def test_the_profile_edit_stores_what_the_register_needs(client, db, login_as):
    user = login_as("teacher", sex=None, citizenship="", education_level=None, snils="")

    response = client.post("/profile/edit", data=profile_form(snils=valid_snils()))

    assert response.headers["Location"] == "/profile"
    db.session.refresh(user.profile)
    assert user.profile.sex == Sex.FEMALE
    assert user.profile.citizenship == "KZ"
    assert user.profile.education_level == EducationLevel.SECONDARY_VOCATIONAL
    assert user.profile.snils == "123-456-789 64"

    form = text(client.get("/profile/edit"))
    assert 'value="123-456-789 64"' in form
    assert [value for value, _, selected in options_of(form, "sex") if selected] == ["female"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("snils", "112-233-445 96", SNILS_MESSAGE),
    ("snils", "СНИЛС 112233445", SNILS_MESSAGE),
    ("snils", "9" * 10_000, SNILS_MESSAGE),
    ("citizenship", "ZZ", "Not a valid choice"),
    ("name_ru", "Ouyang Nana", "Write this in Cyrillic letters"),
])
def test_the_profile_edit_refuses_and_keeps_the_other_fields(client, db, login_as, field, value,
                                                            message):
    user = login_as("teacher")
    response = client.post("/profile/edit", data=profile_form(**{field: value}))

    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'value="nana_ouyang"' in page and 'value="欧阳"' in page
    db.session.refresh(user.profile)
    assert user.profile.family_name_zh == "王"  # nothing was saved
    assert user.profile.snils == "" and user.profile.citizenship == "CN"


def test_the_profile_edit_suggests_the_palladius_name_when_there_is_none(client, db, login_as):
    user = login_as("teacher", name_ru="", family_name_zh="欧阳", given_name_zh="娜娜",
                    family_name_latin="Ouyang", given_name_latin="Nana")
    assert 'value="Оуян Нана"' in text(client.get("/profile/edit"))
    db.session.refresh(user.profile)
    assert user.profile.name_ru == ""  # suggested, not saved

    other = login_as("teacher", name_ru="Оуян Нана-Мария", family_name_latin="Ouyang",
                     given_name_latin="Nana")
    assert other.profile.name_ru == "Оуян Нана-Мария"
    form = text(client.get("/profile/edit"))
    assert 'value="Оуян Нана-Мария"' in form and 'value="Оуян Нана"' not in form


def test_the_profile_page_says_what_the_certificate_still_lacks(client, db, login_as):
    login_as("teacher", name_ru="", born_on=None, education_level=None,
             family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
             given_name_latin="Nana")

    page = text(client.get("/profile"))

    assert html.unescape(page).count(
        "Your certificate cannot be issued until your profile has: Name in Russian (Cyrillic), "
        "Date of birth, Level of education.") == 1
    assert 'Suggested Cyrillic spelling of your name: <span lang="ru">Оуян Нана</span>' in page


def test_a_complete_profile_page_asks_for_nothing(client, db, login_as):
    login_as("teacher", family_name_latin="Ouyang", given_name_latin="Nana",
             snils="112-233-445 95")

    page = text(client.get("/profile"))

    assert "cannot be issued until" not in page
    assert "Suggested Cyrillic spelling" not in page
    assert "Ван Сяомин" in page and "112-233-445 95" in page
    assert "China" in page and "Male" in page


# --- the citizenship list -------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "china", "kazakhstan"), [
    ("en", "China", "Kazakhstan"),
    ("zh-CN", "中国", "哈萨克斯坦"),
    ("ru", "Китай", "Казахстан"),
])
def test_the_citizenship_list_has_china_first_in_the_readers_language(client, db, language,
                                                                       china, kazakhstan):
    page = text(client.get("/register", headers={"Accept-Language": language}))

    options = options_of(page, "citizenship")
    assert options[0][0] == ""  # "choose" first
    assert options[1] == ("CN", china, True)  # China next, and chosen already
    labels = dict((value, label) for value, label, _ in options)
    assert labels["KZ"] == kazakhstan
    assert len(options) > 240 and len(labels) == len(options)  # every country, once each
    if language == "en":
        assert [label for _, label, _ in options[2:]] == sorted(
            label for _, label, _ in options[2:])


def test_the_citizenship_list_on_the_profile_follows_the_teachers_language(client, db, login_as):
    login_as("teacher", locale="ru", citizenship="KZ")
    page = text(client.get("/profile/edit"))
    options = options_of(page, "citizenship")
    assert options[1][:2] == ("CN", "Китай")
    assert ("KZ", "Казахстан", True) in options
    assert "Казахстан" in text(client.get("/profile"))
