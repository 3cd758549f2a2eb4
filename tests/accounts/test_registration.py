"""Registration and email confirmation, as a teacher and as an attacker see them."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from course_portal.accounts.models import AcademicTitle, AccountToken, User
from course_portal.db import utcnow
from tests import factories
from tests.accounts.helpers import (
    NEW_PASSWORD,
    link_in,
    outbox,
    path_of,
    registration,
    text,
    without_tokens,
)


def count_users(db) -> int:
    """How many accounts exist."""
    return db.session.scalar(select(func.count()).select_from(User))


def test_registration_page_offers_universities_in_the_readers_language(client, db):
    factories.make_partner(name_en="Datong University", name_zh="山西大同大学")
    factories.make_partner(name_en="Tianshui Normal University", name_zh="天水师范学院")
    db.session.commit()

    english = text(client.get("/register", headers={"Accept-Language": "en"}))
    chinese = text(client.get("/register", headers={"Accept-Language": "zh-CN"}))

    assert english.index("Datong University") < english.index("Tianshui Normal University")
    assert "山西大同大学" in chinese and "天水师范学院" in chinese
    assert "Family name in Chinese characters (姓)" in english
    assert '<option selected value="zh">' in chinese  # the page's language is the default


def test_teacher_registers_with_whole_profile_stored_nfc(client, db):
    partner = factories.make_partner(name_en="Shandong University of Railway Transport")
    db.session.commit()
    decomposed_latin = unicodedata.normalize("NFD", "Lǘ")  # ü with a combining accent
    data = registration(
        given_name_latin=decomposed_latin,
        partner_university_id=str(partner.id),
        department="  Institute of Foreign Languages  ",
    )

    response = client.post("/register", data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == "/register/sent"
    assert "Check your email to finish registration" in text(client.get("/register/sent"))
    user = db.session.scalar(select(User).where(User.email == "ouyang.nana@example.edu.cn"))
    assert user.email_confirmed_at is None
    assert user.locale == "zh"
    profile = user.profile
    assert profile.name_zh == "欧阳娜娜"
    assert profile.given_name_latin == unicodedata.normalize("NFC", "Lǘ") == "Lǘ"
    assert profile.name_ru == "Оуян Нана"
    assert profile.born_on.isoformat() == "1985-03-14"
    assert profile.partner_university_id == partner.id
    assert profile.department == "Institute of Foreign Languages"
    assert profile.academic_title == AcademicTitle.ASSOCIATE_PROFESSOR
    assert profile.wechat_id == "nana_ouyang"
    assert user.password_hash != NEW_PASSWORD
    [message] = outbox("account.confirm")
    assert message.to_address == "ouyang.nana@example.edu.cn"
    assert "/confirm/" in message.body_text


def test_email_is_stored_lower_case_and_duplicates_differ_only_in_case(client, db):
    client.post("/register", data=registration(email="Ouyang.Nana@Example.EDU.cn"))
    client.post("/register", data=registration(email="OUYANG.NANA@example.edu.cn"))

    assert count_users(db) == 1
    assert db.session.scalar(select(User.email)) == "ouyang.nana@example.edu.cn"
    assert len(outbox("account.exists")) == 1


def test_confirmation_link_confirms_and_signs_in(client, db, app):
    client.post("/register", data=registration())
    link = link_in(outbox("account.confirm")[0], "/confirm/")

    assert link.startswith("http://portal.test/confirm/")  # from BASE_URL
    response = client.get(path_of(link))

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    profile_page = client.get("/profile")
    assert profile_page.status_code == 200
    assert "欧阳娜娜" in text(profile_page)
    user = db.session.scalar(select(User))
    assert user.email_confirmed_at is not None
    token = path_of(link).rsplit("/", 1)[1]
    stored = db.session.scalar(select(AccountToken))
    assert stored.token_hash != token and len(stored.token_hash) == 64  # only the hash is kept


def test_confirmation_link_works_once(client, db):
    client.post("/register", data=registration(locale="en"))
    path = path_of(link_in(outbox("account.confirm")[0], "/confirm/"))
    client.get(path)

    again = client.get(path)

    assert again.status_code == 410
    assert "This link has already been used." in text(again)


def test_expired_and_unknown_confirmation_links_explain_themselves(client, db):
    client.post("/register", data=registration())
    path = path_of(link_in(outbox("account.confirm")[0], "/confirm/"))
    token = db.session.scalar(select(AccountToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    expired = client.get(path)
    unknown = client.get("/confirm/not-a-token-we-ever-sent")
    absurd = client.get("/confirm/" + "x" * 5000)

    assert expired.status_code == 410
    assert "This link has expired." in text(expired)
    assert "we will send you a new confirmation link" in text(expired)
    assert unknown.status_code == 404 and "This link is not valid" in text(unknown)
    assert absurd.status_code == 404
    assert db.session.scalar(select(User)).email_confirmed_at is None


def test_existing_email_gets_the_same_page_and_a_different_email(client, db):
    factories.make_user(email="wang.fang@example.edu.cn", locale="ru")
    db.session.commit()

    new = client.post("/register", data=registration(email="li.na@example.edu.cn"), follow_redirects=True)
    existing = client.post("/register", data=registration(email="wang.fang@example.edu.cn"),
                           follow_redirects=True)

    assert new.status_code == existing.status_code == 200
    assert [r.headers.get("Location") for r in new.history] == [
        r.headers.get("Location") for r in existing.history
    ]
    assert without_tokens(text(new)) == without_tokens(text(existing))
    assert count_users(db) == 2
    [warning] = outbox("account.exists")
    assert warning.to_address == "wang.fang@example.edu.cn"
    assert "/password/reset" in warning.body_text and "/login" in warning.body_text
    assert "/confirm/" not in warning.body_text
    assert outbox("account.confirm", to="wang.fang@example.edu.cn") == []
    assert warning.subject != outbox("account.confirm")[0].subject


def test_registering_again_does_not_change_the_existing_account(client, db):
    user = factories.make_user(email="wang.fang@example.edu.cn")
    db.session.commit()
    old_hash = user.password_hash

    client.post("/register", data=registration(email="wang.fang@example.edu.cn", family_name_zh="李"))

    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert user.profile.family_name_zh == "王"


def test_a_lost_race_for_the_same_address_answers_as_for_an_existing_one(client, db, monkeypatch):
    from course_portal.accounts import services

    factories.make_user(email="ouyang.nana@example.edu.cn")
    db.session.commit()
    real = services.user_by_email
    calls = []

    def not_yet_there(email):  # the other request inserts between our check and our insert
        calls.append(email)
        return None if len(calls) == 1 else real(email)

    monkeypatch.setattr(services, "user_by_email", not_yet_there)

    response = client.post("/register", data=registration())

    assert response.headers["Location"] == "/register/sent"
    assert count_users(db) == 1
    assert [m.kind for m in outbox()] == ["account.exists"]


def test_signed_in_user_is_sent_to_profile(client, login_as):
    login_as("teacher")
    assert client.get("/register").headers["Location"] == "/profile"


def test_mismatched_and_short_passwords_are_refused_with_entries_kept(client, db):
    response = client.post(
        "/register",
        data=registration(password="short", password_confirm="other"),
    )
    page = text(response)

    assert response.status_code == 200
    assert "The password needs at least 12 characters." in page
    assert "The two passwords differ." in page
    assert 'value="欧阳"' in page
    assert count_users(db) == 0


def test_password_length_counts_characters_of_any_script(client, db):
    twelve_chinese = "我们一起去长城看看风景吧"
    assert len(twelve_chinese) == 12

    response = client.post(
        "/register", data=registration(password=twelve_chinese, password_confirm=twelve_chinese)
    )

    assert response.status_code == 302
    assert count_users(db) == 1


# --- hostile input ----------------------------------------------------------------------

HOSTILE = {
    "nul": "Na\x00na",
    "long": "娜" * 10_000,
    "script": "<script>alert(1)</script>",
    "template": "{{ 7*7 }}",
    "bidi": "Nana\u202egnp.exe",
    "zero_width": "Na\u200bna",
}

#: fields where markup and template syntax are ordinary text, shown escaped
FREE_TEXT = {"department", "position"}
TEXT_FIELDS = [
    "email", "family_name_zh", "given_name_zh", "family_name_latin", "given_name_latin",
    "name_ru", "born_on", "partner_university_id", "department", "position", "academic_title",
    "phone", "wechat_id", "locale",
]


def _accepted(field: str, kind: str) -> bool:
    return field in FREE_TEXT and kind in ("script", "template")


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_hostile_registration_input_gets_a_message_and_is_kept(client, db, field, kind):
    value = HOSTILE[kind]

    response = client.post("/register", data=registration(**{field: value}))

    assert response.status_code in (200, 302), response.status_code
    if _accepted(field, kind):
        assert response.status_code == 302
        user = db.session.scalar(select(User))
        assert getattr(user.profile, field) == value
        client.get(path_of(link_in(outbox("account.confirm")[0], "/confirm/")))
        profile_page = text(client.get("/profile"))
        assert str(escape(value)) in profile_page  # shown as the text it is
        assert "<script>alert" not in profile_page and ">49<" not in profile_page
        return
    page = text(response)
    assert response.status_code == 200
    assert "Some fields need attention" in page
    assert 'class="error"' in page
    assert count_users(db) == 0
    if field not in ("partner_university_id", "academic_title", "locale"):
        kept = str(escape(value.lower() if field == "email" else value))
        assert kept in page, "what was typed is shown again"
    assert 'value="49"' not in page and ">49<" not in page  # template syntax is never run


@pytest.mark.parametrize("kind", ["nul", "long"])
@pytest.mark.parametrize("field", ["password", "password_confirm"])
def test_hostile_passwords_are_refused_without_a_crash(client, db, field, kind):
    value = NEW_PASSWORD + HOSTILE[kind]
    response = client.post("/register", data=registration(**{field: value}))
    assert response.status_code == 200
    assert "Some fields need attention" in text(response)
    assert count_users(db) == 0


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("family_name_zh", "Ouyang", "Write this in Chinese characters"),
        ("family_name_latin", "欧阳", "Write this in Latin letters as in your passport"),
        ("family_name_latin", "{{ 7*7 }}", "A name cannot contain the characters"),
        ("given_name_zh", "娜\u202e娜", "A name cannot contain the direction control"),
        ("given_name_latin", "Na\u200bna", "invisible character U+200B"),
        ("email", "not an address", "This is not a valid email address."),
        ("born_on", "2999-01-01", "Check the date of birth."),
        ("born_on", "14.03.1985", "Give a date."),
        ("phone", "call me", "Write the phone number with digits"),
        ("partner_university_id", "999999", "Not a valid choice"),
        ("family_name_zh", "", "This field is required."),
    ],
)
def test_each_rule_explains_itself(client, db, field, value, message):
    page = text(client.post("/register", data=registration(**{field: value})))
    assert message in page
    assert count_users(db) == 0


def test_a_compatibility_ideograph_is_stored_as_the_unified_one(client, db):
    client.post("/register", data=registration(given_name_zh="\uf900"))  # 豈 compatibility form
    profile = db.session.scalar(select(User)).profile
    assert profile.given_name_zh == unicodedata.normalize("NFC", "\uf900") == "\u8c48"


# --- CSRF -------------------------------------------------------------------------------


def test_registration_with_a_bad_csrf_token_keeps_what_was_typed(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.get("/register")  # a session with a CSRF token, as a browser has

    response = client.post("/register", data=registration(csrf_token="expired-or-forged"))
    page = text(response)

    assert response.status_code == 200
    assert "This form had expired. Your entries are kept" in page
    assert 'value="欧阳"' in page and 'value="ouyang.nana@example.edu.cn"' in page
    assert 'name="csrf_token" type="hidden" value="' in page  # a fresh token to send again
    with app.app_context():
        assert count_users(db) == 0


def test_csrf_is_required_on_every_form_and_on_logout(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()

    assert "This form had expired" in text(client.post("/register", data=registration()))
    assert "This form had expired" in text(
        client.post("/login", data={"email": "a@example.com", "password": "x"})
    )
    assert "This form had expired" in text(
        client.post("/password/reset", data={"email": "a@example.com"})
    )
    assert client.post("/logout").status_code == 400
    assert client.post("/language", data={"language": "zh"}).status_code == 400
    with app.app_context():
        assert count_users(db) == 0
        assert outbox() == []


def test_registration_with_a_valid_csrf_token_goes_through(make_app, db):
    import re

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = text(client.get("/register"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post("/register", data=registration(csrf_token=token))

    assert response.status_code == 302
    with app.app_context():
        assert count_users(db) == 1
