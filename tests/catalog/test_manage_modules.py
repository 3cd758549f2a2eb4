"""Coordinators edit a program's modules as one list: add, change, remove, renumber."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from course_portal.catalog import services
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import Module
from tests import factories


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator")


@pytest.fixture
def program(db):
    program = factories.make_program(code="IE", hours=(8, 12, 16))
    db.session.commit()
    return program


def modules_of(db, program) -> list[Module]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Module).where(Module.program_id == program.id).order_by(Module.position)))


def rows_form(rows: list[dict]) -> dict:
    """The POST body of the modules page for these rows."""
    data = {}
    for index, row in enumerate(rows):
        for name, value in row.items():
            if value is None or value is False:
                continue
            data[f"modules-{index}-{name}"] = "y" if value is True else str(value)
    return data


def current_rows(program) -> list[dict]:
    return [
        {"id": m.id, "position": m.position, "title_en": m.title_en, "title_zh": m.title_zh,
         "title_ru": m.title_ru, "hours": m.hours}
        for m in program.modules
    ]


def test_the_page_lists_the_modules_empty_rows_and_the_total(client, coordinator, program):
    page = client.get(f"/manage/programs/{program.id}/modules").get_data(as_text=True)

    assert "Total: 36 academic hours" in page
    assert 'value="Module 3"' in page
    assert "Row 6" in page and "Row 7" not in page  # three modules and three empty rows
    assert re.search(r'<input id="modules-3-position"[^>]* value="4"', page)


def test_add_change_and_remove_modules_keeps_ids_and_updates_the_public_total(
        client, db, coordinator, program):
    first, second, third = (m.id for m in modules_of(db, program))
    rows = current_rows(program)
    rows[0]["hours"] = 10                      # change
    rows[1]["remove"] = True                   # remove
    rows.append({"position": 4, "title_en": "Digital finance", "title_zh": "数字金融",
                 "title_ru": "Цифровые финансы", "hours": 20})   # add in an empty row
    rows.append({"position": 5})               # an empty row stays empty

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert response.status_code == 302
    modules = modules_of(db, program)
    assert [(m.position, m.title_en, m.hours) for m in modules] == [
        (1, "Module 1", 10), (2, "Module 3", 16), (3, "Digital finance", 20)]
    assert modules[0].id == first and modules[1].id == third
    assert second not in {m.id for m in modules}
    assert modules[2].title_zh == "数字金融"
    assert "The modules are saved: 46 academic hours in total." in client.get(
        f"/manage/programs/{program.id}/modules").get_data(as_text=True)

    public = client.get("/programs/IE").get_data(as_text=True)
    assert ">46<" in public
    assert "Digital finance" in public and "Module 2" not in public


def test_reordering_by_numbers_swaps_modules_in_place(client, db, coordinator, program):
    first, second, third = modules_of(db, program)
    rows = current_rows(program)
    rows[0]["position"], rows[2]["position"] = 3, 1

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert response.status_code == 302
    assert [m.id for m in modules_of(db, program)] == [third.id, second.id, first.id]


def test_numbers_with_gaps_are_renumbered(client, db, coordinator, program):
    rows = current_rows(program)
    rows[0]["position"], rows[1]["position"], rows[2]["position"] = 10, 20, 30

    client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert [m.position for m in modules_of(db, program)] == [1, 2, 3]


def test_two_modules_with_one_number_are_refused_on_the_field(client, db, coordinator, program):
    rows = current_rows(program)
    rows[2]["position"] = 1
    rows[2]["hours"] = 99

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another module already has the number 1: give each module its own." in page
    assert "Some fields need attention" in page
    assert 'value="99"' in page  # what was typed is kept
    assert [m.hours for m in modules_of(db, program)] == [8, 12, 16]


@pytest.mark.parametrize(("hours", "message"), [
    ("0", "Enter a number from 1 to 200."),
    ("201", "Enter a number from 1 to 200."),
    ("-5", "Enter a number from 1 to 200."),
    ("eight", "Enter a whole number."),
    ("", "Give the academic hours."),
])
def test_hours_must_be_from_1_to_200(client, db, coordinator, program, hours, message):
    rows = current_rows(program)
    rows.append({"position": 4, "title_en": "New", "hours": hours or None})

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert message in response.get_data(as_text=True)
    assert len(modules_of(db, program)) == 3


def test_a_new_row_needs_an_english_title(client, db, coordinator, program):
    rows = current_rows(program)
    rows.append({"position": 4, "title_zh": "新模块", "hours": 8})

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    page = response.get_data(as_text=True)
    assert "Give the module a title in English." in page
    assert 'value="新模块"' in page


@pytest.mark.parametrize(("value", "message"), [
    ("Mod\x00ule", "Remove the invisible control character U+0000"),
    ("x" * 10_000, "Shorten this to 300 characters; it has 10000 now."),
    ("{{ 7*7 }}", "A title cannot contain"),
    ("<script>alert(1)</script>", "A title cannot contain"),
])
def test_hostile_module_titles_get_field_messages(client, db, coordinator, program, value,
                                                  message):
    rows = current_rows(program)
    rows[1]["title_ru"] = value

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert modules_of(db, program)[1].title_ru == "Модуль 2"


def test_a_module_of_another_program_cannot_be_edited_through_this_one(client, db, coordinator,
                                                                       program):
    other = factories.make_program(code="IS", hours=(5,))
    db.session.commit()
    foreign_id = other.modules[0].id
    rows = current_rows(program)
    rows[0]["id"] = foreign_id

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert "changed or removed meanwhile" in response.get_data(as_text=True)
    assert modules_of(db, other)[0].hours == 5
    assert len(modules_of(db, program)) == 3


def test_a_hidden_id_that_is_not_a_number_is_refused(client, db, coordinator, program):
    rows = current_rows(program)
    rows[0]["id"] = "1 OR 1=1"

    response = client.post(f"/manage/programs/{program.id}/modules", data=rows_form(rows))

    assert "Enter a whole number." in response.get_data(as_text=True)
    assert len(modules_of(db, program)) == 3


def test_save_modules_updates_by_id_and_reports_what_changed(db, program):
    actor = factories.make_user(role="coordinator")
    first, second, third = modules_of(db, program)
    rows = [
        {"id": third.id, "position": 1, "title_en": "Module 3", "title_zh": "模块3",
         "title_ru": "Модуль 3", "hours": 16},
        {"id": first.id, "position": 2, "title_en": "Module 1", "title_zh": "模块1",
         "title_ru": "Модуль 1", "hours": 8},
        {"id": None, "position": 3, "title_en": "Extra", "title_zh": "", "title_ru": "",
         "hours": 4},
    ]

    counts = services.save_modules(program, rows, actor=actor)
    db.session.commit()

    assert counts == {"added": 1, "changed": 2, "removed": 1}
    modules = modules_of(db, program)
    assert [m.id for m in modules[:2]] == [third.id, first.id]
    assert program.total_hours == 28


def test_save_modules_refuses_bad_rows_without_changing_anything(db, program):
    actor = factories.make_user(role="coordinator")
    rows = [{"id": None, "position": 1, "title_en": "", "hours": 0},
            {"id": None, "position": 1, "title_en": "B", "hours": 3}]

    with pytest.raises(CatalogError) as caught:
        services.save_modules(program, rows, actor=actor)

    assert set(caught.value.errors) == {
        "modules.0.title_en", "modules.0.hours", "modules.1.position"}
    db.session.rollback()
    assert len(modules_of(db, program)) == 3


def test_unknown_program_modules_page_is_404(client, coordinator):
    assert client.get("/manage/programs/999999/modules").status_code == 404
