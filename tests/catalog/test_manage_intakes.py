"""Coordinators create and edit intakes, set partner quotas, and open or close applications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from course_portal.catalog import intakes, services
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import Intake, Program
from course_portal.core.clock import portal_today
from course_portal.enrollment.models import IntakeQuota
from tests import factories

TODAY = portal_today()


@pytest.fixture
def coordinator(login_as):
    return login_as("coordinator")


@pytest.fixture
def program(db):
    program = factories.make_program(code="IE", title_en="Investment Ecosystem")
    db.session.commit()
    return program


@pytest.fixture
def partners(db):
    partners = [
        factories.make_partner("Tianshui Pedagogical University", name_zh="天水师范学院"),
        factories.make_partner("Datong University", name_zh="山西大同大学"),
    ]
    db.session.commit()
    return partners


def intake_form(partners=(), quotas=(), **overrides) -> dict:
    data = {
        "title": "Spring 2027",
        "starts_on": (TODAY + timedelta(days=30)).isoformat(),
        "ends_on": (TODAY + timedelta(days=120)).isoformat(),
        "applications_open_on": (TODAY - timedelta(days=5)).isoformat(),
        "applications_close_on": (TODAY + timedelta(days=20)).isoformat(),
        "capacity": "25",
        "is_open": "y",
    }
    quotas = list(quotas) + [""] * (len(partners) - len(quotas))
    for index, (partner, seats) in enumerate(zip(partners, quotas, strict=True)):
        data[f"quotas-{index}-partner_university_id"] = str(partner.id)
        data[f"quotas-{index}-seats"] = str(seats)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def intakes_of(db, program) -> list[Intake]:
    db.session.expire_all()
    return list(db.session.scalars(select(Intake).where(Intake.program_id == program.id)))


def quotas_of(db, intake) -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    rows = db.session.scalars(select(IntakeQuota).where(IntakeQuota.intake_id == intake.id))
    return {q.partner_university_id: (q.seats, q.seats_taken) for q in rows}


def test_create_an_intake_with_a_quota(client, db, coordinator, program, partners):
    page = client.get(f"/manage/programs/{program.id}/intakes/new").get_data(as_text=True)
    assert "Tianshui Pedagogical University" in page and "Datong University" in page
    assert "may add up to more than the capacity" in page

    response = client.post(f"/manage/programs/{program.id}/intakes/new",
                           data=intake_form(partners, quotas=[5, ""]))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/programs/{program.id}/intakes"
    (intake,) = intakes_of(db, program)
    assert (intake.title, intake.capacity, intake.seats_taken, intake.is_open) == (
        "Spring 2027", 25, 0, True)
    assert intake.starts_on == TODAY + timedelta(days=30)
    assert quotas_of(db, intake) == {partners[0].id: (5, 0)}

    listing = client.get(f"/manage/programs/{program.id}/intakes").get_data(as_text=True)
    assert "The intake “Spring 2027” is saved." in listing
    assert "Tianshui Pedagogical University: 0 of 5 taken" in listing
    assert "Datong University" not in listing
    assert "0 / 25" in listing
    assert "Accepting applications until" in listing

    edit = client.get(f"/manage/programs/{program.id}/intakes/{intake.id}").get_data(as_text=True)
    assert re.search(r'<input id="quotas-\d-seats"[^>]* value="5"', edit)


def test_quotas_together_may_exceed_the_capacity_and_can_be_removed(client, db, coordinator,
                                                                    program, partners):
    intake = factories.make_intake(program, capacity=10)
    db.session.commit()
    url = f"/manage/programs/{program.id}/intakes/{intake.id}"

    client.post(url, data=intake_form(partners, quotas=[8, 8], title=intake.title,
                                      capacity="10"))
    assert quotas_of(db, intake) == {partners[0].id: (8, 0), partners[1].id: (8, 0)}

    client.post(url, data=intake_form(partners, quotas=["", 3], title=intake.title,
                                      capacity="10"))
    assert quotas_of(db, intake) == {partners[1].id: (3, 0)}


@pytest.mark.parametrize(("overrides", "field_message"), [
    ({"ends_on": (TODAY + timedelta(days=10)).isoformat()}, "The intake must end after it starts."),
    ({"ends_on": (TODAY + timedelta(days=30)).isoformat()}, "The intake must end after it starts."),
    ({"applications_close_on": (TODAY + timedelta(days=31)).isoformat()},
     "Applications must close on or before the first day of the intake."),
    ({"applications_open_on": (TODAY + timedelta(days=25)).isoformat()},
     "Applications cannot close before they open."),
    ({"starts_on": "2027-02-30"}, "Give a date."),
    ({"starts_on": ""}, "This field is required."),
    ({"capacity": "-1"}, "Enter a number from 0 to 10000."),
    ({"capacity": "many"}, "Enter a whole number."),
    ({"title": ""}, "This field is required."),
    ({"title": "<script>alert(1)</script>"}, "A title cannot contain"),
    ({"title": "Spring\x002027"}, "Remove the invisible control character U+0000"),
])
def test_bad_intakes_are_refused_with_messages(client, db, coordinator, program, overrides,
                                               field_message):
    response = client.post(f"/manage/programs/{program.id}/intakes/new",
                           data=intake_form(**overrides))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_message in page
    assert "<script>alert(1)</script>" not in page
    assert intakes_of(db, program) == []


def test_an_end_before_the_start_keeps_what_was_typed(client, db, coordinator, program):
    response = client.post(f"/manage/programs/{program.id}/intakes/new", data=intake_form(
        title="Autumn 2027", ends_on="2020-01-01"))

    page = response.get_data(as_text=True)
    assert 'value="Autumn 2027"' in page
    assert 'value="2020-01-01"' in page


def test_a_title_is_unique_within_a_program(client, db, coordinator, program):
    factories.make_intake(program, title="Spring 2027")
    other = factories.make_program(code="IS")
    factories.make_intake(other, title="Autumn 2027")
    db.session.commit()

    taken = client.post(f"/manage/programs/{program.id}/intakes/new", data=intake_form())
    elsewhere = client.post(f"/manage/programs/{program.id}/intakes/new",
                            data=intake_form(title="Autumn 2027"))

    assert "This program already has an intake with this title." in taken.get_data(as_text=True)
    assert elsewhere.status_code == 302


def test_capacity_below_the_seats_taken_is_refused(client, db, coordinator, program):
    intake = factories.make_intake(program, capacity=20, seats_taken=12)
    db.session.commit()

    response = client.post(f"/manage/programs/{program.id}/intakes/{intake.id}",
                           data=intake_form(title=intake.title, capacity="11"))

    page = response.get_data(as_text=True)
    assert "12 seats are already taken: the capacity cannot be lower." in page
    assert intakes_of(db, program)[0].capacity == 20

    lowered = client.post(f"/manage/programs/{program.id}/intakes/{intake.id}",
                          data=intake_form(title=intake.title, capacity="12"))
    assert lowered.status_code == 302
    assert intakes_of(db, program)[0].capacity == 12


def test_the_capacity_update_is_conditional_on_the_seats_taken_in_the_database(db, program):
    # an approval committed after the page read seats_taken: the UPDATE still refuses
    actor = factories.make_user(role="coordinator")
    intake = factories.make_intake(program, capacity=10, seats_taken=3)
    db.session.commit()
    values = {name: getattr(intake, name) for name in services.INTAKE_FIELDS}
    db.session.execute(Intake.__table__.update().values(seats_taken=8))
    values["capacity"] = 5

    with pytest.raises(CatalogError) as caught:
        intakes.save_intake(program, intake, actor=actor, quotas={}, **values)

    assert "capacity" in caught.value.errors
    assert "8 seats" in caught.value.text()
    db.session.rollback()


def test_a_quota_below_its_seats_taken_is_refused(client, db, coordinator, program, partners):
    intake = factories.make_intake(program, capacity=20)
    teacher = factories.make_teacher(partners[0])
    factories.make_quota(intake, partners[0], seats=4)
    factories.make_application(teacher, intake, status="approved")
    factories.make_application(factories.make_teacher(partners[0]), intake, status="approved")
    db.session.commit()
    url = f"/manage/programs/{program.id}/intakes/{intake.id}"

    assert "2 taken" in client.get(url).get_data(as_text=True)
    response = client.post(url, data=intake_form(partners, quotas=[1], title=intake.title))

    assert "2 of these seats are already taken: the quota cannot be lower." in (
        response.get_data(as_text=True))
    assert quotas_of(db, intake) == {partners[0].id: (4, 2)}


def test_a_new_quota_counts_the_partners_teachers_who_already_hold_seats(client, db, coordinator,
                                                                         program, partners):
    intake = factories.make_intake(program, capacity=20)
    for _ in range(2):
        factories.make_application(factories.make_teacher(partners[1]), intake, status="approved")
    factories.make_application(factories.make_teacher(partners[1]), intake, status="submitted")
    db.session.commit()
    url = f"/manage/programs/{program.id}/intakes/{intake.id}"

    refused = client.post(url, data=intake_form(partners, quotas=["", 1], title=intake.title))
    assert "2 of these seats are already taken" in refused.get_data(as_text=True)
    assert quotas_of(db, intake) == {}

    client.post(url, data=intake_form(partners, quotas=["", 3], title=intake.title))
    assert quotas_of(db, intake) == {partners[1].id: (3, 2)}


def test_an_unknown_partner_university_is_refused(client, db, coordinator, program, partners):
    data = intake_form(partners)
    data["quotas-0-partner_university_id"] = "999999"
    data["quotas-0-seats"] = "3"

    response = client.post(f"/manage/programs/{program.id}/intakes/new", data=data)

    assert "no longer exists" in response.get_data(as_text=True)
    assert intakes_of(db, program) == []


def test_open_and_close_applications_changes_what_the_public_page_says(client, db, coordinator,
                                                                       program):
    intake = factories.make_intake(program, title="Spring 2027")
    db.session.commit()
    switch = f"/manage/programs/{program.id}/intakes/{intake.id}/applications"
    assert "Accepting applications" in client.get("/programs/IE").get_data(as_text=True)

    closed = client.post(switch, data={"is_open": "0"})

    assert closed.status_code == 302
    listing = client.get(f"/manage/programs/{program.id}/intakes").get_data(as_text=True)
    assert "“Spring 2027” no longer accepts applications." in listing
    assert "Applications are closed by a coordinator" in listing
    assert "Open applications" in listing
    public = client.get("/programs/IE").get_data(as_text=True)
    assert "Applications are closed" in public
    assert "Accepting applications" not in public
    assert "No intake is accepting applications now" in client.get("/").get_data(as_text=True)
    assert not intakes_of(db, program)[0].is_accepting_on(TODAY)

    client.post(switch, data={"is_open": "1"})

    listing = client.get(f"/manage/programs/{program.id}/intakes").get_data(as_text=True)
    assert "Close applications" in listing
    assert "Accepting applications" in client.get("/programs/IE").get_data(as_text=True)
    assert "Applications open until" in client.get("/").get_data(as_text=True)


def test_the_switch_on_the_edit_form_closes_applications(client, db, coordinator, program):
    intake = factories.make_intake(program)
    db.session.commit()

    client.post(f"/manage/programs/{program.id}/intakes/{intake.id}",
                data=intake_form(title=intake.title, is_open=None))

    assert intakes_of(db, program)[0].is_open is False


def test_the_switch_takes_only_0_or_1(client, db, coordinator, program):
    intake = factories.make_intake(program)
    db.session.commit()
    switch = f"/manage/programs/{program.id}/intakes/{intake.id}/applications"
    assert client.post(switch, data={"is_open": "maybe"}).status_code == 400
    assert client.post(switch).status_code == 400


def test_the_switch_needs_a_csrf_token(make_app, db, program):
    program_id = program.id
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        intake = factories.make_intake(db.session.get(Program, program_id))
        user = factories.make_user(role="coordinator")
        db.session.commit()
        user_id, intake_id = user.get_id(), intake.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True

    response = client.post(f"/manage/programs/{program_id}/intakes/{intake_id}/applications",
                           data={"is_open": "0"})

    assert response.status_code == 400
    assert intakes_of(db, program)[0].is_open is True


def test_an_intake_of_another_program_is_404(client, db, coordinator, program):
    other = factories.make_program(code="IS")
    intake = factories.make_intake(other)
    db.session.commit()

    assert client.get(f"/manage/programs/{program.id}/intakes/{intake.id}").status_code == 404
    assert client.post(f"/manage/programs/{program.id}/intakes/{intake.id}/applications",
                       data={"is_open": "0"}).status_code == 404
    assert client.get(f"/manage/programs/{program.id}/intakes/999999").status_code == 404
    assert client.get("/manage/programs/999999/intakes").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Intake)) == 1


def test_the_open_close_switch_is_offered_only_until_the_window_ends(client, db, coordinator,
                                                                    program):
    """After the last day of applications the switch would change nothing a teacher sees."""
    factories.make_intake(program, title="Running", applications_open_on=TODAY - timedelta(30),
                          applications_close_on=TODAY)
    factories.make_intake(program, title="Past window", starts_on=TODAY + timedelta(5),
                          applications_open_on=TODAY - timedelta(40),
                          applications_close_on=TODAY - timedelta(1))
    db.session.commit()

    listing = client.get(f"/manage/programs/{program.id}/intakes").get_data(as_text=True)
    assert 'Close applications<span class="visually-hidden"> Running</span>' in listing
    assert "The application window is over" in listing
    assert "Past window</span></button>" not in listing
    # the switch is a button like the page's others, not the browser's bare one
    assert 'name="is_open" value="0" class="secondary"' in listing


def test_staff_pages_name_the_programme_in_the_readers_language_first(client, db, login_as):
    login_as("coordinator", locale="ru")
    program = factories.make_program(code="IE", title_en="Investment Ecosystem",
                                     title_zh="投资生态系统", title_ru="Инвестиционная экосистема")
    db.session.commit()
    for path in (f"/manage/programs/{program.id}/intakes", f"/manage/programs/{program.id}/modules",
                 f"/progress/manage/programs/{program.id}/rules"):
        page = client.get(path).get_data(as_text=True)
        assert '<p class="meta">Инвестиционная экосистема</p>' in page, path
        assert "Investment Ecosystem" not in page, path
    listing = client.get("/manage/programs").get_data(as_text=True)
    assert listing.index("Инвестиционная экосистема") < listing.index("Investment Ecosystem") < (
        listing.index("投资生态系统"))
