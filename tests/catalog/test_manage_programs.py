"""Coordinators create and edit programs: titles in three languages, unique codes, hostile input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from course_portal.catalog import services
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import Institute, Program, StudyMode
from tests import factories


@pytest.fixture
def institute(db):
    institute = Institute(name_en="Institute of Industrial Management, Economics and Trade",
                          name_zh="工业管理、经济与贸易学院", name_ru="Институт промышленного менеджмента")
    db.session.add(institute)
    db.session.commit()
    return institute


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator")


def program_form(institute, **overrides) -> dict:
    data = {
        "code": "ie",
        "institute_id": str(institute.id),
        "title_en": "Investment Ecosystem",
        "title_zh": "投资生态系统",
        "title_ru": "Инвестиционная экосистема",
        "description_en": "Why investment ecosystems grow.\n\nAnd how to teach it.",
        "description_zh": "投资生态系统如何发展。",
        "description_ru": "Как растут инвестиционные экосистемы.",
        "mode": "blended",
        "duration_months": "4",
        "is_published": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_coordinator_creates_a_program_with_chinese_and_russian_titles(client, db, coordinator,
                                                                        institute):
    response = client.post("/manage/programs/new", data=program_form(institute))

    assert response.status_code == 302
    program = db.session.scalar(select(Program).where(Program.code == "IE"))
    assert response.headers["Location"] == f"/manage/programs/{program.id}/modules"
    assert program.title_zh == "投资生态系统"
    assert program.title_ru == "Инвестиционная экосистема"
    assert program.description_en == "Why investment ecosystems grow.\n\nAnd how to teach it."
    assert program.mode == StudyMode.BLENDED
    assert program.duration_months == 4
    assert program.is_published
    assert program.institute_id == institute.id

    listing = client.get("/manage/programs").get_data(as_text=True)
    assert "投资生态系统" in listing
    assert "Инвестиционная экосистема" in listing
    assert "Published" in listing

    public = client.get("/programs/ie").get_data(as_text=True)
    assert "Investment Ecosystem" in public


def test_coordinator_edits_a_program(client, db, coordinator, institute):
    program = factories.make_program(code="IS", title_en="Intellectual Systems", published=True)
    db.session.commit()

    page = client.get(f"/manage/programs/{program.id}").get_data(as_text=True)
    assert 'value="Intellectual Systems"' in page
    assert "Edit program IS" in page

    response = client.post(f"/manage/programs/{program.id}", data=program_form(
        institute, code="is-2", title_en="Intelligent Systems", title_zh="智能系统",
        title_ru="Интеллектуальные системы", is_published=None, mode="on_site"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/programs"
    db.session.expire_all()
    assert program.code == "IS-2"
    assert program.title_en == "Intelligent Systems"
    assert program.title_zh == "智能系统"
    assert not program.is_published
    assert program.mode == StudyMode.ON_SITE
    assert "Program IS-2 is saved." in client.get("/manage/programs").get_data(as_text=True)
    assert client.get("/programs/IS-2").status_code == 404  # now a draft


def test_only_the_english_title_is_required_and_the_form_says_others_fall_back(
        client, db, coordinator, institute):
    page = client.get("/manage/programs/new").get_data(as_text=True)
    assert "Readers of a language whose title is left empty see the English title." in page

    response = client.post("/manage/programs/new", data=program_form(
        institute, title_zh="", title_ru="", description_zh="", description_ru=""))

    assert response.status_code == 302
    program = db.session.scalar(select(Program).where(Program.code == "IE"))
    assert (program.title_zh, program.title_ru) == ("", "")


def test_a_duplicate_code_is_a_message_on_the_field(client, db, coordinator, institute):
    factories.make_program(code="IE")
    db.session.commit()

    response = client.post("/manage/programs/new", data=program_form(institute, code=" ie "))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another program already has the code IE." in page
    assert 'value="投资生态系统"' in page  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Program)) == 1


def test_renaming_to_a_taken_code_is_refused(client, db, coordinator, institute):
    factories.make_program(code="IE")
    other = factories.make_program(code="IS")
    db.session.commit()

    response = client.post(f"/manage/programs/{other.id}", data=program_form(institute, code="IE"))

    assert "Another program already has the code IE." in response.get_data(as_text=True)
    db.session.expire_all()
    assert other.code == "IS"


@pytest.mark.parametrize("code", ["I E", "ИЕ", "TOOLONGCODE", "-IE", "IE-", "I_E", ""])
def test_codes_are_letters_digits_and_hyphens(client, db, coordinator, institute, code):
    response = client.post("/manage/programs/new", data=program_form(institute, code=code))

    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0


HOSTILE = {
    "nul": ("Invest\x00ment", "Remove the invisible control character U+0000"),
    "long": ("长" * 10_000, "Shorten this to 300 characters; it has 10000 now."),
    "template": ("{{ 7*7 }}", "A title cannot contain &lt; &gt; { } or HTML entities."),
    "script": ("<script>alert(1)</script>", "A title cannot contain &lt; &gt; { } or HTML entities."),
    "bidi": ("Invest\u202ement", "Remove the invisible character U+202E"),
}


@pytest.mark.parametrize("field", ["title_en", "title_zh", "title_ru"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_titles_get_field_messages_and_keep_what_was_typed(
        client, db, coordinator, institute, field, kind):
    value, message = HOSTILE[kind]

    response = client.post("/manage/programs/new", data=program_form(institute, **{field: value}))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "Some fields need attention" in page
    assert 'value="49"' not in page and ">49<" not in page  # template syntax is never run
    assert "<script>alert(1)</script>" not in page
    if kind == "script":
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    elif kind == "template":
        assert 'value="{{ 7*7 }}"' in page
    elif kind == "long":
        assert "长" * 10_000 in page
    assert 'value="ie"' in page or 'value="IE"' in page
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0


@pytest.mark.parametrize(("value", "message"), [
    ("Line\x00", "Remove the invisible control character U+0000"),
    ("d" * 10_000, "Shorten this to 5000 characters; it has 10000 now."),
    ("<script>alert(1)</script>", "Write plain text"),
    ("{{ 7*7 }}", "Write plain text"),
])
def test_hostile_descriptions_get_field_messages(client, db, coordinator, institute, value,
                                                 message):
    response = client.post("/manage/programs/new",
                           data=program_form(institute, description_zh=value))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0


def test_plain_text_with_a_less_than_sign_is_a_fine_description(client, db, coordinator,
                                                               institute):
    response = client.post("/manage/programs/new", data=program_form(
        institute, description_en="Groups of < 20 teachers & their mentors."))
    assert response.status_code == 302


@pytest.mark.parametrize(("field", "value"), [
    ("duration_months", "0"), ("duration_months", "13"), ("duration_months", "three"),
    ("institute_id", ""), ("institute_id", "999999"), ("institute_id", "abc"),
    ("mode", "teleport"), ("title_en", ""),
])
def test_other_bad_input_is_refused_on_its_field(client, db, coordinator, institute, field,
                                                 value):
    response = client.post("/manage/programs/new",
                           data=program_form(institute, **{field: value}))

    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0


def test_an_expired_form_keeps_what_was_typed(make_app, institute):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        user = factories.make_user(role="coordinator")
        from course_portal.extensions import db

        db.session.commit()
        user_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True

    response = client.post("/manage/programs/new",
                           data={**program_form(institute), "csrf_token": "expired"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This form had expired" in page
    assert 'value="投资生态系统"' in page


def test_the_service_turns_a_lost_race_for_a_code_into_a_field_message(db, institute,
                                                                         monkeypatch):
    actor = factories.make_user(role="coordinator")
    factories.make_program(code="IE")
    db.session.commit()
    monkeypatch.setattr(services, "_code_taken", lambda code, program: False)
    values = {name: "" for name in services.PROGRAM_FIELDS}
    values.update(code="IE", institute_id=institute.id, title_en="Another", mode="online",
                  duration_months=3, is_published=False)

    with pytest.raises(CatalogError) as caught:
        services.save_program(None, actor=actor, **values)

    db.session.rollback()
    assert list(caught.value.errors) == ["code"]


def test_the_list_shows_drafts_and_published_programs(client, db, coordinator):
    published = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                       hours=(8, 8, 12, 12, 16, 16))
    factories.make_intake(published)
    factories.make_intake(published)
    factories.make_program(code="DR", title_en="A draft", published=False, hours=(10,))
    db.session.commit()

    page = client.get("/manage/programs").get_data(as_text=True)

    assert "Investment Ecosystem" in page and "A draft" in page
    assert ">72<" in page and ">10<" in page
    assert ">2<" in page  # intakes of IE
    assert "Draft" in page and "Published" in page
    assert f'href="/manage/programs/{published.id}/modules"' in page
    assert 'href="/manage/programs/new"' in page


def test_the_list_page_query_count_does_not_grow_with_programs(client, db, coordinator,
                                                               count_queries):
    def queries_with(n_programs: int) -> int:
        for _ in range(n_programs):
            program = factories.make_program(published=False)
            factories.make_intake(program)
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/manage/programs").status_code == 200
        return len(statements)

    few = queries_with(3)
    many = queries_with(27)
    assert many == few


def test_unknown_program_is_404(client, coordinator):
    assert client.get("/manage/programs/999999").status_code == 404
    assert client.post("/manage/programs/999999", data={}).status_code == 404


def test_staff_see_the_manage_link_and_teachers_do_not(client, db, login_as):
    login_as("teacher")
    assert "Manage programs" not in client.get("/").get_data(as_text=True)
    login_as("coordinator")
    assert 'href="/manage/programs"' in client.get("/").get_data(as_text=True)
