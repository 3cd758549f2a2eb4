"""The profile page, editing it, and the language switch."""

from __future__ import annotations

from sqlalchemy import select

from course_portal.accounts.models import AcademicTitle, User
from tests import factories
from tests.accounts.helpers import registration, text

PROFILE_FIELDS = [
    "family_name_zh", "given_name_zh", "family_name_latin", "given_name_latin", "name_ru",
    "born_on", "partner_university_id", "department", "position", "academic_title", "phone",
    "wechat_id", "locale",
]


def profile_form(**overrides) -> dict:
    """The profile-edit form filled in like the registration form."""
    return {k: v for k, v in registration(**overrides).items() if k in PROFILE_FIELDS}


def test_profile_needs_sign_in(client, db):
    assert client.get("/profile").headers["Location"] == "/login?next=%2Fprofile"
    assert client.get("/profile/edit").status_code == 302


def test_teacher_sees_their_profile(client, db, login_as):
    partner = factories.make_partner(name_en="Datong University", name_zh="山西大同大学")
    login_as("teacher", family_name_zh="欧阳", given_name_zh="娜娜", family_name_latin="Ouyang",
             given_name_latin="Nana", partner_university_id=partner.id, wechat_id="nana_ouyang")

    page = text(client.get("/profile", headers={"Accept-Language": "zh"}))

    assert "欧阳娜娜" in page
    assert "OUYANG Nana" in page
    assert "nana_ouyang" in page


def test_teacher_edits_the_profile(client, db, login_as):
    partner = factories.make_partner(name_en="China University of Petroleum")
    user = login_as("teacher", academic_title=AcademicTitle.LECTURER, partner_university_id=partner.id)
    form = text(client.get("/profile/edit"))
    assert 'value="王"' in form and 'value="Xiaoming"' in form  # the saved values are filled in
    assert '<option selected value="lecturer">' in form
    assert f'<option selected value="{partner.id}">' in form

    response = client.post("/profile/edit", data=profile_form(
        partner_university_id=str(partner.id), academic_title="professor", locale="ru",
    ))

    assert response.headers["Location"] == "/profile"
    db.session.refresh(user)
    assert user.profile.name_zh == "欧阳娜娜"
    assert user.profile.partner_university_id == partner.id
    assert user.profile.academic_title == AcademicTitle.PROFESSOR
    assert user.locale == "ru"
    assert '<html lang="ru">' in text(client.get("/profile"))


def test_profile_edit_refuses_hostile_names_and_keeps_them(client, db, login_as):
    user = login_as("teacher")
    page = text(client.post("/profile/edit", data=profile_form(family_name_latin="{{ 7*7 }}")))
    assert "A name cannot contain the characters" in page
    assert 'value="{{ 7*7 }}"' in page
    db.session.refresh(user)
    assert user.profile.family_name_latin == "Wang"


def test_teacher_without_a_profile_can_fill_it_in(client, db, login_as):
    user = login_as("teacher", profile=False)
    assert "Your profile is not filled in yet" in text(client.get("/profile"))

    client.post("/profile/edit", data=profile_form())

    db.session.refresh(user)
    assert user.profile.name_zh == "欧阳娜娜"


def test_staff_edit_their_display_name_and_language(client, db, login_as):
    user = login_as("coordinator")
    form = text(client.get("/profile/edit"))
    assert "family_name_zh" not in form

    client.post("/profile/edit", data={"display_name": "Irina Petrova", "locale": "ru",
                                       "family_name_zh": "黑"})

    db.session.refresh(user)
    assert user.display_name == "Irina Petrova"
    assert user.locale == "ru"
    assert user.profile is None


def test_language_switch_for_a_visitor_is_kept_in_the_session(client, db):
    response = client.post("/language", data={"language": "zh", "next": "/register"})

    assert response.headers["Location"] == "/register"
    assert '<html lang="zh-Hans">' in text(client.get("/"))


def test_language_switch_saves_the_users_choice(client, db, login_as):
    user = login_as("teacher")
    client.post("/language", data={"language": "ru", "next": "/profile"})
    db.session.refresh(user)
    assert user.locale == "ru"


def test_language_switch_ignores_unknown_languages_and_foreign_next(client, db):
    response = client.post("/language", data={"language": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "locale" not in session


def test_emails_go_out_in_the_teachers_language(client, db):
    client.post("/register", data=registration(locale="ru"))
    user = db.session.scalar(select(User))
    assert user.locale == "ru"
