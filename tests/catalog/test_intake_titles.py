"""An intake's title in three languages: the coordinator gives them, every reader gets theirs.

The English title stays the intake's name for the CLI, the audit log and the uniqueness rule;
a page, an email, an export or a calendar in Chinese or Russian shows the title in that
language, or the English one where none was given.
"""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale
from sqlalchemy import select

from course_portal.catalog.models import Intake
from course_portal.core.audit import AuditEvent
from course_portal.enrollment import services as enrollment
from course_portal.ops.demo import season_titles
from tests import factories
from tests.catalog.test_manage_intakes import intake_form, intakes_of
from tests.enrollment.helpers import outbox

TITLES = {"title": "Spring 2027", "title_zh": "2027年春季", "title_ru": "Весна 2027"}


def test_a_coordinator_gives_the_title_in_three_languages(client, db, login_as):
    login_as("coordinator")
    program = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                     title_ru="Инвестиционная экосистема")
    db.session.commit()
    form = client.get(f"/manage/programs/{program.id}/intakes/new").get_data(as_text=True)
    assert 'name="title_zh"' in form and 'name="title_ru"' in form

    response = client.post(f"/manage/programs/{program.id}/intakes/new",
                           data=intake_form(**TITLES))

    assert response.status_code == 302
    (intake,) = intakes_of(db, program)
    assert (intake.title, intake.title_zh, intake.title_ru) == tuple(TITLES.values())
    edit = client.get(f"/manage/programs/{program.id}/intakes/{intake.id}").get_data(as_text=True)
    assert 'value="2027年春季"' in edit and 'value="Весна 2027"' in edit
    # the audit log names the intake by its English title, whoever reads it
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "intake.created")).one()
    assert entry.details["intake"] == "Spring 2027"


def test_the_other_titles_are_optional_and_follow_the_title_rules(client, db, login_as):
    login_as("coordinator")
    program = factories.make_program(code="IE")
    db.session.commit()
    url = f"/manage/programs/{program.id}/intakes/new"

    refused = client.post(url, data=intake_form(title_zh="<b>春季</b>", title_ru="x" * 201))

    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "A title cannot contain" in page
    assert "Shorten this to 200 characters" in page
    assert "&lt;b&gt;春季&lt;/b&gt;" in page  # what was typed is kept, escaped
    assert intakes_of(db, program) == []

    client.post(url, data=intake_form())
    (intake,) = intakes_of(db, program)
    assert (intake.title_zh, intake.title_ru) == ("", "")


def test_each_reader_sees_the_title_in_their_language(client, db, login_as):
    program = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                     title_zh="投资生态系统", title_ru="Инвестиционная экосистема")
    factories.make_intake(program, **TITLES)
    factories.make_intake(program, title="Autumn 2027")  # no other titles given
    db.session.commit()

    pages = {language: client.get(f"/programs/{program.code}",
                                  headers={"Accept-Language": language}).get_data(as_text=True)
             for language in ("en", "zh", "ru")}
    assert "Spring 2027" in pages["en"] and "2027年春季" not in pages["en"]
    assert "2027年春季" in pages["zh"] and "Spring 2027" not in pages["zh"]
    assert "Весна 2027" in pages["ru"] and "Spring 2027" not in pages["ru"]
    for page in pages.values():
        assert "Autumn 2027" in page  # the English title where no other is given


def test_an_email_names_the_intake_in_the_teachers_language(app, db):
    program = factories.make_program(code="IE", title_zh="投资生态系统")
    intake = factories.make_intake(program, **TITLES)
    teacher = factories.make_teacher(locale="zh")
    application = factories.make_application(teacher=teacher, intake=intake)
    db.session.flush()

    enrollment.submit(application, teacher)
    db.session.flush()

    (message,) = outbox(to=teacher.email)
    assert "2027年春季" in message.body_text
    assert "Spring 2027" not in message.body_text


def test_the_staff_pages_and_the_filter_menus_read_the_readers_title(client, db, login_as):
    coordinator = login_as("coordinator", locale="ru")
    program = factories.make_program(code="IE", title_ru="Инвестиционная экосистема")
    intake = factories.make_intake(program, **TITLES)
    factories.make_application(intake=intake, status="submitted")
    db.session.commit()
    assert coordinator.locale == "ru"

    queue = client.get("/review").get_data(as_text=True)
    roster = client.get(f"/progress/manage/intakes/{intake.id}/roster").get_data(as_text=True)
    intakes = client.get(f"/manage/programs/{program.id}/intakes").get_data(as_text=True)
    assert queue.count("IE · Весна 2027") >= 2  # the row and the intake filter's menu
    assert "Spring 2027" not in queue
    assert "Весна 2027" in roster and "Spring 2027" not in roster
    assert "<h2>Весна 2027</h2>" in intakes


def test_demo_intakes_are_titled_in_three_languages():
    assert season_titles(date(2027, 3, 1)) == TITLES
    assert season_titles(date(2026, 12, 20)) == {
        "title": "Winter 2026", "title_zh": "2026年冬季", "title_ru": "Зима 2026"}


def test_a_title_falls_back_to_english_in_any_language(app):
    intake = Intake(title="Spring 2027", title_zh="", title_ru="Весна 2027")
    with app.test_request_context():
        for language, expected in (("en", "Spring 2027"), ("zh", "Spring 2027"),
                                   ("ru", "Весна 2027")):
            with force_locale(language):
                assert intake.t("title") == expected
