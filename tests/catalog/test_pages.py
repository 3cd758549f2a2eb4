"""The public catalog as a visitor sees it."""

from datetime import timedelta

from flask_babel import format_date

from course_portal.core.clock import portal_today
from tests import factories


def test_catalog_lists_published_programs_with_hours(client, db):
    program = factories.make_program(code="IE", title_en="Investment Ecosystem", hours=(8, 8, 12, 12, 16, 16))
    factories.make_program(code="HID", title_en="Hidden draft", published=False)
    factories.make_intake(program)
    db.session.commit()

    page = client.get("/").get_data(as_text=True)

    assert "Investment Ecosystem" in page
    assert "72" in page
    assert "Hidden draft" not in page
    assert "Applications open until" in page


def test_catalog_names_the_accepting_intake_that_closes_first(client, db):

    today = portal_today()
    program = factories.make_program(code="IE", title_en="Investment Ecosystem")
    later = today + timedelta(days=30)
    sooner = today + timedelta(days=9)
    factories.make_intake(program, title="Later", applications_open_on=today,
                          applications_close_on=later)
    factories.make_intake(program, title="Sooner", applications_open_on=today - timedelta(days=3),
                          applications_close_on=sooner)
    # switched off, not open yet, already closed: none of them counts
    factories.make_intake(program, title="Switched off", is_open=False,
                          applications_open_on=today, applications_close_on=today)
    factories.make_intake(program, title="Not yet", applications_open_on=today + timedelta(days=1),
                          applications_close_on=today + timedelta(days=2))
    factories.make_intake(program, title="Closed", applications_open_on=today - timedelta(days=9),
                          applications_close_on=today - timedelta(days=1))
    idle = factories.make_program(code="IS", title_en="Intellectual Systems")
    factories.make_intake(idle, title="Switched off too", is_open=False)
    db.session.commit()

    page = client.get("/").get_data(as_text=True)
    # the cards in code order: IE's, then IS's
    ie_card, is_card = page.split("Intellectual Systems", 1)

    assert f"Applications open until {format_date(sooner)}" in ie_card
    assert f"Applications open until {format_date(later)}" not in page
    assert "No intake is accepting applications now" not in ie_card
    assert "No intake is accepting applications now" in is_card


def test_program_page_shows_modules_total_and_intake(client, db):
    program = factories.make_program(code="IS", title_en="Intellectual Systems", hours=(18, 18, 18, 18, 18, 18))
    today = portal_today()
    factories.make_intake(program, title="Spring 2027", capacity=25, seats_taken=5,
                          applications_close_on=today + timedelta(days=7))
    db.session.commit()

    response = client.get("/programs/is")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Module 6" in page
    assert ">108<" in page
    assert "Spring 2027" in page
    assert "20 / 25" in page
    assert "Accepting applications" in page


def test_unpublished_and_unknown_programs_are_404(client, db):
    factories.make_program(code="DRAFT", published=False)
    db.session.commit()
    assert client.get("/programs/DRAFT").status_code == 404
    assert client.get("/programs/NOPE").status_code == 404


def test_program_in_chinese_shows_chinese_title(client, db):
    factories.make_program(code="IE", title_en="Investment Ecosystem", title_zh="投资生态系统")
    db.session.commit()
    page = client.get("/programs/IE", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "<h1>投资生态系统</h1>" in page


def test_catalog_query_count_does_not_grow_with_programs(client, db, app, count_queries):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy

    def queries_with(n_programs):
        for _ in range(n_programs):
            program = factories.make_program()
            factories.make_intake(program)
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    few = queries_with(2)
    many = queries_with(30)
    assert many == few
