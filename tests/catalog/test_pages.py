"""The public catalog as a visitor sees it."""

from datetime import date, timedelta

from sqlalchemy import event

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


def test_program_page_shows_modules_total_and_intake(client, db):
    program = factories.make_program(code="IS", title_en="Intellectual Systems", hours=(18, 18, 18, 18, 18, 18))
    today = date.today()
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


def test_catalog_query_count_does_not_grow_with_programs(client, db, app):
    client.application.config["PAGE_CACHE_SECONDS"] = 0  # what rendering costs, not a kept copy
    def count_queries(n_programs):
        for _ in range(n_programs):
            program = factories.make_program()
            factories.make_intake(program)
        db.session.commit()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries(2)
    many = count_queries(30)
    assert many == few
